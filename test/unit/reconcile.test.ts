import { describe, expect, it } from "vitest";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { clientsAuthKey } from "../../handlers/operator/server-config.ts";
import type { Pod, Secret, Service } from "../../handlers/types.ts";
import { condition, image, natsCluster, now, runningPod, secret, summary, view } from "./operator-fixtures.ts";

/** The objects a first reconcile creates, as the API server would return them. */
function converged(c: ReturnType<typeof natsCluster>, size: number) {
  const first = reconcileCluster(view(c));
  const created = (kind: string) => first.changes.filter((x) => x.op === "create" && x.kind === kind).map((x) => (x as any).object);
  const pods: Pod[] = Array.from({ length: size }, (_, i) => runningPod(c, i + 1));
  return view(c, {
    pods,
    services: created("Service") as Service[],
    configSecret: created("Secret")[0] as Secret,
    routesConfigMap: created("ConfigMap")[0],
  });
}

describe("cluster.create", () => {
  it("creates config, routes file, both services and all pods at once, each owned by the cluster", () => {
    const r = reconcileCluster(view(natsCluster({ size: 3, version: "2.14.9" })));
    expect(summary(r)).toEqual([
      "create ConfigMap demo-config",
      "create Secret demo",
      "create Service demo",
      "create Service demo-mgmt",
      "create Pod demo-1",
      "create Pod demo-2",
      "create Pod demo-3",
    ]);
    for (const ch of r.changes) {
      if (ch.op === "delete" || ch.op === "reload" || ch.op === "remove-peer" || ch.op === "token")
        throw new Error("no deletes or server requests expected");
      expect(ch.object.metadata?.ownerReferences).toEqual([
        { apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", name: "demo", uid: "uid-demo", controller: true, blockOwnerDeletion: true },
      ]);
    }
    expect(r.events).toEqual([{ type: "Normal", reason: "CreatingPods", message: "creating demo-1, demo-2, demo-3" }]);
    expect(condition(r, "Progressing")).toMatchObject({ status: "True", reason: "CreatingPods" });
    expect(r.status).toMatchObject({ size: 0, readyReplicas: 0, observedGeneration: 1 });
  });

  it("renders a config with the cluster name and a route to every pod", () => {
    const r = reconcileCluster(view(natsCluster({ size: 3 })));
    const s = r.changes.find((x) => x.op === "create" && x.kind === "Secret") as any;
    const conf = decodeBase64(s.object.data["nats.conf"]);
    expect(conf).toMatch(/name: "?demo"?/);
    for (const i of [1, 2, 3]) expect(conf).toContain(`nats://demo-${i}.demo-mgmt.ns1.svc:6222`);
  });

  it("gives pods stable DNS names, the labels, the lame-duck preStop hook and the hash annotation", () => {
    const r = reconcileCluster(view(natsCluster({ size: 1, version: "2.14.9", pod: { labels: { team: "x" } } })));
    const pod = (r.changes.find((x) => x.op === "create" && x.kind === "Pod") as any).object as Pod;
    expect(pod.spec).toMatchObject({ hostname: "demo-1", subdomain: "demo-mgmt" });
    expect(pod.metadata?.labels).toEqual({ team: "x", app: "nats", nats_cluster: "demo", nats_version: "2.14.9" });
    expect(pod.metadata?.annotations?.["nats.io/pod-template-hash"]).toMatch(/^[0-9a-f]{10}$/);
    expect(pod.spec?.containers[0]?.image).toBe("nats:2.14.9");
    expect(pod.spec?.containers[0]?.lifecycle?.preStop?.exec?.command).toEqual(["nats-server", "--signal", "ldm=/var/run/nats/nats.pid"]);
  });

  it("adds the reloader (satellite's own image) with its own account, an init container and a shared process namespace when asked", () => {
    const r = reconcileCluster(view(natsCluster({ size: 1, pod: { enableConfigReload: true, enableMetrics: true } })));
    expect(summary(r)).toEqual([
      "create ConfigMap demo-config",
      "create Secret demo",
      "create ServiceAccount demo-reloader",
      "create Role demo-reloader",
      "create RoleBinding demo-reloader",
      "create Service demo",
      "create Service demo-mgmt",
      "create Pod demo-1",
    ]);
    const role = (r.changes.find((x) => x.op === "create" && x.kind === "Role") as any).object;
    expect(role.rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["demo"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["events"], verbs: ["create"] },
    ]);
    const pod = (r.changes.find((x) => x.op === "create" && x.kind === "Pod") as any).object as Pod;
    expect(pod.spec?.shareProcessNamespace).toBe(true);
    expect(pod.spec?.serviceAccountName).toBe("demo-reloader");
    expect(pod.spec?.volumes?.find((v) => v.name === "config")).toEqual({ name: "config", emptyDir: {} });
    expect(pod.spec?.initContainers?.[0]?.args).toEqual(["reloader", "-secret", "demo", "-dir", "/etc/nats-config", "-once"]);
    expect(pod.spec?.containers[1]?.args).toEqual([
      "reloader",
      "-secret",
      "demo",
      "-dir",
      "/etc/nats-config",
      "-pid",
      "/var/run/nats/nats.pid",
      "-cluster",
      "demo",
      "-s",
      "nats://127.0.0.1:4222",
      "-monitor",
      "http://127.0.0.1:8222",
    ]);
    expect(pod.spec?.containers.map((c) => [c.name, c.image])).toEqual([
      ["nats", "nats:2.14.9"],
      ["reloader", "ghcr.io/satellite-nats/satellite:0.1.0"],
      ["metrics", "ghcr.io/satellite-nats/satellite:0.1.0"],
    ]);
  });

  it("the reloader of a client-TLS, auth cluster reports over TLS (CA and the cluster's names) as a user of its own, allowed only its reports", () => {
    const c = natsCluster({
      size: 1,
      configReload: { mode: "sidecar" },
      tls: { serverSecret: "tls", verify: true },
      auth: { clientsAuthSecret: "auth" },
    });
    const secrets = {
      tls: secret("tls", { "ca.pem": "CA", "server.pem": "C", "server-key.pem": "K" }),
      auth: secret("auth", { [clientsAuthKey]: JSON.stringify({ users: [{ username: "app", password: "pw" }] }) }),
    };
    const r = reconcileCluster(view(c, { secrets }));
    const pod = (r.changes.find((x) => x.op === "create" && x.kind === "Pod") as any).object as Pod;
    const sidecar = pod.spec!.containers[1]!;
    expect(sidecar.args!.slice(sidecar.args!.indexOf("-s"))).toEqual([
      "-s",
      "tls://127.0.0.1:4222",
      "-tlsca",
      "/etc/nats-server-tls-certs/ca.pem",
      "-tlsname",
      "demo.ns1.svc,demo.ns1.svc.cluster.local,demo.ns1,demo,$(POD_NAME).demo-mgmt.ns1.svc,$(POD_NAME).demo-mgmt.ns1.svc.cluster.local",
      "-tlscert",
      "/etc/nats-server-tls-certs/server.pem",
      "-tlskey",
      "/etc/nats-server-tls-certs/server-key.pem",
      "-user",
      "satellite-reloader",
      "-monitor",
      "http://127.0.0.1:8222",
    ]);
    expect(sidecar.env).toContainEqual({ name: "NATS_PASSWORD", valueFrom: { secretKeyRef: { name: "demo", key: "reloader-password" } } });
    expect(sidecar.volumeMounts?.map((m) => [m.name, m.readOnly])).toEqual([
      ["config", false],
      ["pid", undefined],
      ["server-tls", true],
    ]);
    const config = (r.changes.find((x) => x.op === "create" && x.kind === "Secret") as any).object as Secret;
    const conf = decodeBase64(config.data!["nats.conf"]!);
    const password = decodeBase64(config.data!["reloader-password"]!);
    expect(conf).toContain(
      `{ user: "satellite-reloader", password: "${password}", permissions: { publish: ["_SAT.demo.reload.*"], subscribe: ["_SAT.demo.reloads.ask"] } }`,
    );
  });

  it("is idempotent: a converged cluster needs no change and reports Ready", () => {
    const v = converged(natsCluster({ size: 3 }), 3);
    const r = reconcileCluster(v);
    expect(r.changes).toEqual([]);
    expect(r.events).toEqual([]);
    expect(r.status).toMatchObject({ size: 3, readyReplicas: 3, currentVersion: "2.14.9" });
    expect(condition(r, "Ready")).toMatchObject({ status: "True", lastTransitionTime: now });
    expect(condition(r, "Progressing")).toMatchObject({ status: "False", reason: "Complete" });
    expect(condition(r, "Degraded")).toMatchObject({ status: "False" });
    expect(reconcileCluster({ ...v, cluster: { ...v.cluster, status: r.status }, now: "2026-11-22T00:00:00Z" }).status).toEqual(r.status);
  });
});

describe("Services (servicePolicy, managementServicePolicy, gateway and websocket ports)", () => {
  const services = (r: ReturnType<typeof reconcileCluster>) =>
    r.changes
      .filter((x) => x.op !== "delete" && x.op !== "reload" && x.op !== "remove-peer" && x.kind === "Service")
      .map((x) => (x as any).object);

  it("carry the policies' labels under satellite's own and their annotations; the ports the spec opens", () => {
    const c = natsCluster({
      size: 1,
      servicePolicy: { labels: { team: "a", nats_cluster: "not-this" }, annotations: { "lb.example.com/internal": "true" } },
      managementServicePolicy: { labels: { scrape: "yes" } },
      gatewayConfig: {},
      websocketConfig: { port: 9222 },
      leafnodeConfig: { hostPort: 7422 },
    });
    const [client, mgmt] = services(reconcileCluster(view(c)));
    expect(client.metadata).toMatchObject({
      labels: { team: "a", nats_cluster: "demo" },
      annotations: { "lb.example.com/internal": "true" },
    });
    expect(client.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toEqual([
      ["tcp-client", 4222],
      ["websocket", 9222],
    ]);
    expect(mgmt.metadata.labels).toMatchObject({ scrape: "yes", nats_cluster: "demo" });
    expect(mgmt.metadata.annotations).toBeUndefined();
    expect(mgmt.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toEqual([
      ["cluster", 6222],
      ["monitor", 8222],
      ["gateways", 7222],
      ["leafnodes", 7422],
    ]);
  });

  it("a policy change updates the live Service; annotations others added are kept", () => {
    const c = natsCluster({ size: 1, servicePolicy: { annotations: { a: "1" } } });
    const v = converged(c, 1);
    const live = v.services!.map((svc) =>
      svc.metadata?.name === "demo" ? { ...svc, metadata: { ...svc.metadata, annotations: { a: "1", "cloud/lb-id": "x" } } } : svc,
    );
    expect(reconcileCluster({ ...v, services: live }).changes).toEqual([]);
    const changed = natsCluster({ size: 1, servicePolicy: { annotations: { a: "2" } } });
    const replaced = services(reconcileCluster({ ...v, cluster: changed, services: live }));
    expect(replaced.map((svc) => [svc.metadata.name, svc.metadata.annotations])).toEqual([["demo", { a: "2", "cloud/lb-id": "x" }]]);
  });
});

describe("scale", () => {
  it("scale up creates every missing pod at once", () => {
    const c = natsCluster({ size: 5 });
    const v = converged(natsCluster({ size: 3 }), 3);
    const r = reconcileCluster({ ...v, cluster: c });
    expect(summary(r).filter((s) => s.includes(" Pod "))).toEqual(["create Pod demo-4", "create Pod demo-5"]);
    expect(summary(r)).toContain("replace Secret demo");
    expect(summary(r)).toContain("replace PodDisruptionBudget demo");
  });

  it("scale down removes the highest index first, one at a time", () => {
    const big = natsCluster({ size: 5 });
    const v = { ...converged(big, 5), cluster: natsCluster({ size: 1 }) };
    const r1 = reconcileCluster(v);
    expect(summary(r1).filter((s) => s.includes(" Pod "))).toEqual(["delete Pod demo-5"]);
    const pods2 = v.pods.map((p) =>
      p.metadata?.name === "demo-5" ? { ...p, metadata: { ...p.metadata, deletionTimestamp: new Date() as any } } : p,
    );
    expect(summary(reconcileCluster({ ...v, pods: pods2 })).filter((s) => s.includes(" Pod "))).toEqual([]);
    const r3 = reconcileCluster({ ...v, pods: v.pods.filter((p) => p.metadata?.name !== "demo-5") });
    expect(summary(r3).filter((s) => s.includes(" Pod "))).toEqual(["delete Pod demo-4"]);
    expect(condition(r3, "Progressing")).toMatchObject({ reason: "ScalingDown" });
  });

  it("routes in the config follow the size", () => {
    const v = converged(natsCluster({ size: 3 }), 3);
    const r = reconcileCluster({ ...v, cluster: natsCluster({ size: 2 }) });
    const s = r.changes.find((x) => x.op === "replace" && x.kind === "Secret") as any;
    const conf = decodeBase64(s.object.data["nats.conf"]);
    expect(conf).toContain("demo-2.demo-mgmt");
    expect(conf).not.toContain("demo-3.demo-mgmt");
    expect(s.object.metadata.resourceVersion).toBe(v.configSecret!.metadata?.resourceVersion);
  });
});

describe("pod.failed", () => {
  it("deletes a Failed or Succeeded pod (only that very pod), to recreate it under the same name", () => {
    const c = natsCluster({ size: 3 });
    const v = converged(c, 3);
    v.pods[1] = runningPod(c, 2, { phase: "Failed" });
    v.pods[1]!.status!.reason = "Evicted";
    const r = reconcileCluster(v);
    expect(r.changes).toEqual([{ op: "delete", kind: "Pod", namespace: "ns1", name: "demo-2", uid: "uid-demo-2" }]);
    expect(r.events[0]).toMatchObject({ type: "Warning", reason: "PodFailed", message: "pod demo-2 is Failed (Evicted); replacing it" });
    const gone = reconcileCluster({ ...v, pods: v.pods.filter((p) => p.metadata?.name !== "demo-2") });
    expect(summary(gone)).toEqual(["create Pod demo-2"]);
  });

  it("leaves pods it does not control alone", () => {
    const c = natsCluster({ size: 1 });
    const v = converged(c, 1);
    const stranger = runningPod(c, 7, { phase: "Failed" });
    stranger.metadata!.ownerReferences = [];
    expect(reconcileCluster({ ...v, pods: [...v.pods, stranger] }).changes).toEqual([]);
  });
});

describe("a spec that kept a server from starting, fixed", () => {
  it("its pod, Pending under the old spec, is replaced at once, though it is not Ready", () => {
    const bad = natsCluster({ size: 3, pod: { nodeSelector: { disk: "none" } } });
    const fixed = natsCluster({ size: 3 }, { generation: 3 });
    const v = converged(bad, 3);
    v.pods[2] = runningPod(bad, 3, { phase: "Pending", ready: false });
    const r = reconcileCluster({ ...v, cluster: fixed });
    expect(summary(r).filter((x) => x.includes(" Pod "))).toEqual(["delete Pod demo-3"]);
    expect(r.events).toContainEqual({
      type: "Normal",
      reason: "RollingUpdate",
      message: "replacing demo-3, which never started under the spec before",
    });
    // A pod of the old spec that runs but is not Ready is still waited for.
    v.pods[2] = runningPod(bad, 3, { ready: false });
    expect(summary(reconcileCluster({ ...v, cluster: fixed })).filter((x) => x.includes(" Pod "))).toEqual([]);
  });
});

describe("an operator upgrade (satellite's image changes)", () => {
  it("sets the new image on the reloader and metrics sidecars in place: no pod replaced, nothing else changed", () => {
    const c = natsCluster({ size: 2, pod: { enableConfigReload: true, enableMetrics: true } });
    const v = converged(c, 2);
    const podChanges = (r: ReturnType<typeof reconcileCluster>) => r.changes.filter((x) => x.kind === "Pod");
    expect(podChanges(reconcileCluster(v))).toEqual([]);
    const upgraded = { ...v, controllerImage: "ghcr.io/satellite-nats/satellite:0.2.0" };
    const r = reconcileCluster(upgraded);
    expect(summary(r).filter((x) => x.includes(" Pod "))).toEqual(["replace Pod demo-1", "replace Pod demo-2"]);
    for (const x of podChanges(r)) {
      const pod = (x as { object: Pod }).object;
      expect(pod.spec!.containers.map((k) => k.image)).toEqual([
        "nats:2.14.9",
        "ghcr.io/satellite-nats/satellite:0.2.0",
        "ghcr.io/satellite-nats/satellite:0.2.0",
      ]);
      expect(pod.spec!.initContainers!.map((k) => k.image)).toEqual([image]);
      const { containers: _, ...rest } = pod.spec!;
      const before = v.pods.find((p) => p.metadata!.name === pod.metadata!.name)!;
      const { containers: __, ...restBefore } = before.spec!;
      expect(rest).toEqual(restBefore);
      expect(pod.metadata).toEqual(before.metadata);
    }
    // Once they run it, nothing more.
    const done = reconcileCluster({ ...upgraded, pods: podChanges(r).map((x) => (x as { object: Pod }).object) });
    expect(podChanges(done)).toEqual([]);
  });
});

describe("a node that stops answering", () => {
  const lostPod = (c: ReturnType<typeof natsCluster>, index: number) => {
    const p = runningPod(c, index, { deleting: true, ready: false });
    p.spec!.nodeName = "node-b";
    p.status!.conditions!.push({ type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager" });
    return p;
  };

  it("without JetStream: the evicted pod is deleted at once and comes back under its name", () => {
    const c = natsCluster({ size: 3 });
    const v = converged(c, 3);
    v.pods[1] = lostPod(c, 2);
    const r = reconcileCluster(v);
    expect(r.changes).toEqual([{ op: "delete", kind: "Pod", namespace: "ns1", name: "demo-2", uid: "uid-demo-2", gracePeriodSeconds: 0 }]);
    expect(r.events).toContainEqual({
      type: "Warning",
      reason: "NodeLost",
      message: "node node-b of pod demo-2 stopped answering: deleting the pod at once, to start it on another node",
    });
    expect(summary(reconcileCluster({ ...v, pods: v.pods.filter((p) => p.metadata?.name !== "demo-2") }))).toEqual(["create Pod demo-2"]);
    // A pod being deleted on a node that answers is waited for, as before.
    v.pods[1] = runningPod(c, 2, { deleting: true });
    expect(reconcileCluster(v).changes).toEqual([]);
  });

  it("with JetStream: kept, its data being on that node, and the status says what to do; deleting its claim gives the data up", () => {
    const c = natsCluster({ size: 3, jetstream: { enabled: true, fileStorage: { size: "1Gi" } } });
    const claims = [1, 2, 3].map((i) => ({ metadata: { name: `jetstream-demo-${i}`, namespace: "ns1" } }));
    const pods = [runningPod(c, 1), lostPod(c, 2), runningPod(c, 3)];
    const r = reconcileCluster(view(c, { pods, claims }));
    expect(r.changes.filter((x) => x.op === "delete")).toEqual([]);
    expect(condition(r, "Progressing")).toMatchObject({ reason: "NodeLost" });
    expect(condition(r, "Progressing")?.message).toContain(
      "demo-2 (node node-b): the node stopped answering; the server's JetStream data is on its claim there, so it is not replaced until the node is back. If the node is gone for good, give the data up: kubectl delete pvc jetstream-<pod> -n ns1 --wait=false",
    );
    claims[1] = { metadata: { ...claims[1]!.metadata, deletionTimestamp: new Date(now) as never } } as never;
    const given = reconcileCluster(view(c, { pods, claims }));
    expect(given.changes.filter((x) => x.op === "delete")).toEqual([
      { op: "delete", kind: "Pod", namespace: "ns1", name: "demo-2", uid: "uid-demo-2", gracePeriodSeconds: 0 },
    ]);
  });
});

describe("rolling upgrade", () => {
  it("replaces one pod at a time, highest index first, waiting for readiness", () => {
    const old = natsCluster({ size: 3, version: "2.12.0" });
    const next = natsCluster({ size: 3, version: "2.14.9" }, { generation: 2 });
    const v = { ...converged(old, 3), cluster: next };
    const r1 = reconcileCluster(v);
    expect(summary(r1).filter((s) => s.includes("Pod"))).toEqual(["delete Pod demo-3"]);
    expect(r1.events.find((e) => e.reason === "RollingUpdate")?.message).toBe(
      "replacing demo-3 (version 2.12.0 → 2.14.9); 2 more after it",
    );
    expect(r1.status.currentVersion).toBe("2.12.0");
    // demo-3 is gone: it is created again from the new template.
    const pods2 = v.pods.filter((p) => p.metadata?.name !== "demo-3");
    const r2 = reconcileCluster({ ...v, pods: pods2 });
    const created = (r2.changes.find((x) => x.op === "create" && x.kind === "Pod") as any).object as Pod;
    expect(created.spec?.containers[0]?.image).toBe("nats:2.14.9");
    // Not Ready yet: nothing else is touched.
    const pods3 = [...pods2, runningPod(next, 3, { ready: false })];
    const r3 = reconcileCluster({ ...v, pods: pods3 });
    expect(r3.changes.filter((x) => x.kind === "Pod")).toEqual([]);
    expect(condition(r3, "Progressing")?.message).toContain("waiting for demo-3 to be Ready");
    // Ready: the next one goes.
    const pods4 = [...pods2, runningPod(next, 3)];
    expect(summary(reconcileCluster({ ...v, pods: pods4 })).filter((s) => s.includes("Pod"))).toEqual(["delete Pod demo-2"]);
  });

  it("rolls out any pod-template change, such as resources or env", () => {
    const v = converged(natsCluster({ size: 2 }), 2);
    const r = reconcileCluster({
      ...v,
      cluster: natsCluster({
        size: 2,
        pod: { resources: { limits: { memory: "1Gi" } }, natsEnv: [{ name: "GOMEMLIMIT", value: "900MiB" }] },
      }),
    });
    expect(summary(r).filter((s) => s.includes("Pod"))).toEqual(["delete Pod demo-2"]);
    expect(r.events.find((e) => e.reason === "RollingUpdate")?.message).toContain("pod spec changed");
  });

  it("does not restart pods for a config-only change: the config is rewritten to be reloaded", () => {
    const v = converged(natsCluster({ size: 2 }), 2);
    const r = reconcileCluster({
      ...v,
      cluster: natsCluster({ size: 2, natsConfig: { maxPayload: 2097152 }, extraRoutes: [{ route: "nats://far:6222" }] }),
    });
    expect(summary(r)).toEqual(["replace Secret demo"]);
    expect(decodeBase64((r.changes[0] as any).object.data["nats.conf"])).toContain("nats://far:6222");
  });
});

describe("paused and invalid specs", () => {
  it("paused: no changes at all until cleared", () => {
    const r = reconcileCluster(view(natsCluster({ size: 3, paused: true })));
    expect(r.changes).toEqual([]);
    expect(condition(r, "Progressing")).toMatchObject({ status: "False", reason: "Paused" });
  });

  it.each([
    ["size < 0", { size: -1 }, {}, "spec.size is -1: use a whole number, 0 or more"],
    ["a missing TLS secret", { tls: { serverSecret: "tls" } }, {}, 'spec.tls.serverSecret: secret "tls" not found in namespace "ns1"'],
    [
      "a TLS secret missing a key",
      {
        tls: {
          serverSecret: "tls",
          serverSecretCAFileName: "ca.pem",
          serverSecretCertFileName: "server.pem",
          serverSecretKeyFileName: "server-key.pem",
        },
      },
      { tls: secret("tls", { "ca.pem": "x", "server.pem": "y" }) },
      'spec.tls.serverSecret: secret "tls" has no key "server-key.pem" (serverSecretKeyFileName)',
    ],
    [
      "an auth secret that is not JSON",
      { auth: { clientsAuthSecret: "auth" } },
      "auth-not-json",
      /^spec\.auth\.clientsAuthSecret: secret "auth" key "clients-auth\.json": not valid JSON/,
    ],
    [
      "a lame duck duration nats-server refuses",
      { lameDuckDurationSeconds: 10 },
      {},
      "spec.lameDuckDurationSeconds is 10: nats-server needs 30 or more",
    ],
    [
      "a write deadline that is not a duration",
      { natsConfig: { write_deadline: "soon" } },
      {},
      'spec.natsConfig.write_deadline "soon" is not a duration: use e.g. "10s" or "1m30s"',
    ],
    [
      "max payload above max pending",
      { natsConfig: { maxPayload: 10, maxPending: 5 } },
      {},
      "spec.natsConfig.maxPayload (10) is larger than maxPending (5): nats-server refuses that",
    ],
    [
      "a label value the API server refuses (nats-operator's example-service-annotations.yaml)",
      { managementServicePolicy: { labels: { spin: "has great scooters" } } },
      {},
      `spec.managementServicePolicy.labels.spin is "has great scooters", which Kubernetes refuses as a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (put free text in an annotation)`,
    ],
    [
      "label and annotation keys the API server refuses",
      { pod: { annotations: { "Example.com/x": "1" } }, template: { metadata: { labels: { "-x": "y" } } } },
      {},
      /^spec\.pod\.annotations has the key "Example\.com\/x", which Kubernetes refuses: its prefix must be a DNS subdomain .*; spec\.template\.metadata\.labels has the key "-x", which Kubernetes refuses: its name must be 1 to 63 /,
    ],
  ])("%s: Degraded with the reason, an Event, nothing created or deleted", (_what, spec, secrets, message) => {
    const c = natsCluster({ size: 3, ...spec });
    const base = converged(natsCluster({ size: 3 }), 3);
    const v = {
      ...base,
      cluster: c,
      secrets: secrets === "auth-not-json" ? { auth: secret("auth", { [clientsAuthKey]: "{not json" }) } : secrets,
    };
    const r = reconcileCluster(v);
    expect(r.changes).toEqual([]);
    const degraded = condition(r, "Degraded");
    expect(degraded).toMatchObject({ status: "True", reason: "InvalidSpec" });
    if (typeof message === "string") expect(degraded?.message).toBe(message);
    else expect(degraded?.message).toMatch(message);
    expect(r.events).toEqual([{ type: "Warning", reason: "InvalidSpec", message: degraded!.message }]);
    // The same problem again: no second Event.
    expect(reconcileCluster({ ...v, cluster: { ...c, status: r.status } }).events).toEqual([]);
  });

  it("refuses to take over a Secret or Service it does not control", () => {
    const v = view(natsCluster({ size: 1 }), { configSecret: { metadata: { name: "demo", namespace: "ns1" }, data: {} } });
    const r = reconcileCluster(v);
    expect(r.changes).toEqual([]);
    expect(condition(r, "Degraded")?.message).toContain('secret "demo" already exists and is not controlled by this NatsCluster');
  });
});

describe("config API interplay", () => {
  it("the config Secret carries the routes file's revision, for config.put's wait", () => {
    const v = converged(natsCluster({ size: 1 }), 1);
    const cm = { ...v.routesConfigMap!, metadata: { ...v.routesConfigMap!.metadata, resourceVersion: "77" } };
    const r = reconcileCluster({ ...v, routesConfigMap: cm });
    expect(summary(r)).toEqual(["replace Secret demo"]);
    expect((r.changes[0] as any).object.metadata.annotations).toEqual({ "nats.io/config-revision": "77" });
    expect(r.events).toEqual([]);
  });

  it("the routes file written by config.put changes the rendered name and routes", () => {
    const v = converged(natsCluster({ size: 2 }), 2);
    const cm = {
      ...v.routesConfigMap!,
      data: { "routes.json": JSON.stringify({ name: "CLUSTER_A", routes: ["nats://another-route:6222"] }) },
    };
    const r = reconcileCluster({ ...v, routesConfigMap: cm });
    expect(summary(r)).toEqual(["replace Secret demo"]);
    const conf = decodeBase64((r.changes[0] as any).object.data["nats.conf"]);
    expect(conf).toMatch(/name: "?CLUSTER_A"?/);
    expect(conf).toContain("nats://another-route:6222");
    expect(conf).toContain("nats://demo-1.demo-mgmt.ns1.svc:6222");
  });
});

describe("configReload.mode operator", () => {
  const spec = { size: 3, configReload: { mode: "operator" as const } };
  it("no sidecar: the config Secret is mounted; it holds a system user's password, the config and the last good config", () => {
    const r = reconcileCluster({ ...view(natsCluster(spec)), entropy: "s3cret-from-runtime" });
    const s = r.changes.find((x) => x.op === "create" && x.kind === "Secret") as { object: Secret };
    const data = Object.fromEntries(Object.entries(s.object.data!).map(([k, v]) => [k, decodeBase64(v)]));
    expect(data["system-password"]).toBe("s3cret-from-runtime");
    expect(data["nats.conf"]).toContain(
      'accounts {\n  $SYS {\n    users: [\n      { user: "satellite", password: "s3cret-from-runtime" }\n    ]\n  }\n}\n',
    );
    expect(data["last-good.conf"]).toBe(data["nats.conf"]);
    const pod = r.changes.find((x) => x.op === "create" && x.kind === "Pod") as { object: Pod };
    expect(pod.object.spec?.containers.map((c) => c.name)).toEqual(["nats"]);
    expect(pod.object.spec?.shareProcessNamespace).toBeUndefined();
    expect(pod.object.spec?.volumes?.find((v) => v.name === "config")).toEqual({ name: "config", secret: { secretName: "demo" } });
    expect(pod.object.metadata?.annotations?.["nats.io/config-restart-key"]).toMatch(/^[0-9a-f]{12}$/);
  });

  it("keeps the password it made: a later reconcile with other entropy renders the same config", () => {
    const v = converged(natsCluster(spec), 0);
    const r = reconcileCluster({ ...v, entropy: "something-else" });
    expect(r.changes.filter((x) => x.kind === "Secret")).toEqual([]);
  });

  it("is refused with a sidecar too, or on nats-server before 2.11 (no config digest)", () => {
    const both = reconcileCluster(view(natsCluster({ ...spec, pod: { enableConfigReload: true } })));
    expect(condition(both, "Degraded")?.message).toMatch(/leave out pod.enableConfigReload/);
    const old = reconcileCluster(view(natsCluster({ ...spec, version: "2.10.24" })));
    expect(condition(old, "Degraded")?.message).toMatch(/needs nats-server 2.11.0 or later/);
    const mapped = reconcileCluster(
      view(natsCluster({ ...spec, tls: { serverSecret: "s", verify: true }, auth: { tlsVerifyAndMap: true } })),
    );
    expect(condition(mapped, "Degraded")?.message).toMatch(/named by their certificates \(auth.tlsVerifyAndMap\): use mode sidecar/);
  });
});

describe("in a fleet (-site)", () => {
  it("server names carry the site and namespace (a ground takes one leafnode link per server name)", () => {
    const r = reconcileCluster({ ...view(natsCluster({ size: 1 })), site: "berlin" });
    const secret = r.changes.find((x) => x.op === "create" && x.kind === "Secret") as { object: Secret };
    expect(decodeBase64(secret.object.data!["nats.conf"]!)).toContain("server_name: $SERVER_NAME\n");
    const pod = r.changes.find((x) => x.op === "create" && x.kind === "Pod") as { object: Pod };
    expect(pod.object.spec?.containers[0]?.env).toContainEqual({ name: "SERVER_NAME", value: "berlin-ns1-$(POD_NAME)" });
    const plain = reconcileCluster(view(natsCluster({ size: 1 })));
    const plainSecret = plain.changes.find((x) => x.op === "create" && x.kind === "Secret") as { object: Secret };
    expect(decodeBase64(plainSecret.object.data!["nats.conf"]!)).toContain("server_name: $POD_NAME\n");
  });
});

describe("adopting what nats-operator made", () => {
  /** A pod as nats-operator 0.8.3 makes it: our names and labels, the cluster as controller, no annotations of ours, no env. */
  function theirPod(c: ReturnType<typeof natsCluster>, index: number): Pod {
    const name = `${c.metadata.name}-${index}`;
    return {
      metadata: {
        name,
        namespace: "ns1",
        uid: `uid-${name}`,
        labels: { app: "nats", nats_cluster: c.metadata.name!, nats_version: "2.12.0" },
        annotations: { "nats.version": "2.12.0" },
        ownerReferences: [
          { apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", name: c.metadata.name!, uid: c.metadata.uid!, controller: true },
        ],
      },
      spec: {
        containers: [
          {
            name: "nats",
            image: "nats:2.12.0",
            command: ["/nats-server", "-c", "/etc/nats-config/nats.conf", "-P", "/var/run/nats/nats.pid"],
          },
        ],
      },
      status: { phase: "Running", podIP: `10.88.0.${index}`, conditions: [{ type: "Ready", status: "True" }] },
    };
  }
  const c = natsCluster({ size: 3, version: "2.12.0" });
  const theirs = [1, 2, 3].map((i) => theirPod(c, i));
  const adopting = () => ({ ...converged(c, 3), pods: theirs });

  it("pods binding a leafnode port on the node are not taken over until pod.disableLeafnodesHostPort says nothing relies on it", () => {
    const leaf = natsCluster({ size: 3, version: "2.12.0", leafnodeConfig: { hostPort: 7422 } });
    const bound = [1, 2, 3].map((i) => {
      const p = theirPod(leaf, i);
      p.spec!.containers[0]!.ports = [
        { name: "client", containerPort: 4222 },
        { name: "leaf", containerPort: 7422, hostPort: 7422 },
      ];
      return p;
    });
    const r = reconcileCluster({ ...converged(leaf, 3), pods: bound });
    expect(r.changes).toEqual([]);
    expect(condition(r, "Degraded")?.message).toContain(
      "demo-1 (made by another operator) binds the leafnodes port 7422 on its node; satellite binds no such host port",
    );
    expect(condition(r, "Degraded")?.message).toContain("then set spec.pod.disableLeafnodesHostPort: true to take this cluster over");
    const confirmed = natsCluster({ ...leaf.spec, pod: { disableLeafnodesHostPort: true } });
    expect(summary(reconcileCluster({ ...converged(confirmed, 3), pods: bound })).filter((x) => x.includes("Pod"))).toEqual([
      "replace Pod demo-1",
      "replace Pod demo-2",
      "replace Pod demo-3",
    ]);
  });

  it("takes their pods over as they run: annotates them, deletes and creates none, says so in an Event", () => {
    const r = reconcileCluster(adopting());
    expect(summary(r).filter((s) => s.includes("Pod"))).toEqual(["replace Pod demo-1", "replace Pod demo-2", "replace Pod demo-3"]);
    const replaced = r.changes.find((x) => x.op === "replace" && x.kind === "Pod") as { object: Pod };
    expect(replaced.object.metadata?.annotations).toMatchObject({ "nats.version": "2.12.0", "nats.io/adopted": now });
    expect(replaced.object.spec).toEqual(theirs[0]!.spec);
    expect(r.events).toContainEqual(
      expect.objectContaining({ reason: "Adopted", message: expect.stringContaining("demo-1, demo-2, demo-3") }),
    );
    expect(condition(r, "Progressing")).toMatchObject({ status: "False", reason: "Complete" });
    expect(condition(r, "Ready")).toMatchObject({ status: "True" });
  });

  it("marks a pod that runs another image than the spec's outdated, so it is replaced (one at a time)", () => {
    const wantsNewer = natsCluster({ size: 3, version: "2.14.9" });
    const r = reconcileCluster({ ...converged(wantsNewer, 3), pods: theirs });
    expect(summary(r).filter((s) => s.includes("Pod"))).toEqual([
      "replace Pod demo-1",
      "replace Pod demo-2",
      "replace Pod demo-3",
      "delete Pod demo-3",
    ]);
    expect(r.events).toContainEqual(
      expect.objectContaining({ reason: "Adopted", message: expect.stringContaining("replaced one at a time") }),
    );
  });

  it("names servers by HOSTNAME while their pods (without POD_NAME) share the config file, by POD_NAME after", () => {
    const conf = (r: ReturnType<typeof reconcileCluster>) => {
      const s = r.changes.find((x) => x.op === "replace" && x.kind === "Secret") as { object: Secret } | undefined;
      return s && decodeBase64(s.object.data!["nats.conf"]!);
    };
    expect(conf(reconcileCluster(adopting()))).toContain("server_name: $HOSTNAME\n");
    expect(conf(reconcileCluster(converged(c, 3)))).toBeUndefined();
  });

  it("once adopted, nothing more until a change needs new pods; then they are replaced one at a time", () => {
    const first = reconcileCluster(adopting());
    const marked = first.changes.filter((x) => x.op === "replace" && x.kind === "Pod").map((x) => (x as { object: Pod }).object);
    const after = reconcileCluster({
      ...adopting(),
      pods: marked,
      configSecret: (first.changes.find((x) => x.kind === "Secret") as any).object,
    });
    expect(after.changes).toEqual([]);
    const upgraded = natsCluster({ size: 3, version: "2.14.9" }, { generation: 2 });
    const roll = reconcileCluster({ ...adopting(), cluster: upgraded, pods: marked });
    expect(summary(roll).filter((s) => s.includes("Pod"))).toEqual(["delete Pod demo-3"]);
  });
});

describe("clients that must authenticate (spec.auth) and the operator's config API user", () => {
  const users = JSON.stringify({ users: [{ username: "app", password: "app-pw" }] });
  const c = natsCluster({ size: 1, auth: { clientsAuthSecret: "auth" } });
  const first = (over: Partial<ReturnType<typeof view>> = {}) =>
    reconcileCluster({ ...view(c), secrets: { auth: secret("auth", { [clientsAuthKey]: users }) }, ...over });
  const created = (r: ReturnType<typeof reconcileCluster>) =>
    (r.changes.find((x) => x.op === "create" && x.kind === "Secret") as { object: Secret }).object;

  it("renders a user of its own, allowed only to serve the config API, with a password kept in the config Secret", () => {
    const s = created(first());
    const conf = decodeBase64(s.data!["nats.conf"]!);
    const password = decodeBase64(s.data!["config-api-password"]!);
    expect(password).toMatch(/^[0-9a-f]{32}$/);
    expect(conf).toContain('{ user: "app", password: "app-pw" }');
    expect(conf).toContain(
      `{ user: "satellite-config-api", password: "${password}", permissions: { publish: ["_INBOX.>", "_SAT.*.reloads.ask", "_SAT.*.*.reloads.ask"], subscribe: ["_SAT.>", "$SRV.>"], allow_responses: true } }`,
    );
    const again = reconcileCluster({
      ...view(c),
      entropy: "other",
      configSecret: s,
      secrets: { auth: secret("auth", { [clientsAuthKey]: users }) },
    });
    expect(again.changes.filter((x) => x.kind === "Secret")).toEqual([]);
  });

  it("refuses a user of the same name in the Secret", () => {
    const clash = JSON.stringify({ users: [{ username: "satellite-config-api", password: "x" }] });
    const r = first({ secrets: { auth: secret("auth", { [clientsAuthKey]: clash }) } });
    expect(r.changes).toEqual([]);
    expect(condition(r, "Degraded")).toMatchObject({ status: "True", message: expect.stringContaining('"satellite-config-api"') });
  });
});
