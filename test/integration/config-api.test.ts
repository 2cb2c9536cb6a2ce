import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { binaries } from "../harness/binaries.ts";
import { kubeconfigYaml } from "../harness/control-plane.ts";
import { freePort, type NatsServer, type Proc, startHubAndLeaf, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { startNatsServer } from "../harness/nats.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";
import { hostilePayloads } from "./hostile-payloads.ts";

const kube = useKube();
let ns: string;
let hub: NatsServer;
let leaf: NatsServer;
let ground: NatsConnection;
let controller: Proc;
let kubeconfig: string;
const started: Proc[] = [];

const dec = new TextDecoder();
async function ask(subject: string, body: unknown = "", nc = ground) {
  const m = await nc.request(subject, typeof body === "string" ? body : JSON.stringify(body), { timeout: 5_000 });
  return { body: JSON.parse(dec.decode(m.data)), headers: m.headers };
}
const readConfigMap = () => kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });

beforeAll(async () => {
  ns = await kube.createNamespace("config-api");
  await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
  await kube.apply(manifest("controller.yaml"), { namespace: ns });
  ({ hub, leaf } = await startHubAndLeaf());
  // The controller runs with the manifests' ServiceAccount and RBAC, nothing more.
  kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite"), ns, "satellite");
  controller = startSatellite(["run", "-s", leaf.url, "-name", "nats", "-log-format", "json"], { env: { KUBECONFIG: kubeconfig } });
  started.push(controller);
  await waitForLog(controller, "serving config API");
  ground = await connect({ servers: hub.url });
  await waitFor("the controller to be reachable from the ground", () => ask("_SAT.nats.config.get").then((r) => r.body.ok));
});

afterAll(async () => {
  await ground?.close();
  await Promise.all(started.map((p) => p.stop()));
  await hub?.stop();
  await leaf?.stop();
  kube.close();
});

describe("config API through a ground server and a leafnode", () => {
  it("config.get returns the example's name, routes and revision", async () => {
    const cm = await readConfigMap();
    const { body } = await ask("_SAT.nats.config.get");
    expect(body).toEqual({
      ok: true,
      cluster: "nats",
      namespace: ns,
      configMap: "nats-config",
      revision: cm.metadata!.resourceVersion,
      name: "nats",
      routes: ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222"],
      history: [],
    });
  });

  it("config.put then config.get round-trips, and the ConfigMap holds what was put", async () => {
    const routes = ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222", "nats://another-route:6222"];
    const put = await ask("_SAT.nats.config.put", { name: "CLUSTER_A", routes });
    expect(put.body).toMatchObject({
      ok: true,
      changed: true,
      name: "CLUSTER_A",
      routes,
      changes: { name: { from: "nats", to: "CLUSTER_A" }, routesAdded: ["nats://another-route:6222"] },
    });
    const get = await ask("_SAT.nats.config.get");
    expect(get.body).toMatchObject({ name: "CLUSTER_A", routes, revision: put.body.revision });
    const cm = await readConfigMap();
    expect(cm.metadata!.resourceVersion).toBe(put.body.revision);
    expect(JSON.parse(cm.data!["routes.json"]!)).toEqual({ name: "CLUSTER_A", routes });
    expect(cm.data!["nats.conf"]).toContain('include "routes.json"');
  });

  it("config.get lists the history; config.rollback returns to one of its configs, and is itself in the history", async () => {
    const seed = ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222"];
    const a = (await ask("_SAT.nats.config.put", { name: "hist-a", routes: seed })).body;
    const b = (await ask("_SAT.nats.config.put", { name: "hist-b", routes: [...seed, "nats://hist-b:6222"] })).body;
    expect(b).toMatchObject({ ok: true, changed: true });
    const history = await waitFor("the put in config.get's history", async () => {
      const got = (await ask("_SAT.nats.config.get")).body;
      return got.revision === b.revision && got.history;
    });
    expect(history[0]).toMatchObject({ revision: a.revision, name: "hist-a", routes: seed, replacedAt: expect.stringMatching(/^\d{4}-/) });
    const back = (await ask("_SAT.nats.config.rollback", { revision: a.revision })).body;
    expect(back).toMatchObject({ ok: true, changed: true, name: "hist-a", routes: seed, previousRevision: b.revision });
    const cm = await readConfigMap();
    expect(JSON.parse(cm.data!["routes.json"]!)).toMatchObject({ name: "hist-a", routes: seed });
    expect(JSON.parse(cm.metadata!.annotations!["nats.io/config-history"]!)[0]).toMatchObject({ revision: b.revision, name: "hist-b" });
    const missing = await ask("_SAT.nats.config.rollback", { revision: "1" });
    expect(missing.body.error).toMatchObject({ code: 404, message: expect.stringContaining("revision 1 is not in the history") });
  });

  it("a put that changes nothing writes nothing", async () => {
    const before = await ask("_SAT.nats.config.get");
    const put = await ask("_SAT.nats.config.put", { name: before.body.name, routes: before.body.routes });
    expect(put.body).toMatchObject({ ok: true, changed: false, revision: before.body.revision });
    expect((await readConfigMap()).metadata!.resourceVersion).toBe(before.body.revision);
  });

  it("a stale revision is a conflict and changes nothing", async () => {
    const { body: cur } = await ask("_SAT.nats.config.get");
    await ask("_SAT.nats.config.put", { routes: ["nats://x:6222"], revision: cur.revision });
    const before = await readConfigMap();
    const stale = await ask("_SAT.nats.config.put", { routes: ["nats://y:6222"], revision: cur.revision });
    expect(stale.body.error.code).toBe(409);
    expect(stale.headers?.get("Nats-Service-Error-Code")).toBe("409");
    expect(await readConfigMap()).toEqual(before);
  });

  it("50 concurrent puts lose no update and every reply is truthful", async () => {
    const bodies = Array.from({ length: 50 }, (_, i) => ({ name: `C${i}`, routes: [`nats://host-${i}:6222`, "nats://shared:6222"] }));
    const replies = await Promise.all(bodies.map((b) => ask("_SAT.nats.config.put", b)));
    for (const [i, r] of replies.entries()) {
      expect(r.body, `reply ${i}`).toMatchObject({ ok: true, changed: true, name: `C${i}`, routes: bodies[i]!.routes });
    }
    const revisions = replies.map((r) => Number(r.body.revision));
    expect(new Set(revisions).size).toBe(50);
    // Each write was based on the previous one: previousRevision chains the 50 writes into one line.
    const byPrev = new Map(replies.map((r) => [r.body.previousRevision, r.body]));
    let chain = 0;
    let rv = replies.find((r) => !replies.some((o) => o.body.revision === r.body.previousRevision))!.body.revision;
    for (; byPrev.has(rv); chain++) rv = byPrev.get(rv)!.revision;
    expect(chain).toBe(49);
    const last = replies[revisions.indexOf(Math.max(...revisions))]!.body;
    const cm = await readConfigMap();
    expect(cm.metadata!.resourceVersion).toBe(last.revision);
    expect(JSON.parse(cm.data!["routes.json"]!)).toEqual({ name: last.name, routes: last.routes });
  });

  it("500 malformed or hostile payloads each get an error and leave the ConfigMap byte-identical", async () => {
    const before = await readConfigMap();
    const payloads = hostilePayloads(500);
    expect(payloads).toHaveLength(500);
    for (const [i, p] of payloads.entries()) {
      const m = await ground.request("_SAT.nats.config.put", p, { timeout: 5_000 });
      const body = JSON.parse(dec.decode(m.data));
      const what = `payload ${i}: ${dec.decode(p).slice(0, 80)}`;
      expect(body.ok, what).toBeUndefined();
      expect(body.error?.code, what).toBeGreaterThanOrEqual(400);
      expect(m.headers?.get("Nats-Service-Error-Code")).toBe(String(body.error.code));
      expect(typeof body.error.message).toBe("string");
    }
    expect(await readConfigMap()).toEqual(before);
    expect(controller.running()).toBe(true);
  });

  it("status lists the server pods and their readiness", async () => {
    for (const i of [0, 1, 2]) {
      await kube.admin.create(kinds.Pod, {
        metadata: { name: `nats-${i}`, namespace: ns, labels: { app: "nats" } },
        spec: { containers: [{ name: "nats", image: "nats:2.14.9-alpine" }] },
      });
    }
    // Play the kubelet: nats-0 and nats-2 are running and ready.
    for (const i of [0, 2]) {
      await kube.admin.patch(
        kinds.Pod,
        { namespace: ns, name: `nats-${i}`, subresource: "status" },
        {
          status: { phase: "Running", podIP: `10.1.0.${i + 1}`, conditions: [{ type: "Ready", status: "True" }] },
        },
      );
    }
    // status reads the watch caches: it shows a change once its watch event has arrived.
    const body = await waitFor("status to show both pods ready", async () => {
      const r = (await ask("_SAT.nats.status")).body;
      return r.ready === 2 && r.total === 3 && r;
    });
    expect(body).toMatchObject({ ok: true, cluster: "nats", namespace: ns, ready: 2, total: 3, configError: null });
    expect(body.servers.map((s: any) => [s.name, s.ready, s.ip])).toEqual([
      ["nats-0", true, "10.1.0.1"],
      ["nats-1", false, null],
      ["nats-2", true, "10.1.0.3"],
    ]);
    expect(body.revision).toBe((await readConfigMap()).metadata!.resourceVersion);
  });

  it("is a NATS service: $SRV.INFO lists the endpoints, discover reaches every instance", async () => {
    const info = await ask("$SRV.INFO.satellite");
    expect(info.body.endpoints.map((e: any) => [e.subject, e.queue_group])).toEqual([
      ["_SAT.nats.config.get", "q"],
      ["_SAT.nats.config.put", "q"],
      ["_SAT.nats.config.rollback", "q"],
      ["_SAT.nats.status", "q"],
      ["_SAT.discover", ""],
    ]);
    const second = startSatellite(["run", "-s", leaf.url, "-name", "nats"], { env: { KUBECONFIG: kubeconfig } });
    started.push(second);
    await waitForLog(second, "serving config API");
    const answers = await waitFor("two discover answers", async () => {
      const got = [];
      for await (const m of await ground.requestMany("_SAT.discover", "", { maxWait: 1_000 })) got.push(JSON.parse(dec.decode(m.data)));
      return got.length >= 2 ? got : undefined;
    });
    expect(new Set(answers.map((a) => a.id)).size).toBe(2);
    for (const a of answers)
      expect(a).toMatchObject({ ok: true, cluster: "nats", namespace: ns, subjects: { put: "_SAT.nats.config.put" } });
    await second.stop();
    expect(await second.exited).toBe(0);
  });

  it("serves /healthz, /readyz and /metrics with -health", async () => {
    const port = await freePort();
    const p = startSatellite(["run", "-s", leaf.url, "-name", "nats", "-health", `127.0.0.1:${port}`], { env: { KUBECONFIG: kubeconfig } });
    started.push(p);
    await waitForLog(p, "serving config API");
    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    await waitFor("ready", async () => (await get("/readyz")).status === 200);
    expect((await get("/healthz")).status).toBe(200);
    // discover is answered by every instance, this one included.
    await ask("_SAT.discover");
    const metrics = await waitFor("the discover request counted", async () => {
      const text = await (await get("/metrics")).text();
      return /^satellite_nats_requests_total\{code="200",endpoint="discover"\} [1-9]\d*$/m.test(text) && text;
    });
    expect(metrics).toMatch(/^satellite_kube_requests_total\{code="200",resource="configmaps",verb="list"\} \d+$/m);
    for (const gauge of [
      "process_resident_memory_bytes",
      "satellite_heap_used_bytes",
      "satellite_heap_total_bytes",
      "satellite_external_memory_bytes",
    ]) {
      expect(metrics).toMatch(new RegExp(`^${gauge} [1-9]\\d*$`, "m"));
    }
    expect((await get("/nope")).status).toBe(404);
    p.signal("SIGTERM");
    await waitFor(
      "not ready while draining, then gone",
      async () =>
        !p.running() ||
        (await get("/readyz").then(
          (r) => r.status,
          () => 0,
        )) !== 200,
    );
    expect(await p.exited).toBe(0);
  });

  it("answers config.get, status and a put's wait from its watches: reads from the ground cost the API server nothing", async () => {
    // Only this instance may answer: the suite's controller, in the same queue group, steps aside.
    await controller.stop();
    const port = await freePort();
    const p = startSatellite(["run", "-s", leaf.url, "-name", "nats", "-health", `127.0.0.1:${port}`], { env: { KUBECONFIG: kubeconfig } });
    started.push(p);
    const requests = async (resource: string, verb: string) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return [
        ...text.matchAll(new RegExp(`^satellite_kube_requests_total\\{code="\\d+",resource="${resource}",verb="${verb}"\\} (\\d+)$`, "gm")),
      ].reduce((n, m) => n + Number(m[1]), 0);
    };
    const podLists = () => requests("pods", "list");
    try {
      await waitForLog(p, "serving config API");
      await waitFor("the pod cache listed", async () => (await podLists()) >= 1);
      const before = await podLists();
      const gets = await requests("configmaps", "get");
      for (let i = 0; i < 10; i++) {
        expect((await ask("_SAT.nats.status")).body.ok).toBe(true);
        expect((await ask("_SAT.nats.config.get")).body.ok).toBe(true);
      }
      expect(await requests("configmaps", "get")).toBe(gets);
      expect(
        (await ask("_SAT.nats.config.put", { routes: ["nats://nats-0.nats:6222", "nats://no-list:6222"], wait: "200ms" })).body.ok,
      ).toBe(true);
      expect(await podLists()).toBe(before);
    } finally {
      await p.stop();
      controller = startSatellite(["run", "-s", leaf.url, "-name", "nats"], { env: { KUBECONFIG: kubeconfig } });
      started.push(controller);
      await waitForLog(controller, "serving config API");
    }
  });

  it("is live while its NATS server is not there yet, and ready once it is", async () => {
    const [healthPort, natsPort] = [await freePort(), await freePort()];
    const p = startSatellite(["run", "-s", `nats://127.0.0.1:${natsPort}`, "-name", "nats", "-health", `127.0.0.1:${healthPort}`], {
      env: { KUBECONFIG: kubeconfig },
    });
    started.push(p);
    const get = (path: string) => fetch(`http://127.0.0.1:${healthPort}${path}`);
    // A liveness probe that waited for NATS would restart the pod before NATS came up.
    await waitFor("/healthz while NATS is down", async () => (await get("/healthz")).status === 200, 10_000, 100);
    const notReady = await get("/readyz");
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toMatch(/config API not ready/);
    const late = await startNatsServer({ name: "late", port: natsPort });
    try {
      await waitFor("/readyz once NATS is up", async () => (await get("/readyz")).status === 200, 20_000, 100);
    } finally {
      await p.stop();
      await late.stop();
    }
  });

  it("serves again after its NATS server restarts", async () => {
    await leaf.restart();
    await waitFor(
      "the controller back behind the restarted leaf",
      () =>
        ask("_SAT.nats.config.get")
          .then((r) => r.body.ok)
          .catch(() => false),
      30_000,
      250,
    );
    expect(controller.running()).toBe(true);
  });
});

describe("with the nats CLI, as docs/config-api.md shows", () => {
  const nats = (...args: string[]) =>
    execFileSync(binaries().NATS_CLI_BIN, ["-s", hub.url, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  it("nats req puts and gets; a bad request shows the service error headers", () => {
    const put = JSON.parse(
      nats("req", "--raw", "_SAT.nats.config.put", '{"name":"CLUSTER_A","routes":["nats://nats-0.nats:6222","nats://another-route:6222"]}'),
    );
    expect(put).toMatchObject({ ok: true, name: "CLUSTER_A", routes: ["nats://nats-0.nats:6222", "nats://another-route:6222"] });
    expect(JSON.parse(nats("req", "--raw", "_SAT.nats.config.get", ""))).toMatchObject({ revision: put.revision, name: "CLUSTER_A" });
    const out = execFileSync(binaries().NATS_CLI_BIN, ["-s", hub.url, "req", "_SAT.nats.config.put", '{"routes":["http://x:1"]}'], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(JSON.parse(out.trim()).error.code).toBe(400);
  });

  it("nats micro ls lists the service", () => {
    expect(nats("micro", "ls", "--json")).toContain('"name": "satellite"');
  });
});

describe("config API failures", () => {
  it("drains and exits 0 on SIGTERM, also when its NATS server is gone", async () => {
    const own = await startNatsServer({ name: "lonely" });
    const p = startSatellite(["run", "-s", own.url, "-name", "lonely", "-n", ns], { env: { KUBECONFIG: kubeconfig } });
    started.push(p);
    await waitForLog(p, "serving config API");
    await own.stop();
    await waitForLog(p, "NATS disconnected");
    p.signal("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.log()).toContain('"msg":"stopped"');
  });

  it("a missing ConfigMap or key gets a clear error, and the controller keeps serving", async () => {
    const p = startSatellite(["run", "-s", leaf.url, "-name", "ghost", "-n", ns], { env: { KUBECONFIG: kube.info.kubeconfig } });
    started.push(p);
    await waitForLog(p, "serving config API");
    const got = await waitFor("a reply from ghost", () => ask("_SAT.ghost.config.get").catch(() => undefined));
    expect(got.body).toEqual({
      error: { code: 404, message: `configmap "ghost-config" in namespace "${ns}" not found: create it, or pass -cm with the right name` },
    });
    await kube.admin.create(kinds.ConfigMap, { metadata: { name: "ghost-config", namespace: ns } });
    // config.get reads the watch cache: the new ConfigMap shows once its event has arrived.
    const noKey = await waitFor("the new ConfigMap through the watch", async () => {
      const r = (await ask("_SAT.ghost.config.get")).body;
      return r.error?.code === 404 && r.error.message.includes("has no key") && r;
    });
    expect(noKey.error.message).toContain('has no key "routes.json" (it has no data)');
    const put = await ask("_SAT.ghost.config.put", { name: "ghost", routes: [] });
    expect(put.body).toMatchObject({ ok: true, changed: true });
    expect((await ask("_SAT.ghost.config.get")).body).toMatchObject({ ok: true, name: "ghost", routes: [] });
    expect(p.running()).toBe(true);
    await p.stop();
  });

  it("an unreachable API server is a 503 with the reason, not a crash", async () => {
    const dead = join(kube.info.dir, `dead-${process.pid}.kubeconfig`);
    writeFileSync(dead, kubeconfigYaml("https://127.0.0.1:1", kube.info.caFile, { token: "x" }, ns));
    const p = startSatellite(["run", "-s", leaf.url, "-name", "dead"], { env: { KUBECONFIG: dead } });
    started.push(p);
    await waitForLog(p, "serving config API");
    const got = await waitFor("a reply from dead", () => ask("_SAT.dead.config.put", { routes: [] }).catch(() => undefined));
    expect(got.body.error.code).toBe(503);
    expect(got.body.error.message).toMatch(/cannot be reached.*127\.0\.0\.1:1/);
    expect(p.running()).toBe(true);
    await p.stop();
  });

  it("a permission the Role does not grant is refused by the API server", async () => {
    const client = (await import("../../runtime/kube/client.ts")).createKubeClient(
      (await import("../../runtime/kube/kubeconfig.ts")).loadKubeconfig(kubeconfig),
    );
    try {
      expect((await client.list(kinds.ConfigMap, ns).catch((e) => e)).status).toBe(403);
      expect((await client.get(kinds.ConfigMap, { namespace: ns, name: "other" }).catch((e) => e)).status).toBe(403);
      expect((await client.list(kinds.Pod, ns)).items.length).toBeGreaterThan(0);
    } finally {
      client.close();
    }
  });

  it("usage errors exit 2 with one sentence", async () => {
    const p = startSatellite(["run", "-s", leaf.url]);
    expect(await p.exited).toBe(2);
    expect(p.log().trim()).toBe(
      "satellite: missing -name: the NATS cluster to serve, e.g. satellite run -name nats (or -operator to run the NatsCluster operator)",
    );
    const q = startSatellite(["run", "-name", "x", "-bogus"]);
    expect(await q.exited).toBe(2);
    expect(q.log().trim()).toBe("satellite: unknown flag -bogus: see --help");
  });
});
