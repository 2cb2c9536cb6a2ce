// One operator, started once with the manifests' account, serves the whole file; each test makes
// its own NatsCluster (a name of its own in the shared namespace), so none depends on another's
// leftovers or order.

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import { createKubeClient } from "../../runtime/kube/client.ts";
import { loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";
import { binaries } from "../harness/binaries.ts";
import { type Proc, startNatsServer, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { type fakeKubelet, setPodStatus } from "../harness/kubelet.ts";
import { startNamespacedOperator, startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
let ns: string;
let kubeconfig: string;
let operator: Proc;
let kubelet: ReturnType<typeof fakeKubelet>;
const sel = (name: string) => `app=nats,nats_cluster=${name}`;

const startOperator = () =>
  startSatellite(["run", "-operator", "-log-format", "json"], { env: { KUBECONFIG: kubeconfig }, name: "operator" });
const podsOf = async (name: string) =>
  (await kube.admin.list(kinds.Pod, ns, { labelSelector: sel(name) })).items.filter((p: any) => !p.metadata.deletionTimestamp);
const names = (list: any[]) => list.map((p) => p.metadata.name).sort((a: string, b: string) => a.localeCompare(b, "en", { numeric: true }));
const cluster = (name: string) => kube.admin.get(kinds.NatsCluster, { namespace: ns, name });
const budgetOf = async (name: string) =>
  (await kube.admin.list(kinds.PodDisruptionBudget, ns, { labelSelector: sel(name) })).items.find((b) => b.metadata?.name === name);
const configOf = async (name: string) => decodeBase64((await kube.admin.get(kinds.Secret, { namespace: ns, name })).data!["nats.conf"]!);
const create = (name: string, spec: object, apiVersion = "nats.io/v1alpha2") =>
  kube.apply([{ apiVersion, kind: "NatsCluster", metadata: { name }, spec }], { namespace: ns });
const patchSpec = (name: string, spec: object) => kube.admin.patch(kinds.NatsCluster, { namespace: ns, name }, { spec });
/** A new cluster of `size`, once the operator reports every pod Ready (the fake kubelet makes them so). */
async function readyCluster(name: string, spec: { size: number } & Record<string, unknown>) {
  await create(name, spec);
  await waitFor(`${name} ready ${spec.size}/${spec.size}`, async () => (await cluster(name)).status?.readyReplicas === spec.size);
}

beforeAll(async () => {
  await kube.installCrd();
  ns = await kube.createNamespace("operator");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  // The operator runs with the manifests' ServiceAccount and Role, nothing more.
  ({ kubeconfig, operator, kubelet } = await startNamespacedOperator(kube, ns));
});

afterAll(async () => {
  await kubelet?.stop();
  await operator?.stop();
  kube.close();
});

describe("NatsCluster operator on a real API server", () => {
  it("creates 3 pods, 2 services and a config secret with 3 routes, all owned by the cluster", async () => {
    await create("alpha", { size: 3, version: "2.14.9" });
    await waitFor("3 pods", async () => (await podsOf("alpha")).length === 3);
    expect(names(await podsOf("alpha"))).toEqual(["alpha-1", "alpha-2", "alpha-3"]);
    const svc = (await kube.admin.list(kinds.Service, ns, { labelSelector: sel("alpha") })).items;
    expect(svc.map((s: any) => s.metadata.name).sort()).toEqual(["alpha", "alpha-mgmt"]);
    const mgmt = svc.find((s: any) => s.metadata.name === "alpha-mgmt");
    expect(mgmt!.spec).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
    const conf = await configOf("alpha");
    expect(conf.match(/nats:\/\/alpha-\d\.alpha-mgmt\.[^:]+\.svc:6222/g)).toHaveLength(3);
    const uid = (await cluster("alpha")).metadata!.uid;
    await waitFor("the PodDisruptionBudget", async () => Boolean(await budgetOf("alpha")));
    const budget = (await budgetOf("alpha"))!;
    expect(budget.spec).toEqual({ minAvailable: 2, selector: { matchLabels: { app: "nats", nats_cluster: "alpha" } } });
    for (const o of [...(await podsOf("alpha")), ...svc, await kube.admin.get(kinds.Secret, { namespace: ns, name: "alpha" }), budget]) {
      expect(o.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: "NatsCluster", name: "alpha", uid, controller: true })]);
    }
    await waitFor("status Ready 3/3", async () => {
      const s = (await cluster("alpha")).status;
      return s?.readyReplicas === 3 && s.conditions?.find((c: any) => c.type === "Ready")?.status === "True";
    });
    const evs = (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=alpha" })).items;
    expect(evs.map((e: any) => e.reason)).toContain("CreatingPods");
  });

  it("renders a config that nats-server accepts (nats-server -t)", async () => {
    await create("valid", { size: 3, version: "2.14.9" });
    const conf = await waitFor("valid's config with 3 routes", async () => {
      const c = await configOf("valid");
      return (c.match(/valid-mgmt/g) ?? []).length === 3 && c;
    });
    const dir = mkdtempSync(join(tmpdir(), "sat-conf-"));
    writeFileSync(join(dir, "nats.conf"), conf);
    const run = spawnSync(binaries().NATS_SERVER_BIN, ["-t", "-c", join(dir, "nats.conf")], {
      env: { ...process.env, POD_NAME: "valid-1" },
      encoding: "utf8",
    });
    expect(run.stderr + run.stdout).toContain("is valid");
    expect(run.status).toBe(0);
  });

  it("replaces a Failed pod, and recreates a deleted pod under the same name", async () => {
    // Ready first: the fake kubelet's own status write must not overwrite the Failed one below.
    await readyCluster("heal", { size: 3 });
    const uidOf = async (name: string) => (await podsOf("heal")).find((p: any) => p.metadata.name === name)?.metadata?.uid;
    const before = await uidOf("heal-2");
    await setPodStatus(kube.admin, ns, "heal-2", { phase: "Failed", reason: "Evicted" });
    await waitFor("heal-2 replaced", async () => {
      const uid = await uidOf("heal-2");
      return uid && uid !== before;
    });
    const gone = await uidOf("heal-3");
    await kube.admin.remove(kinds.Pod, { namespace: ns, name: "heal-3" });
    await waitFor("heal-3 back", async () => {
      const uid = await uidOf("heal-3");
      return uid && uid !== gone;
    });
    expect(names(await podsOf("heal"))).toEqual(["heal-1", "heal-2", "heal-3"]);
  });

  it("scales 3 → 5 → 1, and the routes follow", async () => {
    await readyCluster("scale", { size: 3 });
    await patchSpec("scale", { size: 5 });
    await waitFor("5 pods", async () => (await podsOf("scale")).length === 5);
    await waitFor("5 routes", async () => ((await configOf("scale")).match(/scale-mgmt/g) ?? []).length === 5);
    await patchSpec("scale", { size: 1 });
    await waitFor("1 pod", async () => (await podsOf("scale")).length === 1, 30_000);
    expect(names(await podsOf("scale"))).toEqual(["scale-1"]);
    expect(((await configOf("scale")).match(/scale-mgmt/g) ?? []).length).toBe(1);
    await waitFor("the budget follows the size", async () => (await budgetOf("scale"))?.spec?.minAvailable === 0);
    await patchSpec("scale", { podDisruptionBudget: { maxUnavailable: 0 } });
    await waitFor("the budget follows the spec", async () => (await budgetOf("scale"))?.spec?.minAvailable === 1);
  });

  it("rolls a version upgrade one pod at a time, waiting for each to be Ready", async () => {
    await create("beta", { size: 3, version: "2.12.0" });
    await waitFor("beta ready", async () => (await cluster("beta")).status?.readyReplicas === 3);
    const abort = new AbortController();
    let worst = 0;
    const watching = (async () => {
      const list = await kube.admin.list(kinds.Pod, ns, { labelSelector: sel("beta") });
      const state = new Map<string, any>(list.items.map((p: any) => [p.metadata.name, p]));
      try {
        for await (const ev of kube.admin.watch(kinds.Pod, ns, {
          labelSelector: sel("beta"),
          resourceVersion: list.metadata.resourceVersion,
          signal: abort.signal,
        })) {
          if (ev.type === "DELETED") state.delete(ev.object.metadata!.name!);
          else state.set(ev.object.metadata!.name!, ev.object);
          const unavailable = ["beta-1", "beta-2", "beta-3"].filter((n) => {
            const p = state.get(n);
            return !p || p.metadata.deletionTimestamp || !p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
          }).length;
          worst = Math.max(worst, unavailable);
        }
      } catch (e) {
        if (!abort.signal.aborted) throw e;
      }
    })();
    await patchSpec("beta", { version: "2.14.9" });
    await waitFor(
      "all beta pods on 2.14.9 and ready",
      async () => {
        const list = await podsOf("beta");
        const c = await cluster("beta");
        return (
          list.length === 3 &&
          list.every((p: any) => p.spec.containers[0].image === "nats:2.14.9") &&
          c.status?.readyReplicas === 3 &&
          c.status.conditions?.find((x: any) => x.type === "Progressing")?.reason === "Complete"
        );
      },
      30_000,
    );
    abort.abort();
    await watching;
    expect(worst).toBe(1);
    const c = await cluster("beta");
    expect(c.status).toMatchObject({ currentVersion: "2.14.9", observedGeneration: c.metadata.generation });
    const order = (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=beta,reason=RollingUpdate" })).items
      .sort(
        (a: any, b: any) =>
          a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) ||
          Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion),
      )
      .map((e: any) => /replacing (beta-\d)/.exec(e.message)?.[1]);
    expect(order).toEqual(["beta-3", "beta-2", "beta-1"]);
  });

  it("the API server rejects a typo'd or mistyped field", async () => {
    await expect(create("typo", { sizee: 3 })).rejects.toMatchObject({
      message: expect.stringContaining(".spec.sizee: field not declared in schema"),
    });
    await expect(create("typo", { size: "three" })).rejects.toThrow();
    await expect(kube.admin.get(kinds.NatsCluster, { namespace: ns, name: "typo" })).rejects.toMatchObject({ status: 404 });
  });

  it("accepts the seed's v1beta1 examples as written", async () => {
    await kube.apply(manifest("examples/natscluster.yaml"), { namespace: ns, dryRun: true });
    await kube.apply(
      `apiVersion: "nats.io/v1beta1"
kind: "NatsCluster"
metadata:
  name: "nats"
spec:
  size: 3
  version: "1.0.4"
  logging:
    debug: true
    trace: true
  tls:
    serverSecret: "nats-clients-tls"
    routesSecret: "nats-routes-tls"
`,
      { namespace: ns, dryRun: true },
    );
  });

  it("paused stops all changes until cleared", async () => {
    await create("gamma", { size: 1, paused: true });
    await waitFor(
      "the Paused condition",
      async () => (await cluster("gamma")).status?.conditions?.find((c: any) => c.type === "Progressing")?.reason === "Paused",
    );
    expect(await podsOf("gamma")).toHaveLength(0);
    await patchSpec("gamma", { paused: false });
    await waitFor("gamma's pod", async () => (await podsOf("gamma")).length === 1);
  });

  it("an invalid spec is Degraded with an Event naming the problem; nothing half-created", async () => {
    await create("delta", { size: 3, tls: { serverSecret: "missing-tls" } });
    await waitFor(
      "Degraded",
      async () => (await cluster("delta")).status?.conditions?.find((c: any) => c.type === "Degraded")?.status === "True",
    );
    const degraded = (await cluster("delta")).status!.conditions!.find((c: any) => c.type === "Degraded")!;
    expect(degraded.message).toBe(`spec.tls.serverSecret: secret "missing-tls" not found in namespace "${ns}"`);
    const evs = (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=delta,reason=InvalidSpec" })).items;
    expect(evs.map((e: any) => [e.type, e.message])).toEqual([["Warning", degraded.message]]);
    expect(await podsOf("delta")).toHaveLength(0);
    await expect(kube.admin.get(kinds.Secret, { namespace: ns, name: "delta" })).rejects.toMatchObject({ status: 404 });
    // Supplying the secret heals it.
    await kube.admin.create(kinds.Secret, {
      metadata: { name: "missing-tls", namespace: ns },
      stringData: { "ca.pem": "x", "server.pem": "y", "server-key.pem": "z" },
    });
    await waitFor("delta's pods", async () => (await podsOf("delta")).length === 3);
  });

  it("a reconcile the API server refuses is visible: a Warning Event and a condition, once; it heals when the cause goes", async () => {
    // A pod that is not the cluster's already has the name of its first server: every create is refused.
    await kube.admin.create(kinds.Pod, {
      metadata: { name: "iota-1", namespace: ns },
      spec: { containers: [{ name: "x", image: "busybox" }] },
    });
    await create("iota", { size: 1 });
    const progressing = async () => (await cluster("iota")).status?.conditions?.find((c: any) => c.type === "Progressing");
    await waitFor("Progressing=False ReconcileFailed", async () => (await progressing())?.reason === "ReconcileFailed");
    expect((await progressing())?.message).toMatch(
      /^the last reconcile failed and is retried with backoff: .*pods "iota-1" already exists/,
    );
    const failures = async () =>
      (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=iota,reason=ReconcileFailed" })).items;
    await waitFor("the ReconcileFailed Event", async () => (await failures()).length > 0);
    // Let retries happen: the same failure is not recorded again.
    await waitForLog(operator, /reconcile failed; retrying.*iota.*retryInMs/);
    await new Promise((r) => setTimeout(r, 1_000)); // retries go on (50, 100, 200, 400 ms …); nothing new may be recorded
    expect((await failures()).map((e: any) => [e.type, e.count])).toEqual([["Warning", 1]]);
    await kube.admin.remove(kinds.Pod, { namespace: ns, name: "iota-1" });
    await waitFor("iota's own pod", async () => (await podsOf("iota")).length === 1, 30_000);
    await waitFor("Progressing no longer ReconcileFailed", async () => (await progressing())?.reason !== "ReconcileFailed", 30_000);
  });

  it("a changed auth secret or config API routes file rewrites the config, without restarting pods", async () => {
    await kube.admin.create(kinds.Secret, {
      metadata: { name: "eps-auth", namespace: ns },
      stringData: { "clients-auth.json": JSON.stringify({ users: [{ username: "a", password: "b" }] }) },
    });
    await create("eps", { size: 2, auth: { clientsAuthSecret: "eps-auth" } });
    await waitFor("eps ready", async () => (await cluster("eps")).status?.readyReplicas === 2);
    const uids = (await podsOf("eps")).map((p: any) => p.metadata.uid).sort();
    await kube.admin.patch(
      kinds.Secret,
      { namespace: ns, name: "eps-auth" },
      {
        stringData: {
          "clients-auth.json": JSON.stringify({
            users: [
              { username: "a", password: "b" },
              { username: "newuser", password: "c" },
            ],
          }),
        },
      },
    );
    await waitFor("the new user in the config", async () => (await configOf("eps")).includes("newuser"));
    const cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "eps-config" });
    await kube.admin.replace(kinds.ConfigMap, {
      ...cm,
      data: { "routes.json": JSON.stringify({ name: "EPS_REMOTE", routes: ["nats://far-away:6222"] }) },
    });
    await waitFor("the routes file in the config", async () => (await configOf("eps")).includes("nats://far-away:6222"));
    expect(await configOf("eps")).toMatch(/name: "?EPS_REMOTE"?/);
    expect((await podsOf("eps")).map((p: any) => p.metadata.uid).sort()).toEqual(uids);
  });

  it("clusterAuthSecret: missing, Degraded naming it and no pod; once there, routes with its credentials; a new password rewrites the config without restarting pods", async () => {
    const password = "first p@ss/word";
    await create("mu", { size: 2, auth: { clusterAuthSecret: "mu-routes" } });
    const degraded = async () => (await cluster("mu")).status?.conditions?.find((c: any) => c.type === "Degraded");
    await waitFor("Degraded naming the Secret", async () => (await degraded())?.status === "True");
    expect((await degraded())!.message).toContain(`spec.auth.clusterAuthSecret: secret "mu-routes" not found in namespace "${ns}"`);
    expect(await podsOf("mu")).toEqual([]);

    // nats-operator's Secret, as its users made it: the JSON under a key of their choosing.
    await kube.admin.create(kinds.Secret, {
      metadata: { name: "mu-routes", namespace: ns },
      stringData: { "routes.json": JSON.stringify({ username: "mu", password }) },
    });
    await waitFor("mu ready", async () => (await cluster("mu")).status?.readyReplicas === 2, 30_000);
    const conf = await configOf("mu");
    expect(conf).toContain(`nats://mu:first%20p%40ss%2Fword@mu-1.mu-mgmt.${ns}.svc:6222`);
    expect(conf).toMatch(/authorization \{\n\s+user: "mu"\n\s+password: "first p@ss\/word"\n\s+\}/);
    const uids = (await podsOf("mu")).map((p: any) => p.metadata.uid).sort();

    await kube.admin.patch(
      kinds.Secret,
      { namespace: ns, name: "mu-routes" },
      { stringData: { "routes.json": JSON.stringify({ username: "mu", password: "second" }) } },
    );
    await waitFor("the new password in the config", async () =>
      (await configOf("mu")).includes(`nats://mu:second@mu-1.mu-mgmt.${ns}.svc:6222`),
    );
    expect((await podsOf("mu")).map((p: any) => p.metadata.uid).sort()).toEqual(uids);
    const events = JSON.stringify((await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=mu" })).items);
    for (const text of [events, JSON.stringify((await cluster("mu")).status), operator.log()]) {
      expect(text).not.toContain("p@ss");
      expect(text).not.toContain("p%40ss");
    }
  });

  it("a config.put over NATS for an operator-managed cluster changes what the operator renders", async () => {
    // A cluster whose routes file someone already edited: the put's reply reports the change from it.
    await readyCluster("theta", { size: 2 });
    const cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "theta-config" });
    await kube.admin.replace(kinds.ConfigMap, {
      ...cm,
      data: { "routes.json": JSON.stringify({ name: "THETA_REMOTE", routes: ["nats://far-away:6222"] }) },
    });
    await waitFor("the routes file in the config", async () => (await configOf("theta")).includes("nats://far-away:6222"));
    const server = await startNatsServer({ name: "op-api" });
    const api = startSatellite(["run", "-s", server.url, "-name", "theta"], { env: { KUBECONFIG: kubeconfig }, name: "config API" });
    try {
      await waitForLog(api, "serving config API");
      const nc = await connect({ servers: server.url });
      const reply = JSON.parse(
        (
          await nc.request("_SAT.theta.config.put", JSON.stringify({ name: "THETA_NATS", routes: ["nats://ground-link:6222"] }), {
            timeout: 5_000,
          })
        ).string(),
      );
      await nc.close();
      expect(reply).toMatchObject({
        ok: true,
        managedBy: "NatsCluster/theta",
        changed: true,
        changes: {
          name: { from: "THETA_REMOTE", to: "THETA_NATS" },
          routesAdded: ["nats://ground-link:6222"],
          routesRemoved: ["nats://far-away:6222"],
        },
      });
      await waitFor("the operator to render the put", async () => (await configOf("theta")).includes("nats://ground-link:6222"));
      const conf = await configOf("theta");
      expect(conf).toMatch(/name: "?THETA_NATS"?/);
      expect(conf).not.toContain("far-away");
      expect(conf).toContain("theta-1.theta-mgmt");
    } finally {
      await api.stop();
      await server.stop();
    }
  });

  it("gives the reloader of a cluster its own account, allowed to read only that cluster's config", async () => {
    await create("eta", { size: 1, pod: { enableConfigReload: true } });
    await waitFor("eta's pod", async () => (await podsOf("eta")).length === 1);
    const pod = (await podsOf("eta"))[0]!;
    expect(pod.spec!.serviceAccountName).toBe("eta-reloader");
    expect(pod.spec!.containers.map((c: any) => c.name)).toEqual(["nats", "reloader"]);
    // Another cluster's config, which the reloader must not read.
    await kube.admin.create(kinds.Secret, {
      metadata: { name: "not-eta", namespace: ns },
      stringData: { "nats.conf": "# another cluster's" },
    });
    const client = createKubeClient(loadKubeconfig(kube.kubeconfigFor(await kube.tokenFor(ns, "eta-reloader"), ns, "eta-reloader")));
    try {
      await waitFor("the reloader's Role to take effect", () =>
        client.get(kinds.Secret, { namespace: ns, name: "eta" }).catch(() => undefined),
      );
      expect((await client.list(kinds.Secret, ns, { fieldSelector: "metadata.name=eta" })).items).toHaveLength(1);
      expect((await client.get(kinds.Secret, { namespace: ns, name: "not-eta" }).catch((e) => e)).status).toBe(403);
    } finally {
      client.close();
    }
  });

  it("converges to the same result when restarted in the middle of a scale-up", async () => {
    await create("zeta", { size: 2 });
    await waitFor("zeta ready", async () => (await cluster("zeta")).status?.readyReplicas === 2);
    const before = new Map((await podsOf("zeta")).map((p: any) => [p.metadata.name, p.metadata.uid]));
    kubelet.pause(true);
    try {
      // Kill the operator as soon as the first new pod appears: in the middle of its creates.
      const abort = new AbortController();
      const list = await kube.admin.list(kinds.Pod, ns, { labelSelector: sel("zeta") });
      const killed = (async () => {
        try {
          for await (const ev of kube.admin.watch(kinds.Pod, ns, {
            labelSelector: sel("zeta"),
            resourceVersion: list.metadata.resourceVersion,
            signal: abort.signal,
          })) {
            if (ev.type === "ADDED") {
              operator.signal("SIGKILL");
              return (await podsOf("zeta")).length;
            }
          }
        } catch (e) {
          if (!abort.signal.aborted) throw e;
        }
      })();
      await patchSpec("zeta", { size: 6 });
      const podsWhenKilled = await killed;
      abort.abort();
      await operator.exited;
      console.log(`zeta: operator killed with ${podsWhenKilled} of 6 pods created`);
      operator = startOperator();
      await waitForLog(operator, "operator caches synced");
    } finally {
      // Whatever failed above, the tests after this one still get a running operator and kubelet.
      kubelet.pause(false);
      if (!operator.running()) {
        operator = startOperator();
        await waitForLog(operator, "operator caches synced");
      }
    }
    await waitFor("zeta at 6 ready", async () => (await cluster("zeta")).status?.readyReplicas === 6, 30_000);
    const after = await podsOf("zeta");
    expect(names(after)).toEqual(["zeta-1", "zeta-2", "zeta-3", "zeta-4", "zeta-5", "zeta-6"]);
    for (const [name, uid] of before) expect(after.find((p: any) => p.metadata.name === name)!.metadata!.uid).toBe(uid);
  });
});
