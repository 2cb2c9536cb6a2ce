// The operator's reload modes on the real node, same node and run as bench/realnode.ts: three
// NatsClusters of 3 servers (sidecar; operator, strategy all; operator, canary), each with the
// config API run from this host as a user would (`satellite run -name X -l nats_cluster=X`);
// `config.put` with `wait` until the reply says all 3 servers run the new routes. Memory: what
// satellite runs inside each server pod (the sidecar's RSS; nothing in operator mode).

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { waitFor } from "../test/harness/ports.ts";
import { hostPid } from "../test/harness/realnode.ts";
import { startSatellite, waitForLog } from "../test/harness/satellite.ts";

export interface ReloadModeResult {
  mode: string;
  puts: number[];
  /** satellite's resident memory per server pod, MB. */
  satelliteMbPerPod: number;
  /** nats-server's resident memory per pod, MB, for scale. */
  natsMbPerPod: number;
  containers: string[];
}

const modes: [string, Record<string, unknown>][] = [
  ["sidecar (pod.enableConfigReload)", { pod: { enableConfigReload: true } }],
  ["operator, strategy all (no sidecar)", { configReload: { mode: "operator", strategy: "all" } }],
  ["operator, strategy canary (no sidecar)", { configReload: { mode: "operator", strategy: "canary" } }],
];

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** `gapMs`: a pause before each put (default none: back to back). */
export async function benchReloadModes(o: {
  kubectlBin: string;
  kubeconfig: string;
  ns: string;
  version: string;
  puts: number;
  gapMs?: () => number;
}) {
  const kubectl = (...args: string[]) =>
    execFileSync(o.kubectlBin, ["--kubeconfig", o.kubeconfig, "-n", o.ns, ...args], { encoding: "utf8" });
  const results: ReloadModeResult[] = [];
  for (const [i, [mode, spec]] of modes.entries()) {
    const name = `m${i}`;
    const doc = {
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name, namespace: o.ns },
      spec: { size: 3, version: o.version, ...spec },
    };
    execFileSync(o.kubectlBin, ["--kubeconfig", o.kubeconfig, "apply", "--server-side", "-f", "-"], { input: JSON.stringify(doc) });
    const pods = await waitFor(
      `${name}: 3 Ready pods`,
      async () => {
        const list = JSON.parse(kubectl("get", "pods", "-l", `nats_cluster=${name}`, "-o", "json")).items;
        const ready = list.filter((p: any) => p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"));
        return ready.length === 3 && list.length === 3 && ready;
      },
      180_000,
      500,
    );
    const url = `nats://${pods[0].status.podIP}:4222`;
    const api = startSatellite(
      ["run", "-name", name, "-n", o.ns, "-cm", `${name}-config`, "-l", `nats_cluster=${name}`, "-s", url, "-log-format", "json"],
      {
        env: { KUBECONFIG: o.kubeconfig },
        name: `config API ${name}`,
      },
    );
    try {
      await waitForLog(api, "serving config API", 30_000);
      const nc = await connect({ servers: url });
      const puts: number[] = [];
      for (let k = -2; k < o.puts; k++) {
        if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs!()));
        const s = performance.now();
        const m = await nc.request(
          `_SAT.${name}.config.put`,
          JSON.stringify({ routes: [`nats://extra-${k + 2}.example:6222`], wait: "20s" }),
          { timeout: 25_000 },
        );
        const reply = JSON.parse(new TextDecoder().decode(m.data));
        if (!reply.ok || !reply.reload?.complete || !reply.reload.ok || reply.reload.servers.length !== 3) {
          throw new Error(`${mode}: config.put did not reach all 3 servers: ${JSON.stringify(reply)}`);
        }
        if (k >= 0) puts.push(performance.now() - s);
      }
      await nc.close();
      // Node 24 names its main thread, and so the process's comm, "MainThread".
      const sidecar = pods.map((p: any) =>
        p.spec.containers.some((c: any) => c.name === "reloader") ? rssMb(hostPid(p.metadata.uid, "MainThread")) : 0,
      );
      const nats = pods.map((p: any) => rssMb(hostPid(p.metadata.uid, "nats-server")));
      results.push({
        mode,
        puts,
        satelliteMbPerPod: sidecar.reduce((a: number, b: number) => a + b, 0) / pods.length,
        natsMbPerPod: nats.reduce((a: number, b: number) => a + b, 0) / pods.length,
        containers: pods[0].spec.containers.map((c: any) => c.name),
      });
      process.stderr.write(
        `bench: real node: reload mode "${mode}": put p50 ${[...puts].sort((a, b) => a - b)[puts.length >> 1]?.toFixed(0)} ms\n`,
      );
    } finally {
      // BENCH_OPERATOR_LOGS=1: what the operator did meanwhile, to see where a put's time went.
      if (process.env.BENCH_OPERATOR_LOGS) process.stderr.write(kubectl("logs", "deployment/satellite-operator", "--tail=60"));
      await api.stop();
      kubectl("delete", "natscluster", name, "--wait=false");
    }
  }
  return results;
}

export function reloadModesMarkdown(rs: ReloadModeResult[], seedsP50Ms: number | undefined): string {
  const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((q / 100) * xs.length))]!;
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const rows = rs.map(
    (r) =>
      `| ${r.mode} | ${r.containers.join(", ")} | ${r.puts.length} | ${ms(p(r.puts, 50))} | ${ms(p(r.puts, 99))} | ${ms(Math.max(...r.puts))} | ${r.satelliteMbPerPod.toFixed(1)} MB | ${r.natsMbPerPod.toFixed(1)} MB |${seedsP50Ms ? ` ${(seedsP50Ms / p(r.puts, 50)).toFixed(0)}× |` : " |"}`,
  );
  return `## Reload modes of the operator, on the same real node

Three NatsClusters of 3 servers made by the operator, one per mode; the config API run from this host
(\`satellite run -name X -l nats_cluster=X\`); \`config.put\` with \`wait\` → the reply says all 3
servers run the new routes (sidecar: the reloaders' reports; operator mode: the NatsCluster status, each
server confirmed by its config digest). Memory: resident memory of satellite's process in each server
pod, and of nats-server for scale. "vs the seeds' path": its p50 from the table above over this p50.

| mode | containers per pod | puts | p50 | p99 | max | satellite per pod | nats-server per pod | vs the seeds' path |
|---|---|---|---|---|---|---|---|---|
${rows.join("\n")}

Goals (operator mode): p50 ≤ 2 s, ≥ 30× faster than the seeds' path, 0 MB of satellite per server pod.
`;
}
