// The nats-server versions nats-operator users run, on a real node, in images laid out like the
// official `nats` images of those versions (test/realnode/image-nats.sh: before 2.7.3 the binary is
// /nats-server with no PATH entry). Driven as a user: the manifests, NatsClusters by kubectl,
// the servers checked through their own monitoring endpoints and a NATS client.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crossServerMessage, monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const ns = "sat-versions";

const natsCluster = (name: string, spec: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: "nats.io/v1beta1", kind: "NatsCluster", metadata: { name, namespace: ns }, spec });

/** Every server has routes to all the others (by server ID: servers before 2.1.2 have no name). */
async function meshFormed(pods: PodView[]) {
  return waitFor(
    `a full route mesh of ${pods.length}`,
    async () => {
      const ids = await Promise.all(pods.map(async (p) => (await monitor(p.ip, "varz")).server_id as string));
      for (const [i, p] of pods.entries()) {
        const peers = new Set((await monitor(p.ip, "routez")).routes?.map((r: { remote_id: string }) => r.remote_id) ?? []);
        if (!ids.every((id, j) => j === i || peers.has(id))) return false;
      }
      return true;
    },
    60_000,
    250,
  );
}

const condition = async (name: string, type: string) =>
  (await node.kubectlJson("get", "natscluster", name, "-n", ns)).status?.conditions?.find((c: { type: string }) => c.type === type);

describe.runIf(!node.info.unavailable).sequential("nats-server versions nats-operator users run", () => {
  const selector = "nats_cluster=legacy";
  let pods: PodView[] = [];
  skipAfterAFailedStep();
  beforeAll(() => node.installOperator(ns), 180_000);
  afterAll(async () => {
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("2.1.9 (nats-operator's default), no PATH entry for the binary: 3 servers start, Ready by /varz, a full mesh", async () => {
    expect(node.info.images.natsLegacyVersions).toEqual(["2.0.0", "2.1.9", "2.6.1"]);
    await node.apply(natsCluster("legacy", { size: 3, version: "2.1.9" }));
    pods = await node.readyPods(ns, selector, 3, 120_000);
    for (const p of pods) {
      const nats = p.raw.spec.containers[0];
      expect(nats.image).toBe("nats:2.1.9");
      expect(nats.command[0]).toBe("/nats-server");
      expect(nats.readinessProbe.httpGet.path).toBe("/varz");
      expect(p.restarts).toBe(0);
      const varz = await monitor(p.ip, "varz");
      expect(varz.version).toBe("2.1.9");
      expect(varz.server_name).toBe(p.name);
    }
    await meshFormed(pods);
    expect(await crossServerMessage(pods[0]!.ip, pods[2]!.ip)).toBe(`from ${pods[2]!.ip}`);
  }, 180_000);

  it("rolls 2.1.9 → 2.6.1 → the newest one server at a time; the newest gets its cluster name", async () => {
    const fewestReady = node.watchFewestReady(ns, selector, 3);
    for (const version of ["2.6.1", node.info.images.natsVersion]) {
      await node.kubectl("patch", "natscluster", "legacy", "-n", ns, "--type", "merge", "-p", JSON.stringify({ spec: { version } }));
      pods = await waitFor(
        `every server on ${version}`,
        async () => {
          const now = await node.readyPods(ns, selector, 3, 5_000).catch(() => undefined);
          return now?.every((p) => p.images[0] === `nats:${version}`) && now;
        },
        300_000,
        500,
      );
      for (const p of pods) expect((await monitor(p.ip, "varz")).version).toBe(version);
      await meshFormed(pods);
    }
    expect(await fewestReady.stop()).toBe(2);
    for (const p of pods) {
      expect(p.raw.spec.containers[0].command[0]).toBe("nats-server");
      expect((await monitor(p.ip, "varz")).cluster.name).toBe("legacy");
    }
    expect(await condition("legacy", "Ready")).toMatchObject({ status: "True" });
    expect(await crossServerMessage(pods[1]!.ip, pods[0]!.ip)).toBe(`from ${pods[0]!.ip}`);
  }, 600_000);

  it("2.0.0, the oldest supported (no server_name, no cluster name): 2 servers start and route", async () => {
    await node.apply(natsCluster("oldest", { size: 2, version: "2.0.0" }));
    const oldest = await node.readyPods(ns, "nats_cluster=oldest", 2, 120_000);
    for (const p of oldest) expect((await monitor(p.ip, "varz")).version).toBe("2.0.0");
    await meshFormed(oldest);
    await node.kubectl("delete", "natscluster", "oldest", "-n", ns);
  }, 180_000);

  it("the seed's version 1.0.4 is refused before anything is made: a Degraded condition names the minimum; no pod", async () => {
    await node.apply(natsCluster("seed", { size: 3, version: "1.0.4" }));
    const degraded = await waitFor("a Degraded condition", async () => condition("seed", "Degraded"), 30_000, 250);
    expect(degraded).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(degraded.message).toContain("the minimum is 2.0.0");
    const events = await node.kubectlJson("get", "events", "-n", ns, "--field-selector", "involvedObject.name=seed");
    expect(events.items.some((e: { reason: string }) => e.reason === "InvalidSpec")).toBe(true);
    expect(await node.pods(ns, "nats_cluster=seed")).toEqual([]);
    // Fixed by the user: the same cluster on a supported version starts.
    await node.kubectl("patch", "natscluster", "seed", "-n", ns, "--type", "merge", "-p", '{"spec":{"version":"2.1.9","size":1}}');
    await node.readyPods(ns, "nats_cluster=seed", 1, 120_000);
    expect(await condition("seed", "Degraded")).toMatchObject({ status: "False" });
  }, 180_000);
});
