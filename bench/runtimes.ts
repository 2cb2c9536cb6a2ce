import { readFileSync } from "node:fs";
import { startSatellite, type Runtime } from "../test/harness/satellite.ts";
import { freePort, waitFor } from "../test/harness/ports.ts";
import { manifest, type TestKube } from "../test/harness/kube.ts";
import type { NatsServer } from "../test/harness/nats.ts";
import { natsClusters } from "../runtime/kube/resources.ts";

export interface RuntimeBench {
  runtime: Runtime;
  startMs: number[];
  rssMb: number;
  /** After 60 s idle: V8's memory reducer has returned what the start-up burst grew. */
  rss60Mb: number;
  heapMb: number;
  clusters: number;
}

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/**
 * Start: process spawn until /readyz answers 200 (NATS connected, every cache listed), `runs` times.
 * Memory: RSS after 10 s and 60 s idle while watching `clusters` NatsClusters of size 3 (and all they own).
 */
export async function benchRuntimes(kube: TestKube, nats: NatsServer, runtimes: Runtime[], runs = 5, clusters = 50, env: NodeJS.ProcessEnv = {}): Promise<RuntimeBench[]> {
  await kube.installCrd();
  const ns = await kube.createNamespace("bench-runtimes");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
  const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, "bench-runtimes");
  const args = (port: number) => ["run", "-operator", "-s", nats.url, "-name", "nats", "-health", `127.0.0.1:${port}`, "-log-format", "json"];
  const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
  const out: RuntimeBench[] = [];
  for (const runtime of runtimes) {
    const startMs: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const p = startSatellite(args(port), { runtime, env: { ...env, KUBECONFIG: kubeconfig } });
      await waitFor("ready", () => ready(port), 10_000, 2);
      if (i > 0) startMs.push(performance.now() - t0); // the first run warms the disk cache
      await p.stop();
    }
    out.push({ runtime, startMs, rssMb: 0, rss60Mb: 0, heapMb: 0, clusters });
  }
  for (let i = 0; i < clusters; i++) {
    await kube.admin.create(natsClusters, { apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: `m${i}`, namespace: ns }, spec: { size: 3 } });
  }
  for (const r of out) {
    const port = await freePort();
    const p = startSatellite(args(port), { runtime: r.runtime, env: { ...env, KUBECONFIG: kubeconfig } });
    await waitFor("ready", () => ready(port), 10_000, 5);
    await new Promise((res) => setTimeout(res, 10_000));
    r.rssMb = rssOf(p.pid);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    r.heapMb = Number(/^satellite_heap_used_bytes (\d+)$/m.exec(metrics)?.[1] ?? 0) / 2 ** 20;
    await new Promise((res) => setTimeout(res, 50_000));
    r.rss60Mb = rssOf(p.pid);
    await p.stop();
  }
  return out;
}
