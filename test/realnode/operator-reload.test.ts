// configReload.mode operator on a real node: stock nats-server pods with no satellite process in
// them; the operator moves each server to a new config (kubelet volume refresh by a pod annotation,
// a reload over NATS as the system user, nats-server's config digest as the proof), canary first.
// Driven as a user drives it: kubectl apply of the manifests and NatsClusters, kubectl patch of the
// routes file, the servers' own monitoring endpoints.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configDigest } from "../../handlers/reloader/digest.ts";
import { type NatsServer, startNatsServer } from "../harness/nats.ts";
import { monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

const node = onNode();
const ns = "sat-reload";
const cluster = "beta";
const selector = `nats_cluster=${cluster}`;

let ground: NatsServer;
let leafnodeConfig: { remotes: { url: string }[] };
const apply = (spec: Record<string, unknown>) =>
  node.apply(
    JSON.stringify({
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name: cluster, namespace: ns },
      spec: {
        size: 3,
        version: node.info.images?.natsVersion,
        configReload: { mode: "operator", strategy: "canary", canaryTimeoutSeconds: 5 },
        leafnodeConfig,
        ...spec,
      },
    }),
  );
const status = async () => (await node.kubectlJson("get", "natscluster", cluster, "-n", ns)).status;
const secretConf = async (key = "nats.conf") =>
  Buffer.from((await node.kubectlJson("get", "secret", cluster, "-n", ns)).data[key], "base64").toString("utf8");
/** kubectl patch of the routes file's routes.json, as a user edits it by hand. */
const patchRoutes = (routesJson: string) =>
  node.kubectl(
    "patch",
    "configmap",
    `${cluster}-config`,
    "-n",
    ns,
    "--type=merge",
    "-p",
    JSON.stringify({ data: { "routes.json": routesJson } }),
  );
const varzOf = (pods: PodView[]) => Promise.all(pods.map((p) => monitor(p.ip, "varz")));
const events = async (reason: string) =>
  (await node.kubectlJson("get", "events", "-n", ns, "--field-selector", `involvedObject.name=${cluster},reason=${reason}`)).items;

async function allRun(pods: PodView[], conf: string) {
  const want = pods.map((p) => (configDigest({ "nats.conf": conf }, "nats.conf", { POD_NAME: p.name }) as { digest: string }).digest);
  await waitFor(
    "every server's config_digest is the config's",
    async () => (await varzOf(pods)).every((v, i) => v.config_digest === want[i]),
    30_000,
    100,
  );
}

async function meshFormed(pods: PodView[]) {
  await waitFor(
    "a full route mesh",
    async () => {
      for (const p of pods) {
        const routez = await monitor(p.ip, "routez");
        if (new Set(routez.routes.map((r: { remote_name: string }) => r.remote_name)).size < pods.length - 1) return false;
      }
      return true;
    },
    60_000,
    250,
  );
}

// One story in order (a 3-pod cluster on the real node takes 10+ s to start, so the steps share
// it): each step starts from what the one before left. Once a step fails the later ones are skipped.
describe.runIf(!node.info.unavailable).sequential("config reloads by the operator, no sidecar, on a real node", () => {
  let pods: PodView[] = [];
  skipAfterAFailedStep();
  beforeAll(async () => {
    ground = await startNatsServer({ name: "ground", host: "10.89.0.1", leafListen: true });
    leafnodeConfig = { remotes: [{ url: `nats://10.89.0.1:${ground.leafPort}` }] };
    await node.installOperator(ns);
  }, 180_000);
  afterAll(async () => {
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
    await ground?.stop();
  });

  it("stock nats-server pods only: no sidecar, no shared process namespace; every server runs the config, by its digest", async () => {
    await apply({});
    pods = await node.readyPods(ns, selector, 3, 120_000);
    for (const p of pods) {
      expect(p.images).toEqual([node.info.images.nats]);
      expect(p.raw.spec.shareProcessNamespace).toBeUndefined();
      expect(p.raw.spec.initContainers).toBeUndefined();
    }
    await meshFormed(pods);
    await waitFor("3 leafnode links at the ground", async () => (await ground.monitor("leafz")).leafnodes >= 3, 60_000, 250);
    await allRun(pods, await secretConf());
    await waitFor("status.config Current", async () => (await status())?.config?.state === "Current", 30_000);
  }, 180_000);

  it("a reloadable spec change reaches every server, canary first, with no restart", async () => {
    const started = Date.now();
    await apply({ natsConfig: { maxPayload: 2048 } });
    await waitFor("max_payload 2048 everywhere", async () => (await varzOf(pods)).every((v) => v.max_payload === 2048), 30_000, 50);
    const tookMs = Date.now() - started;
    const now = await node.readyPods(ns, selector, 3);
    expect(now.map((p) => p.uid)).toEqual(pods.map((p) => p.uid));
    expect(now.map((p) => p.restarts)).toEqual([0, 0, 0]);
    const conf = await secretConf();
    expect(conf).toContain("max_payload: 2048");
    await allRun(pods, conf);
    // The canary (the first server) loaded it before the others.
    const loaded = (await varzOf(pods)).map((v) => Date.parse(v.config_load_time));
    expect(loaded[0]).toBeLessThan(Math.min(loaded[1]!, loaded[2]!));
    await waitFor("status.config Current again", async () => {
      const s = (await status())?.config;
      return s?.state === "Current" && s.servers.every((x: { state: string }) => x.state === "current");
    });
    expect((await events("ConfigRolledOut")).length).toBeGreaterThan(0);
    console.log(`operator reload, spec change → every server confirmed: ${tookMs} ms`);
  }, 120_000);

  it("config.put with wait (satellite run from the host): the reply says every server runs the new routes, confirmed", async () => {
    const url = `nats://${pods[0]!.ip}:4222`;
    const api = startSatellite(
      ["run", "-name", cluster, "-n", ns, "-cm", `${cluster}-config`, "-l", selector, "-s", url, "-log-format", "json"],
      {
        env: { KUBECONFIG: node.info.kubeconfig },
        name: "config API",
      },
    );
    try {
      await waitForLog(api, "serving config API");
      const put = async (routes: string[], strategy?: string) => {
        const started = Date.now();
        const out = await node.nats(
          "-s",
          url,
          "req",
          `_SAT.${cluster}.config.put`,
          JSON.stringify({ routes, wait: "20s", strategy }),
          "--timeout=25s",
        );
        return { reply: JSON.parse(out.trim().split("\n").at(-1)!), ms: Date.now() - started };
      };
      const { reply, ms } = await put(["nats://beta-extra.example:6222"]);
      expect(reply.reload).toMatchObject({ complete: true, ok: true });
      expect(reply.reload.servers.map((s: { pod: string; state: string }) => [s.pod, s.state])).toEqual([
        ["beta-1", "reloaded"],
        ["beta-2", "reloaded"],
        ["beta-3", "reloaded"],
      ]);
      for (const v of await varzOf(pods)) expect(v.cluster.urls).toContain("beta-extra.example:6222");
      await allRun(pods, await secretConf());
      console.log(`operator reload, config.put with wait → reply, every server confirmed: ${ms} ms`);
      expect((await put([], "all")).reply.reload).toMatchObject({ complete: true, ok: true });
    } finally {
      await api.stop();
    }
  }, 120_000);

  it("a config nats-server refuses (a route hand-edited into the routes file) changes no server and says why", async () => {
    const before = (await varzOf(pods)).map((v) => v.config_digest);
    const good = await secretConf();
    await patchRoutes(JSON.stringify({ routes: ["nats://bad host:6222"] }));
    await waitFor("status.config.refused", async () => (await status())?.config?.refused?.error, 30_000);
    const s = await status();
    expect(s.config.refused.error).toMatch(/^beta-1: nats-server refused the config: .*route/i);
    expect(s.conditions.find((c: { type: string }) => c.type === "ConfigCurrent")).toMatchObject({ status: "False", reason: "Refused" });
    expect((await events("ConfigRefused")).map((e: { type: string }) => e.type)).toEqual(["Warning"]);
    await waitFor("the Secret back on the last good config", async () => (await secretConf()) === good, 15_000);
    expect((await varzOf(pods)).map((v) => v.config_digest)).toEqual(before);
    // The routes file fixed: the config it makes is the one every server runs.
    await patchRoutes("{}");
    await waitFor("Current", async () => (await status())?.config?.state === "Current" && !(await status()).config.refused, 30_000);
  }, 120_000);

  it("a valid config that cuts the canary off the ground (a typo in the leafnode URL) is rolled back", async () => {
    const good = await secretConf();
    const before = (await varzOf(pods)).map((v) => v.config_digest);
    await waitFor("every server linked to the ground", async () => (await varzOf(pods)).every((v) => v.leafnodes === 1), 30_000, 250);
    await apply({ natsConfig: { maxPayload: 2048 }, leafnodeConfig: { remotes: [{ url: "nats://10.89.0.1:1" }] } });
    await waitFor("the canary rolled back", async () => (await events("CanaryUnhealthy")).length > 0, 60_000).catch(async (e) => {
      const servers = (await varzOf(pods)).map((v, i) => `${pods[i]!.name}: leafnodes ${v.leafnodes}, digest ${v.config_digest}`);
      throw new Error(`${e.message}\nstatus.config: ${JSON.stringify((await status())?.config)}\n${servers.join("\n")}`);
    });
    expect((await status()).config.refused.error).toMatch(
      /^the canary beta-1 loaded the config but was not healthy within 5 s \(.*0 of 1 leafnode links\)$/,
    );
    await waitFor("the Secret back on the last good config", async () => (await secretConf()) === good, 15_000);
    await waitFor(
      "every server back on its last good config",
      async () => (await varzOf(pods)).every((v, i) => v.config_digest === before[i]),
      30_000,
    );
    await waitFor("3 leafnode links at the ground again", async () => (await ground.monitor("leafz")).leafnodes >= 3, 30_000, 250);
    await meshFormed(pods);
    // Back to the spec that works: nothing to move, every server already runs it.
    await apply({ natsConfig: { maxPayload: 2048 }, leafnodeConfig });
    await waitFor("Current", async () => (await status())?.config?.state === "Current", 30_000);
  }, 120_000);

  it("a change only a restart applies (max_pending) replaces the pods one at a time, never two down", async () => {
    await patchRoutes("{}");
    await waitFor("back to Current", async () => (await status())?.config?.state === "Current", 30_000);
    let fewest = 3;
    const watching = setInterval(async () => {
      const ready = (await node.pods(ns, selector).catch(() => [])).filter((p) => p.ready && !p.deleting).length;
      fewest = Math.min(fewest, ready);
    }, 200);
    try {
      await apply({ natsConfig: { maxPayload: 2048, maxPending: 1048576 } });
      await waitFor(
        "three new pods, Ready, on the new config",
        async () => {
          const now = await node.pods(ns, selector);
          return (
            now.length === 3 &&
            now.every((p) => p.ready && !p.deleting && !pods.some((o) => o.uid === p.uid)) &&
            (await varzOf(now)).every((v) => v.max_pending === 1048576)
          );
        },
        180_000,
        500,
      );
    } finally {
      clearInterval(watching);
    }
    expect(fewest).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
