// A fleet from one ground, on the real node: three sites (a namespace each, with its own operator
// from manifests/operator.yaml, "-site <name>") each running a NatsCluster called "nats", every one
// leafnoded to one ground nats-server on this host. From the ground, with the nats CLI: discover
// them all, put to one cluster of one site with wait, and see no other cluster change.

import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeNatsTls } from "../harness/certs.ts";
import { type NatsServer, startNatsServer } from "../harness/nats.ts";
import { monitor, onNode, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const sites = ["site-a", "site-b", "site-c"];
const ns = (site: string) => `sat-${site}`;
let ground: NatsServer;

const operatorForSite = (site: string) =>
  JSON.stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "satellite-operator" },
    spec: {
      replicas: 1,
      template: {
        spec: {
          containers: [
            { name: "satellite", args: ["run", "-operator", "-leader-elect", "-config-api", "-site", site, "-health", ":8081"] },
          ],
        },
      },
    },
  });

/** `nats req <subject>` from the ground with a put of `routes` that waits for the reload; its reply. */
const putFromGround = async (subject: string, routes: string[]) => {
  const out = await node.nats("-s", ground.url, "req", subject, JSON.stringify({ routes, wait: "20s" }), "--timeout=25s", "--raw");
  return JSON.parse(out.trim().split("\n").at(-1)!);
};

const routesOf = async (site: string) =>
  JSON.parse((await node.kubectlJson("get", "configmap", "nats-config", "-n", ns(site))).data["routes.json"]);
const revisionOf = async (site: string) =>
  (await node.kubectlJson("get", "configmap", "nats-config", "-n", ns(site))).metadata.resourceVersion;

describe.runIf(!node.info.unavailable).sequential("a fleet of three sites from one ground", () => {
  skipAfterAFailedStep();
  beforeAll(async () => {
    ground = await startNatsServer({ name: "ground", host: "10.89.0.1", leafListen: true });
  });
  afterAll(async () => {
    if (!node.info.unavailable) for (const s of sites) await node.kubectl("delete", "namespace", ns(s), "--wait=false");
    await ground?.stop();
  });

  it('each site: its operator (one replica, -site) and a NatsCluster "nats" linked to the ground', async () => {
    for (const site of sites) {
      await node.createRestrictedNamespace(ns(site));
      await node.applyManifests(ns(site), { only: ["crd.yaml", "operator.yaml"], patches: [operatorForSite(site)] });
      await node.apply(
        JSON.stringify({
          apiVersion: "nats.io/v1alpha2",
          kind: "NatsCluster",
          metadata: { name: "nats", namespace: ns(site) },
          spec: {
            size: 1,
            version: node.info.images.natsVersion,
            configReload: { mode: "operator" },
            leafnodeConfig: { remotes: [{ url: `nats://10.89.0.1:${ground.leafPort}` }] },
          },
        }),
      );
    }
    for (const site of sites) await node.readyPods(ns(site), "nats_cluster=nats", 1, 120_000);
    await waitFor("3 leafnode links at the ground", async () => (await ground.monitor("leafz")).leafnodes >= 3, 60_000, 250);
  }, 300_000);

  it("_SAT.discover from the ground lists every cluster of every site (nats req --replies=0)", async () => {
    const replies = await waitFor(
      "a discover reply from every site",
      async () => {
        const out = await node.nats("-s", ground.url, "req", "_SAT.discover", "", "--replies=0", "--timeout=2s", "--raw");
        const got = out
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l));
        return got.length >= 3 && got;
      },
      60_000,
      1_000,
    );
    expect(replies.map((r: { site: string }) => r.site).sort()).toEqual(sites);
    for (const r of replies) {
      expect(r).toMatchObject({
        ok: true,
        cluster: "nats",
        namespace: ns(r.site),
        natsVersion: node.info.images.natsVersion,
        servers: { ready: 1, total: 1 },
      });
      expect(r.subjects.put).toBe(`_SAT.${r.site}.nats.config.put`);
    }
    const ls = await node.nats("-s", ground.url, "micro", "ls");
    expect(ls.match(/satellite/g)?.length).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it("a put with wait to site-b's cluster is confirmed; the other sites' clusters do not change", async () => {
    const before = { a: await revisionOf("site-a"), c: await revisionOf("site-c") };
    const reply = await putFromGround("_SAT.site-b.nats.config.put", ["nats://b-extra.example:6222"]);
    expect(reply).toMatchObject({
      ok: true,
      site: "site-b",
      changed: true,
      reload: { complete: true, ok: true, servers: [{ pod: "nats-1", state: "reloaded" }] },
    });
    expect((await routesOf("site-b")).routes).toEqual(["nats://b-extra.example:6222"]);
    const [pod] = await node.readyPods(ns("site-b"), "nats_cluster=nats", 1);
    expect((await monitor(pod!.ip, "varz")).cluster.urls).toContain("b-extra.example:6222");
    expect({ a: await revisionOf("site-a"), c: await revisionOf("site-c") }).toEqual(before);
  }, 120_000);
  it("a cluster whose clients must authenticate (spec.auth) is served too, as the operator's own user", async () => {
    const users = JSON.stringify({ users: [{ username: "app", password: "app-secret" }] });
    await node.kubectl("create", "secret", "generic", "locked-auth", "-n", ns("site-a"), `--from-literal=clients-auth.json=${users}`);
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "locked", namespace: ns("site-a") },
        spec: {
          size: 1,
          version: node.info.images.natsVersion,
          configReload: { mode: "operator" },
          auth: { clientsAuthSecret: "locked-auth" },
          leafnodeConfig: { remotes: [{ url: `nats://10.89.0.1:${ground.leafPort}` }] },
        },
      }),
    );
    const [pod] = await node.readyPods(ns("site-a"), "nats_cluster=locked", 1, 120_000);
    await expect(node.nats("-s", `nats://${pod!.ip}:4222`, "pub", "x", "y")).rejects.toThrow(/Authorization Violation/i);
    await waitFor(
      "site-a's cluster locked served",
      () => node.nats("-s", ground.url, "req", "_SAT.site-a.locked.config.get", "", "--timeout=2s").catch(() => undefined),
      90_000,
      1_000,
    );
    expect(await putFromGround("_SAT.site-a.locked.config.put", ["nats://locked-extra.example:6222"])).toMatchObject({
      ok: true,
      changed: true,
      reload: { complete: true, ok: true },
    });
    expect((await monitor(pod!.ip, "varz")).cluster.urls).toContain("locked-extra.example:6222");
    // As the operator's user, nothing but the config API: what it publishes elsewhere reaches no one.
    const configSecret = await node.kubectlJson("get", "secret", "locked", "-n", ns("site-a"));
    const password = Buffer.from(configSecret.data["config-api-password"], "base64").toString();
    const app = await connect({ servers: `nats://${pod!.ip}:4222`, user: "app", pass: "app-secret" });
    const operator = await connect({ servers: `nats://${pod!.ip}:4222`, user: "satellite-config-api", pass: password });
    const got: string[] = [];
    const sub = app.subscribe("orders.>", {
      callback: (_e, m) => {
        got.push(m.subject);
      },
    });
    await app.flush();
    operator.publish("orders.new", "x");
    await operator.flush();
    app.publish("orders.control", "x");
    await waitFor("the app's own message", async () => got.includes("orders.control"));
    expect(got).toEqual(["orders.control"]);
    sub.unsubscribe();
    await Promise.all([app.close(), operator.close()]);
  }, 240_000);

  /** A 2-server cluster of site-a (sidecar mode unless `spec` says), linked to the ground; a put with wait from the ground, its reply. */
  async function clusterPut(name: string, spec: Record<string, unknown>) {
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name, namespace: ns("site-a") },
        spec: {
          size: 2,
          version: node.info.images.natsVersion,
          configReload: { mode: "sidecar" },
          leafnodeConfig: { remotes: [{ url: `nats://10.89.0.1:${ground.leafPort}` }] },
          ...spec,
        },
      }),
    );
    const pods = await node.readyPods(ns("site-a"), `nats_cluster=${name}`, 2, 120_000);
    await waitFor(
      `site-a's cluster ${name} served`,
      () => node.nats("-s", ground.url, "req", `_SAT.site-a.${name}.config.get`, "", "--timeout=2s").catch(() => undefined),
      90_000,
      1_000,
    );
    const reply = await putFromGround(`_SAT.site-a.${name}.config.put`, [`nats://${name}-extra.example:6222`]);
    // Not confirmed: what each reloader said, next to the failure.
    if (reply.reload?.complete !== true && (spec.configReload as { mode?: string } | undefined)?.mode !== "operator")
      for (const p of pods)
        console.log(`--- ${p.name} reloader ---\n${await node.kubectl("logs", p.name, "-c", "reloader", "-n", ns("site-a"))}`);
    return { pods, reply };
  }

  const confirmedByEvery = (pods: { name: string }[]) => ({
    ok: true,
    changed: true,
    reload: {
      complete: true,
      ok: true,
      servers: pods.map((p) => expect.objectContaining({ pod: p.name, server: `site-a-${ns("site-a")}-${p.name}`, state: "reloaded" })),
    },
  });

  it("spec.auth in sidecar mode: every reloader reports as a user of its own, so a put with wait is confirmed by each server", async () => {
    const { pods, reply } = await clusterPut("locked-sc", { auth: { clientsAuthSecret: "locked-auth" } });
    expect(reply).toMatchObject(confirmedByEvery(pods));
    // That user publishes its reports and nothing else.
    const configSecret = await node.kubectlJson("get", "secret", "locked-sc", "-n", ns("site-a"));
    const password = Buffer.from(configSecret.data["reloader-password"], "base64").toString();
    const reloader = await connect({ servers: `nats://${pods[0]!.ip}:4222`, user: "satellite-reloader", pass: password });
    const denied = new Promise<string>((resolve) => {
      void (async () => {
        for await (const st of reloader.status()) if (st.type === "error") resolve(String(st.error));
      })();
    });
    reloader.publish("orders.new", "x");
    expect(await denied).toMatch(/Permissions Violation for Publish to "orders.new"/);
    await reloader.close();
  }, 240_000);

  it("client TLS in sidecar mode: the reloaders and -config-api connect over TLS (certificate checked for the cluster's names), a put with wait is confirmed", async () => {
    const tls = makeNatsTls(ns("site-a"), "secure");
    await node.kubectl("create", "secret", "generic", "secure-tls", "-n", ns("site-a"), ...tls.clients);
    const { pods, reply } = await clusterPut("secure", { tls: { serverSecret: "secure-tls" } });
    expect(reply).toMatchObject(confirmedByEvery(pods));
    expect((await monitor(pods[0]!.ip, "varz")).tls_required).toBe(true);
  }, 240_000);

  it("client TLS in operator mode: the operator reloads over TLS (certificate checked for the cluster's names, not pod IPs), a put with wait is confirmed", async () => {
    const tls = makeNatsTls(ns("site-a"), "secure-op");
    await node.kubectl("create", "secret", "generic", "secure-op-tls", "-n", ns("site-a"), ...tls.clients);
    const { pods, reply } = await clusterPut("secure-op", { configReload: { mode: "operator" }, tls: { serverSecret: "secure-op-tls" } });
    expect(reply).toMatchObject(confirmedByEvery(pods));
  }, 240_000);

  it("tls.verify in operator mode: the operator presents the server's own certificate, reloads and serves the API; a put with wait is confirmed", async () => {
    const tls = makeNatsTls(ns("site-a"), "verified");
    await node.kubectl("create", "secret", "generic", "verified-tls", "-n", ns("site-a"), ...tls.clients);
    const { pods, reply } = await clusterPut("verified", {
      configReload: { mode: "operator" },
      tls: { serverSecret: "verified-tls", verify: true },
    });
    expect(reply).toMatchObject(confirmedByEvery(pods));
    expect((await monitor(pods[0]!.ip, "varz")).tls_verify).toBe(true);
  }, 240_000);
});
