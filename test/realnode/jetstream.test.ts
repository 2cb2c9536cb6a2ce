// JetStream on the real node: a NatsCluster of 3 servers with spec.jetstream (a claim each, from
// the node's provisioner), an R3 file stream, and a publisher sending with acks the whole time
// through the cluster's Service. An upgrade, a rolling restart and a pod deleted mid-write: after
// each, every acknowledged message is in the stream. The longest time no publish was acknowledged
// is printed for each (measured, not asserted).

import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { onNode, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const ns = "sat-jetstream";
const stream = "ORDERS";

/** Publishes orders.<round>.<n> with Nats-Msg-Id <round>.<n>, one at a time; a failed publish is retried with the same id. */
function publisher(nc: NatsConnection, round: string) {
  const acked = new Map<string, number>();
  let stopped = false;
  let longestGapMs = 0;
  let failures = 0;
  const done = (async () => {
    let n = 0;
    let lastAck = performance.now();
    while (!stopped) {
      const id = `${round}.${n}`;
      const h = headers();
      h.set("Nats-Msg-Id", id);
      try {
        const m = await nc.request(`orders.${id}`, id, { timeout: 2_000, headers: h });
        const ack = m.json<{ seq?: number; error?: unknown }>();
        if (ack.seq === undefined) throw new Error(JSON.stringify(ack));
        acked.set(id, ack.seq);
        longestGapMs = Math.max(longestGapMs, performance.now() - lastAck);
        lastAck = performance.now();
        n++;
      } catch {
        failures++;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  })();
  return {
    acked,
    async stop() {
      stopped = true;
      await done;
      return { acked: acked.size, failures, longestGapMs };
    },
  };
}

const lastSeq = async (nc: NatsConnection) =>
  (await nc.request(`$JS.API.STREAM.INFO.${stream}`, "", { timeout: 5_000 })).json<{ state: { last_seq: number } }>().state.last_seq;

/** The messages stored after sequence `after`, by their Nats-Msg-Id (the publisher's <round>.<n>). */
async function storedIds(nc: NatsConnection, after: number): Promise<string[]> {
  const last = await lastSeq(nc);
  const ids: string[] = [];
  for (let seq = after + 1; seq <= last; seq++) {
    const r = (await nc.request(`$JS.API.STREAM.MSG.GET.${stream}`, JSON.stringify({ seq }), { timeout: 5_000 })).json<{
      message?: { data: string };
    }>();
    if (r.message) ids.push(Buffer.from(r.message.data, "base64").toString());
  }
  return ids;
}

describe.runIf(!node.info.unavailable).sequential("JetStream: no acknowledged message lost", () => {
  skipAfterAFailedStep();
  let nc: NatsConnection | undefined;

  afterAll(async () => {
    await nc?.close();
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  const cluster = (version: string, annotations: Record<string, string> = {}) =>
    JSON.stringify({
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name: "js", namespace: ns },
      spec: {
        size: 3,
        version,
        lameDuckDurationSeconds: 30,
        pod: { annotations, resources: { limits: { memory: "512Mi" } } },
        jetstream: { enabled: true, fileStorage: { size: "256Mi" }, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } },
      },
    });

  /** Publishes through `change` until the cluster is back at 3 servers with JetStream current; every ack must be stored. */
  async function whilePublishing(what: string, change: () => Promise<unknown>, done: () => Promise<boolean>) {
    const before = await lastSeq(nc!);
    const pub = publisher(nc!, what.replace(/\W+/g, "-"));
    await waitFor("the first acks", async () => pub.acked.size >= 20, 30_000);
    await change();
    await waitFor(`${what} to finish`, done, 420_000, 1_000);
    await waitFor("acks after it", async () => pub.acked.size >= 20, 30_000);
    const r = await pub.stop();
    const ids = await storedIds(nc!, before);
    const stored = new Set(ids);
    const lost = [...pub.acked.keys()].filter((n) => !stored.has(n));
    console.log(
      `${what}: ${r.acked} acknowledged, ${lost.length} lost, ${ids.length - stored.size} duplicates, ${r.failures} failed attempts, longest without an ack ${(r.longestGapMs / 1000).toFixed(2)} s`,
    );
    expect(lost).toEqual([]);
    expect(ids.length - stored.size).toBe(0);
  }

  const rolledTo = (version: string) => async () => {
    const pods = await node.pods(ns, "nats_cluster=js");
    const c = (await node.kubectlJson("get", "natscluster", "js", "-n", ns)).status;
    const progressing = c?.conditions?.find((x: { type: string }) => x.type === "Progressing");
    return (
      pods.length === 3 &&
      pods.every((p) => p.ready && !p.deleting && p.images[0] === `nats:${version}`) &&
      progressing?.reason === "Complete" &&
      !c.jetstream?.notCurrent
    );
  };

  it("a NatsCluster with spec.jetstream: a claim per server, bound; an R3 file stream", async () => {
    await node.kubectl("create", "namespace", ns);
    await node.applyManifests(ns, { only: ["crd.yaml", "operator.yaml"] });
    await node.apply(cluster(node.info.images.natsPreviousVersion));
    await node.readyPods(ns, "nats_cluster=js", 3, 180_000);
    const claims = await node.kubectlJson("get", "pvc", "-n", ns);
    expect(claims.items.map((c: any) => [c.metadata.name, c.status.phase]).sort()).toEqual([
      ["jetstream-js-1", "Bound"],
      ["jetstream-js-2", "Bound"],
      ["jetstream-js-3", "Bound"],
    ]);
    const svc = await node.kubectlJson("get", "service", "js", "-n", ns);
    nc = await connect({ servers: `nats://${svc.spec.clusterIP}:4222`, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    const created = await waitFor(
      "the stream created",
      async () => {
        const r = (
          await nc!.request(
            `$JS.API.STREAM.CREATE.${stream}`,
            JSON.stringify({ name: stream, subjects: ["orders.>"], num_replicas: 3, storage: "file", duplicate_window: 600_000_000_000 }),
            { timeout: 5_000 },
          )
        ).json<{ config?: unknown; error?: { description: string } }>();
        if (r.error) throw new Error(r.error.description);
        return r;
      },
      60_000,
      1_000,
    );
    expect(created).toMatchObject({ config: { num_replicas: 3 } });
    await waitFor("JetStream current on all 3 servers", rolledTo(node.info.images.natsPreviousVersion), 120_000, 1_000);
  }, 300_000);

  it("an upgrade, one server at a time, gated on JetStream", async () => {
    const version = node.info.images.natsVersion;
    await whilePublishing("upgrade", () => node.apply(cluster(version)), rolledTo(version));
  }, 600_000);

  it("a rolling restart (a pod template change)", async () => {
    const version = node.info.images.natsVersion;
    const before = (await node.pods(ns, "nats_cluster=js")).map((p) => p.uid);
    await whilePublishing(
      "rolling restart",
      () => node.apply(cluster(version, { restartedAt: new Date().toISOString() })),
      async () => (await rolledTo(version)()) && (await node.pods(ns, "nats_cluster=js")).every((p) => !before.includes(p.uid)),
    );
  }, 600_000);

  it("a pod deleted mid-write comes back with its claim and catches up", async () => {
    const version = node.info.images.natsVersion;
    const before = (await node.pods(ns, "nats_cluster=js")).find((p) => p.name === "js-2")!.uid;
    await whilePublishing(
      "pod deleted",
      () => node.kubectl("delete", "pod", "js-2", "-n", ns, "--wait=false"),
      async () => (await rolledTo(version)()) && (await node.pods(ns, "nats_cluster=js")).find((p) => p.name === "js-2")?.uid !== before,
    );
    const claims = await node.kubectlJson("get", "pvc", "-n", ns);
    expect(claims.items.length).toBe(3);
  }, 600_000);
});
