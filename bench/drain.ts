// `kubectl drain` of the node that holds the JetStream meta leader, on the three-node bed, two ways,
// same nodes, same load: nats' Helm chart layout (its StatefulSet, as jetstream-upgrade.ts builds
// it, and the chart's PodDisruptionBudget, maxUnavailable 1) and a NatsCluster with spec.jetstream
// (the operator's PodDisruptionBudget). Both: 3 servers on node-affine local volumes, an R3 file
// stream, one publisher with acks and retries under the same Nats-Msg-Id the whole time. The drain's
// duration, the longest time without an ack, acked and lost; then the node is uncordoned and the
// evicted server, whose data is on that node, comes back there.

import { connect } from "@nats-io/transport-node";
import { createStream, type LoadResult, startLoad } from "../test/harness/jetstream-load.ts";
import { waitFor } from "../test/harness/ports.ts";
import type { Proc } from "../test/harness/process.ts";
import { buildImages, realNodeUnavailable, startRealNode } from "../test/harness/realnode.ts";
import { startSatellite, waitForLog } from "../test/harness/satellite.ts";
import { natsCluster, statefulSet } from "./jetstream-upgrade.ts";
import { kubectlAsync } from "./kubectl.ts";

export interface DrainResult {
  way: string;
  node: string;
  drainSeconds: number;
  backSeconds: number;
  fewestReady: number;
  /** The longest time without an ack over the same load's quiet minute before the drain: the floor. */
  quietGapMs: number;
  load: LoadResult;
}

const budget = (ns: string) => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name: "sts", namespace: ns },
  spec: { maxUnavailable: 1, selector: { matchLabels: { app: "sts" } } },
});

const quietMs = 60_000;

export async function benchDrain(): Promise<DrainResult[] | string> {
  const why = realNodeUnavailable();
  if (why) return why;
  const images = buildImages();
  const node = startRealNode({ archives: images.archives, nodes: 3 });
  const interrupted = () => {
    node.stop();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const kubectl = kubectlAsync(node.kubectlBin, node.kubeconfig);
  const apply = (doc: unknown) => kubectl(["apply", "--server-side", "-f", "-"], JSON.stringify(doc));
  const pods = async (ns: string, selector: string) =>
    JSON.parse(await kubectl(["get", "pods", "-n", ns, "-l", selector, "-o", "json"])).items as any[];
  const ready = (p: any) =>
    !p.metadata.deletionTimestamp && p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True");
  const allReady = (ns: string, selector: string) => async () => {
    const list = await pods(ns, selector);
    return list.length === 3 && list.every(ready);
  };
  /** The meta leader by its own servers' word (/jsz), and the node its pod runs on. */
  const leaderNode = async (ns: string, selector: string) => {
    const list = await pods(ns, selector);
    const leader = await waitFor(
      "the meta leader",
      async () => {
        const jsz = await fetch(`http://${list[0].status.podIP}:8222/jsz`, { signal: AbortSignal.timeout(3_000) }).then((r) => r.json());
        return (jsz as { meta_cluster?: { leader?: string } }).meta_cluster?.leader;
      },
      60_000,
      500,
    );
    return list.find((p) => p.metadata.name === leader).spec.nodeName as string;
  };
  const results: DrainResult[] = [];
  let operator: Proc | undefined;
  const measure = async (way: string, ns: string, selector: string, clientIp: string, settled: () => Promise<boolean>) => {
    const nc = await connect({ servers: `nats://${clientIp}:4222`, maxReconnectAttempts: -1, reconnectTimeWait: 250, pingInterval: 2_000 });
    try {
      await waitFor(`${way}: the stream`, () => createStream(nc).then(() => true), 90_000, 1_000);
      const load = await startLoad(nc, way.replace(/\W+/g, "-"));
      await waitFor(`${way}: first acks`, async () => load.acked() >= 100, 30_000);
      load.forgetGaps();
      await new Promise((r) => setTimeout(r, quietMs));
      const quietGapMs = load.longestGapMs();
      const target = await leaderNode(ns, selector);
      let fewestReady = 3;
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          fewestReady = Math.min(fewestReady, (await pods(ns, selector)).filter(ready).length);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const t0 = performance.now();
      await kubectl(["drain", target, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=600s"]);
      const drainSeconds = (performance.now() - t0) / 1000;
      await kubectl(["uncordon", target]);
      await waitFor(`${way}: every server back`, settled, 600_000, 1_000);
      const backSeconds = (performance.now() - t0) / 1000;
      watching = false;
      await watcher;
      const more = load.acked() + 100;
      await waitFor(`${way}: acks after it`, async () => load.acked() >= more, 60_000);
      results.push({ way, node: target, drainSeconds, backSeconds, fewestReady, quietGapMs, load: await load.stop() });
    } finally {
      await nc.close();
    }
  };
  try {
    await kubectl(["create", "namespace", "bench-sts"]);
    await apply(statefulSet("bench-sts", images.natsVersion));
    await apply(budget("bench-sts"));
    await waitFor("the StatefulSet's 3 servers", allReady("bench-sts", "app=sts"), 240_000, 1_000);
    const stsIp = JSON.parse(await kubectl(["get", "service", "sts", "-n", "bench-sts", "-o", "json"])).spec.clusterIP;
    await measure("StatefulSet + PodDisruptionBudget (Helm chart)", "bench-sts", "app=sts", stsIp, allReady("bench-sts", "app=sts"));
    await kubectl(["delete", "namespace", "bench-sts"]);

    await kubectl(["apply", "--server-side", "-f", new URL("../manifests/crd.yaml", import.meta.url).pathname]);
    await kubectl(["create", "namespace", "bench-js"]);
    operator = startSatellite(["run", "-operator", "-n", "bench-js", "-log-format", "json"], {
      env: { KUBECONFIG: node.kubeconfig },
      name: "operator",
    });
    await waitForLog(operator, "operator caches synced", 60_000);
    await apply(natsCluster("bench-js", images.natsVersion));
    await waitFor("the NatsCluster's 3 servers", allReady("bench-js", "nats_cluster=js"), 240_000, 1_000);
    const jsIp = JSON.parse(await kubectl(["get", "service", "js", "-n", "bench-js", "-o", "json"])).spec.clusterIP;
    const complete = async () =>
      (await allReady("bench-js", "nats_cluster=js")()) &&
      JSON.parse(await kubectl(["get", "natscluster", "js", "-n", "bench-js", "-o", "json"])).status?.conditions?.some(
        (c: any) => c.type === "Progressing" && c.reason === "Complete",
      );
    await measure("NatsCluster (the operator's PodDisruptionBudget)", "bench-js", "nats_cluster=js", jsIp, complete);
    return results;
  } finally {
    await operator?.stop();
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    const left = node.stop();
    if (left) process.stderr.write(`the real nodes left this behind:\n${left}\n`);
  }
}

export function drainMarkdown(r: DrainResult[] | string, when: string): string {
  if (typeof r === "string") return `## Drain of the meta leader's node: StatefulSet against the operator\n\nNot measured: ${r}\n`;
  return `## Drain of the meta leader's node: StatefulSet against the operator (three real nodes)

${when}. Three nodes in zones a, b, c, each with its own kubelet and containerd; JetStream on
node-affine local volumes. 3 servers, an R3 file stream, one publisher sending one message at a
time with an ack the whole time (a publish without an ack within 500 ms is sent again under the
same Nats-Msg-Id), through the cluster's Service. \`kubectl drain\` of the node holding the meta
leader; then \`kubectl uncordon\`, and the evicted server, whose data is on that node, starts there
again. Every acknowledged id is then looked up in the stream. The floor: the longest time without
an ack of the same load over the minute before the drain, with nothing happening.

| way | drained | drain took | until every server was back | fewest servers Ready | acked | acked but lost | stored twice | longest without an ack | floor (quiet minute) | goal |
|---|---|---|---|---|---|---|---|---|---|---|
${r.map((x) => `| ${x.way} | ${x.node} | ${x.drainSeconds.toFixed(1)} s | ${x.backSeconds.toFixed(1)} s | ${x.fewestReady} | ${x.load.acked} | ${x.load.lost.length} | ${x.load.duplicates} | ${(x.load.longestGapMs / 1000).toFixed(3)} s | ${(x.quietGapMs / 1000).toFixed(3)} s | ${x.way.startsWith("NatsCluster") ? "0 lost; no longer without an ack than the StatefulSet" : ""} |`).join("\n")}
`;
}
