// The seed's picture on real pods: a "ground" nats-server outside the node; the seed's StatefulSet
// (manifests/example-cluster.yaml) leafnoded to it; the config API controller from manifests/. From
// the ground, as the seed does it: config.get, then config.put with a new name and a 4th route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NatsServer, startNatsServer } from "../harness/nats.ts";
import { monitor, onNode } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import { groundPatch } from "../harness/realnode.ts";

const node = onNode();
const ns = "sat-seed";
let ground: NatsServer;

describe.runIf(!node.info.unavailable)("the seed's picture on a real node", () => {
  beforeAll(async () => {
    ground = await startNatsServer({ name: "ground", host: "10.89.0.1", leafListen: true });
    await node.createRestrictedNamespace(ns);
    await node.applyManifests(ns, { patches: [groundPatch(`nats://10.89.0.1:${ground.leafPort}`)] });
    // The operator (also in manifests/) runs another cluster beside the seed's: its pods carry app=nats too.
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1beta1",
        kind: "NatsCluster",
        metadata: { name: "other", namespace: ns },
        spec: { size: 2, version: node.info.images.natsVersion },
      }),
    );
  });
  afterAll(async () => {
    await ground?.stop();
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("the seed's StatefulSet runs, linked to the ground; the controller answers from the ground", async () => {
    const pods = await node.readyPods(ns, "app.kubernetes.io/instance=nats", 3, 150_000);
    const others = await node.readyPods(ns, "nats_cluster=other", 2, 150_000);
    await node.kubectl("rollout", "status", "deployment/satellite", "-n", ns, "--timeout=120s");
    await waitFor("3 leafnode links at the ground", async () => (await ground.monitor("leafz")).leafnodes >= 3, 60_000, 250);
    for (const p of pods) expect((await monitor(p.ip, "routez")).num_routes).toBeGreaterThanOrEqual(2);
    const get = JSON.parse(await node.nats("-s", ground.url, "req", "--raw", "_SAT.nats.config.get", ""));
    expect(get).toMatchObject({
      ok: true,
      cluster: "nats",
      namespace: ns,
      name: "nats",
      routes: ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222"],
    });

    // Neither the seed's Service nor the controller's status may reach into the other cluster.
    const status = JSON.parse(await node.nats("-s", ground.url, "req", "--raw", "_SAT.nats.status", ""));
    expect(status.servers.map((s: { name: string }) => s.name).sort()).toEqual(["nats-0", "nats-1", "nats-2"]);
    const slices = await node.kubectlJson("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=nats");
    const addresses = slices.items.flatMap((s: any) => s.endpoints.flatMap((e: any) => e.addresses)).sort();
    expect(addresses).toEqual(pods.map((p) => p.ip).sort());
    for (const o of others) expect(addresses).not.toContain(o.ip);
  }, 240_000);

  it("config.put with a new name, a 4th route and wait: every server reloads it, confirmed per server", async () => {
    const routes = ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222", "nats://another-route:6222"];
    const reply = JSON.parse(
      await node.nats(
        "-s",
        ground.url,
        "req",
        "--raw",
        "--timeout",
        "20s",
        "_SAT.nats.config.put",
        JSON.stringify({ name: "CLUSTER_A", routes, wait: "15s" }),
      ),
    );
    expect(reply).toMatchObject({ ok: true, changed: true, name: "CLUSTER_A", routes });
    const servers = reply.reload.servers as { pod: string; ok: boolean }[];
    expect(servers.map((s) => s.pod).sort()).toEqual(["nats-0", "nats-1", "nats-2"]);
    expect(servers.every((s) => s.ok)).toBe(true);
    for (const pod of ["nats-0", "nats-1", "nats-2"]) {
      const log = await node.kubectl("logs", "-n", ns, pod, "-c", "nats");
      expect(log).toMatch(/Cluster name updated to CLUSTER_A|Reloaded: cluster name/);
    }
  }, 120_000);
});
