import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kinds } from "../handlers/index.ts";
import { manifest, type TestKube } from "../test/harness/kube.ts";
import type { NatsServer } from "../test/harness/nats.ts";
import { freePort, waitFor } from "../test/harness/ports.ts";
import { startProcess } from "../test/harness/process.ts";
import { type Runtime, runtimeBinary, shippedFlags, startSatellite } from "../test/harness/satellite.ts";

/** A runtime with the flags the image ships, or with the runtime's defaults. */
export interface RuntimeSetup {
  runtime: Runtime;
  flags: "shipped" | "defaults";
}

export interface RuntimeBench extends RuntimeSetup {
  /** Starts in an empty namespace. */
  startMs: number[];
  /** One start with every NatsCluster already there (more to list and reconcile). */
  startWithClustersMs: number;
  rssMb: number;
  rss60Mb: number;
  /** Peak RSS (VmHWM) of that process: listing and caching every object at start. */
  peakMb: number;
  /** The same runtime and flags running nothing but node:http and node:https, idle. */
  floorMb: number;
  heapMb: number;
  clusters: number;
}

const statusMb = (pid: number, field: "VmRSS" | "VmHWM") =>
  Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
export const rssMb = (pid: number) => statusMb(pid, "VmRSS");
export const flagsOf = (s: RuntimeSetup) => (s.flags === "shipped" ? shippedFlags[s.runtime] : []);

/** RSS of the runtime itself with an HTTPS client loaded: what no satellite change can go below. */
async function floorOf(s: RuntimeSetup): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "satellite-floor-"));
  const script = join(dir, "floor.mjs");
  writeFileSync(
    script,
    `import { createRequire } from "node:module";\nconst require = createRequire(import.meta.url);\nrequire("node:http");\nrequire("node:https");\nsetInterval(() => {}, 1000);\n`,
  );
  // The single executable is the LTS Node with its flags built in.
  const runtime = s.runtime === "sea" ? "node-lts" : s.runtime;
  const flags = s.runtime === "sea" ? shippedFlags["node-lts"] : flagsOf(s);
  const args = runtime === "deno" ? ["run", ...flags, "--allow-read", script] : [...flags, script];
  const p = startProcess(`floor ${s.runtime}`, runtimeBinary(runtime), args, join(dir, "floor.log"), {
    ...process.env,
    DENO_NO_UPDATE_CHECK: "1",
  });
  await new Promise((r) => setTimeout(r, 3_000));
  const mb = rssMb(p.pid);
  await p.stop();
  return mb;
}

/**
 * Start: process spawn until /readyz answers 200 (NATS connected, every cache listed), `runs` times.
 * Memory: RSS after 10 s and 60 s idle while watching `clusters` NatsClusters of size 3 (and all they own).
 */
export async function benchRuntimes(
  kube: TestKube,
  nats: NatsServer,
  setups: RuntimeSetup[],
  runs = 5,
  clusters = 50,
): Promise<RuntimeBench[]> {
  await kube.installCrd();
  const ns = await kube.createNamespace("bench-runtimes");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
  const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, "bench-runtimes");
  const args = (port: number) => [
    "run",
    "-operator",
    "-s",
    nats.url,
    "-name",
    "nats",
    "-health",
    `127.0.0.1:${port}`,
    "-log-format",
    "json",
  ];
  const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
  const start = async (s: RuntimeSetup) => {
    const port = await freePort();
    const t0 = performance.now();
    const p = startSatellite(args(port), { runtime: s.runtime, runtimeFlags: flagsOf(s), env: { KUBECONFIG: kubeconfig } });
    await waitFor("ready", () => ready(port), 10_000, 2);
    return { p, port, ms: performance.now() - t0 };
  };
  const out: RuntimeBench[] = [];
  for (const s of setups)
    out.push({
      ...s,
      startMs: [],
      startWithClustersMs: 0,
      rssMb: 0,
      rss60Mb: 0,
      peakMb: 0,
      floorMb: await floorOf(s),
      heapMb: 0,
      clusters,
    });
  // Round-robin, so that drift on this shared machine spreads over every setup alike.
  for (let i = 0; i < runs + 1; i++) {
    for (const r of out) {
      const { p, ms } = await start(r);
      if (i > 0) r.startMs.push(ms); // the first round warms the disk cache
      await p.stop();
    }
  }
  for (let i = 0; i < clusters; i++) {
    await kube.admin.create(kinds.NatsCluster, {
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name: `m${i}`, namespace: ns },
      spec: { size: 3 },
    });
  }
  // One operator creates what the clusters own, so every measured run finds the same steady state.
  {
    const { p } = await start(setups[0]!);
    await waitFor("every cluster's pods", async () => (await kube.admin.list(kinds.Pod, ns)).items.length >= clusters * 3, 60_000, 200);
    await p.stop();
  }
  for (const r of out) {
    const { p, port, ms } = await start(r);
    r.startWithClustersMs = ms;
    await new Promise((res) => setTimeout(res, 10_000));
    r.rssMb = rssMb(p.pid);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    r.heapMb = Number(/^satellite_heap_used_bytes (\d+)$/m.exec(metrics)?.[1] ?? 0) / 2 ** 20;
    await new Promise((res) => setTimeout(res, 50_000));
    r.rss60Mb = rssMb(p.pid);
    r.peakMb = statusMb(p.pid, "VmHWM");
    await p.stop();
  }
  return out;
}
