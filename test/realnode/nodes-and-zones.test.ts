// Several nodes and zones on the three-node bed, driven as a user would (kubectl, the manifests, a
// NATS client through the client Service): a JetStream cluster spread over three zones with its R3
// stream's replicas in three zones; `kubectl drain` of the meta leader's node under load; a node
// stopped like a machine losing power, under load; a cluster without JetStream back to full size on
// the live nodes; and a cluster on nodes without zones. A publisher sends one message at a time the
// whole time, each acked, retried under the same Nats-Msg-Id; every acked id is looked up at the
// end. Times are printed (measured, not asserted).

import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { createStream, loadStream, startLoad } from "../harness/jetstream-load.ts";
import { connectThroughService, monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import { startNode, stopNode } from "../harness/realnode.ts";

const node = onNode();
const ns = "sat-zones";
const zoneLabel = "topology.kubernetes.io/zone";
/** Toleration of an unreachable node the JetStream cluster asks for (Kubernetes' default is 300 s). */
const jsToleration = 15;
/** What docs/nodes-and-zones.md promises a cluster without JetStream on a bed whose node grace period is 20 s. */
const plainBackWithinMs = 150_000;

const natsCluster = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name, namespace: ns }, spec });

const nodeLoss = ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"].map((key) => ({
  key,
  operator: "Exists",
  effect: "NoExecute",
  tolerationSeconds: jsToleration,
}));

const nodeOf = (p: PodView): string => p.raw.spec.nodeName;

describe.runIf(!node.info.unavailable && node.info.nodes.length === 3).sequential("several nodes and zones", () => {
  skipAfterAFailedStep();
  let nc: NatsConnection | undefined;
  let stopped: string | undefined;

  afterAll(async () => {
    await nc?.close();
    if (node.info.unavailable) return;
    if (stopped) await startNode(stopped).catch((e) => console.log(`starting ${stopped} again after a failed step: ${e}`));
    for (const [i, n] of node.info.nodes.entries()) {
      await node.kubectl("uncordon", n);
      await node.kubectl("label", "node", n, "--overwrite", `${zoneLabel}=zone-${"abc"[i]}`);
    }
    await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  const status = async (name: string) => (await node.kubectlJson("get", "natscluster", name, "-n", ns)).status ?? {};

  /** 3 servers Ready, the meta group whole and current, no rollout under way. */
  const settled = async () => {
    const pods = await node.pods(ns, "nats_cluster=js");
    const s = await status("js");
    return (
      pods.length === 3 &&
      pods.every((p) => p.ready && !p.deleting) &&
      s.jetstream?.peers?.length === 2 &&
      s.jetstream.peers.every((p: { current: boolean }) => p.current) &&
      !s.jetstream.notCurrent &&
      s.conditions?.find((c: { type: string }) => c.type === "Progressing")?.reason === "Complete"
    );
  };

  /** Publishes while `change` runs; every ack must be stored, once. */
  async function whilePublishing(what: string, change: () => Promise<void>) {
    const load = await startLoad(nc!, what.replace(/\W+/g, "-"));
    await waitFor("the first acks", async () => load.acked() >= 20, 30_000);
    await change();
    const more = load.acked() + 20;
    await waitFor("acks after it", async () => load.acked() >= more, 60_000);
    const r = await load.stop();
    console.log(
      `${what}: ${r.acked} acknowledged, ${r.lost.length} lost, ${r.duplicates} duplicates, ${r.failures} failed attempts, longest without an ack ${(r.longestGapMs / 1000).toFixed(2)} s`,
    );
    expect(r.lost).toEqual([]);
    expect(r.duplicates).toBe(0);
  }

  it("a JetStream cluster spread over three zones, each server tagged with its zone; an R3 stream's replicas in three zones", async () => {
    await node.createRestrictedNamespace(ns);
    await node.applyManifests(ns, { only: ["crd.yaml", "operator.yaml"] });
    await node.apply(
      natsCluster("js", {
        size: 3,
        version: node.info.images.natsVersion,
        pod: { resources: { limits: { memory: "512Mi" } }, tolerations: nodeLoss },
        jetstream: {
          enabled: true,
          fileStorage: { size: "256Mi" },
          uniqueTag: "zone",
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" },
        },
      }),
    );
    await node.apply(natsCluster("plain", { size: 3, version: node.info.images.natsVersion }));
    const pods = await node.readyPods(ns, "nats_cluster=js", 3, 240_000);
    await node.readyPods(ns, "nats_cluster=plain", 3, 120_000);
    expect(new Set(pods.map(nodeOf)).size).toBe(3);
    const zones = Object.fromEntries(pods.map((p) => [p.name, p.raw.metadata.labels[zoneLabel] as string]));
    expect(Object.values(zones).sort()).toEqual(["zone-a", "zone-b", "zone-c"]);
    for (const p of pods) expect((await monitor(p.ip, "varz")).tags).toContain(`zone:${zones[p.name]}`);

    const budget = await waitFor(
      "the PodDisruptionBudget allowing one disruption",
      async () => {
        const b = await node.kubectlJson("get", "pdb", "js", "-n", ns);
        return b.status?.disruptionsAllowed === 1 && b;
      },
      60_000,
      500,
    );
    expect(budget.spec.minAvailable).toBe(2);

    const svc = await node.kubectlJson("get", "service", "js", "-n", ns);
    nc = await connectThroughService(svc.spec.clusterIP, {
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 2_000,
      maxPingOut: 2,
    });
    await waitFor("the stream created", () => createStream(nc!).then(() => true), 60_000, 1_000);
    const info = (await nc.request(`$JS.API.STREAM.INFO.${loadStream}`, "", { timeout: 5_000 })).json<{
      cluster: { leader: string; replicas?: { name: string }[] };
    }>();
    const placed = [info.cluster.leader, ...(info.cluster.replicas ?? []).map((r) => r.name)];
    expect(placed.map((server) => zones[server]).sort()).toEqual(["zone-a", "zone-b", "zone-c"]);
    await waitFor("JetStream current on all 3 servers", settled, 120_000, 1_000);
  }, 420_000);

  it("kubectl drain of the meta leader's node under load: it completes, never two servers down at once, nothing lost", async () => {
    const leader = (await status("js")).jetstream.metaLeader as string;
    const pods = await node.pods(ns, "nats_cluster=js");
    const drained = nodeOf(pods.find((p) => p.name === leader)!);
    let fewestReady = 3;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const ready = (await node.pods(ns, "nats_cluster=js")).filter((p) => p.ready && !p.deleting).length;
        fewestReady = Math.min(fewestReady, ready);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    await whilePublishing(`drain of ${drained} (meta leader ${leader})`, async () => {
      const t0 = performance.now();
      await node.kubectl("drain", drained, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=300s");
      console.log(`kubectl drain ${drained}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      // The evicted server's claim is on that node's disk: it waits, Pending, for the node's return.
      const back = await node.pods(ns, "nats_cluster=js");
      expect(back.find((p) => p.name === leader)?.ready).not.toBe(true);
      await node.kubectl("uncordon", drained);
      await waitFor("the server back on its node, JetStream current", settled, 300_000, 1_000);
      expect(nodeOf((await node.pods(ns, "nats_cluster=js")).find((p) => p.name === leader)!)).toBe(drained);
    });
    watching = false;
    await watcher;
    expect(fewestReady).toBeGreaterThanOrEqual(2);
  }, 900_000);

  it("a node stopped like a dead machine under load: acks go on, the status says what is wrong, the other cluster is back to full size on live nodes; the node's return heals it", async () => {
    const pods = await node.pods(ns, "nats_cluster=js");
    const leader = (await status("js")).jetstream.metaLeader as string;
    const victim = pods.find((p) => p.name !== leader)!;
    const dead = nodeOf(victim);
    // The drain may have left the cluster without JetStream with no server on that node: one of a
    // node holding two is deleted, and the spread brings it back on the node without one.
    await waitFor(
      "a server of the cluster without JetStream on the node to stop",
      async () => {
        const plain = (await node.pods(ns, "nats_cluster=plain")).filter((p) => !p.deleting);
        if (plain.length === 3 && plain.every((p) => p.ready) && plain.some((p) => nodeOf(p) === dead)) return true;
        const crowded = plain.find((p) => plain.some((q) => q !== p && nodeOf(q) === nodeOf(p)));
        if (plain.length === 3 && plain.every((p) => p.ready) && crowded) await node.kubectl("delete", "pod", crowded.name, "-n", ns);
        return false;
      },
      120_000,
      2_000,
    );
    await whilePublishing(`${dead} stopped (server ${victim.name})`, async () => {
      const t0 = performance.now();
      stopped = dead;
      await stopNode(dead);
      await waitFor(
        "the JetStream cluster's status naming the lost node",
        async () => {
          const p = (await status("js")).conditions?.find((c: { type: string }) => c.type === "Progressing");
          return p?.reason === "NodeLost" && p.message.includes(`${victim.name} (node ${dead})`) && p;
        },
        180_000,
        1_000,
      );
      await waitFor(
        "the cluster without JetStream: 3 servers Ready on the live nodes",
        async () => {
          const plain = (await node.pods(ns, "nats_cluster=plain")).filter((p) => !p.deleting);
          return plain.length === 3 && plain.every((p) => p.ready && nodeOf(p) !== dead);
        },
        plainBackWithinMs,
        1_000,
      );
      console.log(`node ${dead} stopped: the cluster without JetStream back to 3 in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const events = await node.kubectlJson("get", "events", "-n", ns, "--field-selector", "reason=NodeLost");
      expect(events.items.some((e: { involvedObject: { name: string } }) => e.involvedObject.name === "plain")).toBe(true);
      stopped = undefined;
      await startNode(dead);
      await waitFor("the server back on its node, caught up", settled, 300_000, 1_000);
      expect(nodeOf((await node.pods(ns, "nats_cluster=js")).find((p) => p.name === victim.name)!)).toBe(dead);
    });
  }, 900_000);

  it("on nodes without zones a JetStream cluster runs as before: servers tagged zone:, an R3 stream placed", async () => {
    for (const n of node.info.nodes) await node.kubectl("label", "node", n, `${zoneLabel}-`);
    await node.apply(
      natsCluster("nozone", {
        size: 3,
        version: node.info.images.natsVersion,
        pod: { resources: { limits: { memory: "512Mi" } } },
        jetstream: { enabled: true, fileStorage: { size: "128Mi" }, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } },
      }),
    );
    const pods = await node.readyPods(ns, "nats_cluster=nozone", 3, 240_000);
    for (const p of pods) {
      expect(p.raw.metadata.labels[zoneLabel]).toBeUndefined();
      expect((await monitor(p.ip, "varz")).tags).toEqual(["zone:"]);
    }
    const svc = await node.kubectlJson("get", "service", "nozone", "-n", ns);
    const client = await connectThroughService(svc.spec.clusterIP);
    try {
      const made = await waitFor(
        "an R3 stream",
        async () => {
          const r = (
            await client.request(
              "$JS.API.STREAM.CREATE.NOZONE",
              JSON.stringify({ name: "NOZONE", subjects: ["nozone.>"], num_replicas: 3, storage: "file" }),
              { timeout: 5_000 },
            )
          ).json<{ config?: { num_replicas: number }; error?: unknown }>();
          return !r.error && r;
        },
        60_000,
        1_000,
      );
      expect(made.config?.num_replicas).toBe(3);
    } finally {
      await client.close();
    }
  }, 420_000);
});
