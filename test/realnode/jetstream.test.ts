// JetStream on the real node: a NatsCluster of 3 servers with spec.jetstream (a claim each, from
// the node's provisioner), an R3 file stream, and a publisher sending with acks the whole time
// through the cluster's Service. An upgrade, a rolling restart, a pod deleted mid-write and a scale
// 3 → 5 → 3: after each, every acknowledged message is in the stream, once. The longest time no
// publish was acknowledged is printed for each (measured, not asserted); a scale-down that would
// lose data is refused.

import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { createStream, startLoad, loadStream as stream } from "../harness/jetstream-load.ts";
import { connectThroughService, onNode, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import { hostPid } from "../harness/realnode.ts";

const node = onNode();
const ns = "sat-jetstream";

describe.runIf(!node.info.unavailable).sequential("JetStream: no acknowledged message lost", () => {
  skipAfterAFailedStep();
  let nc: NatsConnection | undefined;

  afterAll(async () => {
    await nc?.close();
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  // The pod annotations the last apply gave (a rolling restart sets one; later applies keep it).
  let podAnnotations: Record<string, string> = {};
  const cluster = (version: string, annotations = podAnnotations, size = 3) =>
    JSON.stringify({
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name: "js", namespace: ns },
      spec: {
        size,
        version,
        lameDuckDurationSeconds: 30,
        pod: { ...(Object.keys(annotations).length ? { annotations } : {}), resources: { limits: { memory: "512Mi" } } },
        jetstream: { enabled: true, fileStorage: { size: "256Mi" }, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } },
      },
    });

  /** Publishes through `change` until `done`; every ack must be stored, once. */
  async function whilePublishing(what: string, change: () => Promise<unknown>, done: () => Promise<boolean>) {
    const load = await startLoad(nc!, what.replace(/\W+/g, "-"));
    await waitFor("the first acks", async () => load.acked() >= 20, 30_000);
    await change();
    await waitFor(`${what} to finish`, done, 420_000, 1_000);
    const more = load.acked() + 20;
    await waitFor("acks after it", async () => load.acked() >= more, 30_000);
    const r = await load.stop();
    console.log(
      `${what}: ${r.acked} acknowledged, ${r.lost.length} lost, ${r.duplicates} duplicates, ${r.failures} failed attempts, longest without an ack ${(r.longestGapMs / 1000).toFixed(2)} s`,
    );
    expect(r.lost).toEqual([]);
    expect(r.duplicates).toBe(0);
  }

  const rolledTo =
    (version: string, size = 3) =>
    async () => {
      const pods = await node.pods(ns, "nats_cluster=js");
      const c = (await node.kubectlJson("get", "natscluster", "js", "-n", ns)).status;
      const progressing = c?.conditions?.find((x: { type: string }) => x.type === "Progressing");
      return (
        pods.length === size &&
        c.jetstream?.peers?.length === size - 1 &&
        c.jetstream.peers.every((p: { current: boolean }) => p.current) &&
        !c.jetstream.stalePeers &&
        pods.every((p) => p.ready && !p.deleting && p.images[0] === `nats:${version}`) &&
        progressing?.reason === "Complete" &&
        !c.jetstream?.notCurrent
      );
    };

  it("a NatsCluster with spec.jetstream: a claim per server, bound; an R3 file stream", async () => {
    await node.createRestrictedNamespace(ns);
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
    nc = await connectThroughService(svc.spec.clusterIP, { maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    await waitFor("the stream created", () => createStream(nc!).then(() => true), 60_000, 1_000);
    const info = (await nc.request(`$JS.API.STREAM.INFO.${stream}`, "", { timeout: 5_000 })).json<{ config: { num_replicas: number } }>();
    expect(info.config.num_replicas).toBe(3);
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
      () => {
        podAnnotations = { restartedAt: new Date().toISOString() };
        return node.apply(cluster(version));
      },
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

  it("a server frozen (SIGSTOP) during a roll: nothing is stopped, after a minute JetStreamNotCurrent and one Warning; thawed, the roll ends", async () => {
    const version = node.info.images.natsVersion;
    const pods = await node.pods(ns, "nats_cluster=js");
    const before = pods.map((p) => p.uid).sort();
    const frozen = hostPid(pods.find((p) => p.name === "js-1")!.uid, "nats-server");
    let paused: { message: string } | undefined;
    await whilePublishing(
      "a server frozen mid-roll",
      async () => {
        process.kill(frozen, "SIGSTOP");
        podAnnotations = { restartedAt: new Date().toISOString() };
        await node.apply(cluster(version));
        paused = await waitFor(
          "Progressing=False JetStreamNotCurrent",
          async () => {
            const s = (await node.kubectlJson("get", "natscluster", "js", "-n", ns)).status;
            const p = s?.conditions?.find((x: { type: string }) => x.type === "Progressing");
            return p?.reason === "JetStreamNotCurrent" && p.status === "False" && p;
          },
          120_000,
          1_000,
        );
        expect((await node.pods(ns, "nats_cluster=js")).map((p) => p.uid).sort()).toEqual(before);
        process.kill(frozen, "SIGCONT");
      },
      async () => (await rolledTo(version)()) && (await node.pods(ns, "nats_cluster=js")).every((p) => !before.includes(p.uid)),
    );
    expect(paused?.message).toContain("js-1");
    const events = await node.kubectlJson("get", "events", "-n", ns, "--field-selector", "reason=JetStreamNotCurrent");
    expect(events.items.length).toBe(1);
    expect(events.items[0].type).toBe("Warning");
  }, 600_000);

  it("a scale-down that would lose data is refused with a condition, and nothing is removed", async () => {
    const version = node.info.images.natsVersion;
    const before = (await node.pods(ns, "nats_cluster=js")).map((p) => p.uid).sort();
    await node.apply(cluster(version, podAnnotations, 2));
    const progressing = await waitFor(
      "the refusal",
      async () => {
        const s = (await node.kubectlJson("get", "natscluster", "js", "-n", ns)).status;
        const p = s?.conditions?.find((x: { type: string }) => x.type === "Progressing");
        return p?.reason === "ScaleDownRefused" && p;
      },
      60_000,
      500,
    );
    expect(progressing).toMatchObject({
      status: "False",
      message: expect.stringContaining(`stream ${stream} (account $G) has 3 replicas`),
    });
    const events = await node.kubectlJson("get", "events", "-n", ns, "--field-selector", "reason=ScaleDownRefused");
    expect(events.items.length).toBe(1);
    expect((await node.pods(ns, "nats_cluster=js")).map((p) => p.uid).sort()).toEqual(before);
    await node.apply(cluster(version));
    await waitFor("back to 3", rolledTo(version), 60_000, 1_000);
  }, 180_000);

  it("scale 3 → 5 → 3: the removed servers leave the meta group", async () => {
    const version = node.info.images.natsVersion;
    await whilePublishing("scale up to 5", () => node.apply(cluster(version, podAnnotations, 5)), rolledTo(version, 5));
    await whilePublishing("scale down to 3", () => node.apply(cluster(version)), rolledTo(version));
    const status = (await node.kubectlJson("get", "natscluster", "js", "-n", ns)).status;
    const members = [status.jetstream.metaLeader, ...status.jetstream.peers.map((p: { name: string }) => p.name)].sort();
    expect(members).toEqual(["js-1", "js-2", "js-3"]);
  }, 900_000);
});
