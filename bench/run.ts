// npm run bench: measures the config API against the local test bed and writes bench/RESULTS.md.

import { execFileSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { kinds } from "../handlers/index.ts";
import { binaries } from "../test/harness/binaries.ts";
import { startControlPlane } from "../test/harness/control-plane.ts";
import { manifest, testKube } from "../test/harness/kube.ts";
import { startNatsServer } from "../test/harness/nats.ts";
import { shippedFlags, startSatellite, waitForLog } from "../test/harness/satellite.ts";
import { benchDrain, drainMarkdown } from "./drain.ts";
import { benchFailover, failoverMarkdown } from "./failover.ts";
import { benchFileReload } from "./file-reload.ts";
import { benchFleet, fleetMarkdown } from "./fleet.ts";
import { benchJetStreamUpgrade, jetstreamUpgradeMarkdown } from "./jetstream-upgrade.ts";
import { benchKubeletRefresh, kubeletRefreshMarkdown } from "./kubelet-refresh.ts";
import { benchOperator } from "./operator.ts";
import { benchOperatorReload, operatorReloadMarkdown } from "./operator-reload.ts";
import { benchRealNode, realNodeMarkdown } from "./realnode.ts";
import { benchReload } from "./reload.ts";
import { benchRuntimes, flagsOf, type RuntimeSetup } from "./runtimes.ts";

const puts = Number(process.env.BENCH_PUTS ?? 1000);
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

const resultsFile = fileURLToPath(new URL("./RESULTS.md", import.meta.url));
const machine = () =>
  `${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB), Linux ${release()}, Node ${process.version}`;

// One section alone: run it, and rewrite that section of RESULTS.md (the rest stays as it was).
const alone: Record<string, { heading: string; run: (when: string) => Promise<string> }> = {
  "operator-reload": {
    heading: "## Operator-mode reload next to its floor",
    run: async (when) =>
      operatorReloadMarkdown(await benchOperatorReload({ puts: Number(process.env.BENCH_REALNODE_PUTS ?? 30), refreshes: 50 }), when),
  },
  "jetstream-upgrade": {
    heading: "## JetStream upgrade: StatefulSet against the operator",
    run: async (when) => jetstreamUpgradeMarkdown(await benchJetStreamUpgrade(), when),
  },
  drain: { heading: "## Drain of the meta leader's node", run: async (when) => drainMarkdown(await benchDrain(), when) },
};
if (process.env.BENCH_ONLY) {
  const only = alone[process.env.BENCH_ONLY];
  if (!only) throw new Error(`BENCH_ONLY=${process.env.BENCH_ONLY}: the sections that run alone are ${Object.keys(alone).join(", ")}`);
  const section = await only.run(`Run alone (\`BENCH_ONLY=${process.env.BENCH_ONLY} npm run bench\`) on ${machine()}`);
  const old = readFileSync(resultsFile, "utf8");
  const start = old.indexOf(only.heading);
  const end = start < 0 ? -1 : old.indexOf("\n## ", start + 1);
  const updated = start < 0 ? `${old.trimEnd()}\n\n${section}` : `${old.slice(0, start)}${section}${end < 0 ? "" : old.slice(end + 1)}`;
  writeFileSync(resultsFile, updated);
  process.stdout.write(section);
  process.exit(0);
}

const cp = await startControlPlane();
const kube = testKube(cp);
const ns = await kube.createNamespace("bench");
await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
await kube.apply(manifest("controller.yaml"), { namespace: ns });
const nats = await startNatsServer({ name: "bench" });
const controllerEnv = { KUBECONFIG: kube.kubeconfigFor(await kube.tokenFor(ns, "satellite"), ns, "bench") };
const startController = async (flags: RuntimeSetup["flags"]) => {
  const c = startSatellite(["run", "-s", nats.url, "-name", "nats"], {
    runtimeFlags: flagsOf({ runtime: "node", flags }),
    env: controllerEnv,
  });
  await waitForLog(c, "serving config API");
  return c;
};
const nc = await connect({ servers: nats.url });

type Stats = { n: number; p50: number; p99: number; perSec: number };
const stats = (lat: number[], ms: number): Stats => ({
  n: lat.length,
  p50: percentile(lat, 50),
  p99: percentile(lat, 99),
  perSec: lat.length / (ms / 1000),
});

/** `n` sequential calls of `call`; returns the latencies and the total time. */
async function run(n: number, call: (i: number) => Promise<void>): Promise<{ lat: number[]; ms: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await call(i);
    lat.push(performance.now() - s);
  }
  return { lat, ms: performance.now() - t0 };
}

const request = (subject: string, body: string) => async () => {
  const m = await nc.request(subject, body, { timeout: 5_000 });
  if (!JSON.parse(new TextDecoder().decode(m.data)).ok) throw new Error(`${subject} failed: ${new TextDecoder().decode(m.data)}`);
};
const put = (i: number) => JSON.stringify({ name: "BENCH", routes: [`nats://nats-0.nats:6222`, `nats://extra-${i}:6222`] });

// config.put on the shipped flags and on the runtime's defaults, and, as their floor, the same
// ConfigMap replace sent straight to the API server, in alternating rounds: this machine's API
// server latency drifts from minute to minute.
const rounds = 5;
const perRound = Math.ceil(puts / rounds);
const viaNats = { shipped: { lat: [] as number[], ms: 0 }, defaults: { lat: [] as number[], ms: 0 } };
const direct = { lat: [] as number[], ms: 0 };
let getStats: Stats | undefined;
let seq = 0;
for (let r = 0; r < rounds; r++) {
  for (const flags of ["shipped", "defaults"] as const) {
    const controller = await startController(flags);
    await run(20, () => request("_SAT.nats.config.put", put(-++seq))()); // warm-up
    const a = await run(perRound, () => request("_SAT.nats.config.put", put(++seq))());
    viaNats[flags].lat.push(...a.lat);
    viaNats[flags].ms += a.ms;
    if (r === 0 && flags === "shipped") {
      const gets = await run(puts, () => request("_SAT.nats.config.get", "")());
      getStats = stats(gets.lat, gets.ms);
    }
    await controller.stop();
  }
  let cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
  const b = await run(perRound, async () => {
    cm = await kube.admin.replace(kinds.ConfigMap, { ...cm, data: { ...cm.data, "routes.json": put(++seq) } });
  });
  direct.lat.push(...b.lat);
  direct.ms += b.ms;
}
const putStats = stats(viaNats.shipped.lat, viaNats.shipped.ms);
const putDefaultsStats = stats(viaNats.defaults.lat, viaNats.defaults.ms);
const directStats = stats(direct.lat, direct.ms);

await nc.close();
const setups: RuntimeSetup[] = (["node", "node-lts", "deno"] as const).flatMap((runtime) =>
  (["shipped", "defaults"] as const).map((flags) => ({ runtime, flags })),
);
execFileSync(process.execPath, [fileURLToPath(new URL("../build-sea.mjs", import.meta.url)), binaries().NODE_LTS_BIN], {
  cwd: fileURLToPath(new URL("..", import.meta.url)),
  stdio: "ignore",
});
setups.push({ runtime: "sea", flags: "shipped" });
const runtimes = await benchRuntimes(kube, nats, setups, 10, 50);
const ltsVersion = execFileSync(binaries().NODE_LTS_BIN, ["--version"], { encoding: "utf8" }).trim();
const runtimeName = (r: string) =>
  r === "node"
    ? `Node ${process.version}`
    : r === "node-lts"
      ? `Node ${ltsVersion} (the container's)`
      : r === "sea"
        ? `single executable (Node ${ltsVersion})`
        : "Deno";
await nats.stop();
const op = await benchOperator(kube, 50);
const failover = await benchFailover(kube, 3);
const reload = await benchReload(kube, 50);
kube.close();
await cp.stop();
const fileReload = await benchFileReload(Number(process.env.BENCH_FILE_SWAPS ?? 30));
const realNode = await benchRealNode({ puts: Number(process.env.BENCH_REALNODE_PUTS ?? 30), volumeRounds: 2, volumeReplicas: 8 });
const kubeletRefresh = await benchKubeletRefresh({ nudged: 50, notNudged: 3 }); // its own real node, after that one
const fleet = await benchFleet({ sites: 10, clustersPerSite: 10, puts: 50, idleMs: 300_000, discoveries: 20 }); // and its own, after that
const jetstreamUpgrade = await benchJetStreamUpgrade(); // and its own
const operatorReload = await benchOperatorReload({ puts: Number(process.env.BENCH_REALNODE_PUTS ?? 30), refreshes: 50 }); // and its own
const drain = await benchDrain(); // and its own bed of three nodes

const cpu = cpus()[0]?.model ?? "unknown CPU";
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8"));
const row = (name: string, s: Stats, goal: string) =>
  `| ${name} | ${s.n} | ${fmt(s.p50)} | ${fmt(s.p99)} | ${s.perSec.toFixed(0)}/s | ${goal} |`;
const report = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts). Each run replaces this file.

- Date: ${new Date().toISOString()}
- Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}
- Node ${process.version}, satellite ${pkg.version} (dist/satellite.mjs), nats-server and kube-apiserver from the test bed
- Control plane start: ${cp.startMs} ms

## The bundle: size, start, memory

dist/satellite.mjs: ${statSync(fileURLToPath(new URL("../dist/satellite.mjs", import.meta.url))).size} bytes minified (budget 320,000 bytes, checked by \`npm run build\`).
${execFileSync(fileURLToPath(new URL("../node_modules/.bin/deno", import.meta.url)), ["--version"], { encoding: "utf8" }).split("\n")[0]}.

\`satellite run -operator -name nats\`, on each runtime with the flags the image ships (\`${shippedFlags.node.join(" ")}\` on Node,
\`${shippedFlags.deno.join(" ")}\` on Deno) and with the runtime's defaults. Start: from process start until
\`/readyz\` answers 200 (connected to NATS, every cache listed), median and worst of ${runtimes[0]!.startMs.length} starts in an
empty namespace, and one start with ${runtimes[0]!.clusters} NatsClusters of size 3 and everything they own already there.
Memory: resident (VmRSS) after that start, 10 s and 60 s idle, watching them all.

| runtime | flags | start (median) | start (worst) | start, ${runtimes[0]!.clusters} clusters | RSS after 10 s | RSS after 60 s | peak RSS | the runtime alone | goals |
|---|---|---|---|---|---|---|---|---|---|
${runtimes.map((r) => `| ${runtimeName(r.runtime)} | ${r.runtime === "sea" ? "--lite-mode (built in)" : flagsOf(r).join(" ") || "defaults"} | ${fmt(percentile(r.startMs, 50))} | ${fmt(Math.max(...r.startMs))} | ${fmt(r.startWithClustersMs)} | ${r.rssMb.toFixed(1)} MB (JS heap in use ${r.heapMb.toFixed(1)} MB) | ${r.rss60Mb.toFixed(1)} MB | ${r.peakMb.toFixed(1)} MB | ${r.floorMb.toFixed(1)} MB | start < 250 ms, RSS < 60 MB |`).join("\n")}

"The runtime alone": the same runtime and flags running a script that loads node:http and
node:https and idles; the difference to it is what satellite's code, heap and connections cost.

## Config API (controller on Node ${process.version}, sequential requests from one client)

Each put changes the routes: a real PUT of the ConfigMap, based on the state the controller keeps from its watch.
config.put (on the shipped flags and on Node's defaults) and the bare PUT alternate in ${rounds} rounds, so all see the same API server.

| request | n | p50 | p99 | throughput | goal |
|---|---|---|---|---|---|
${row(`config.put, ${shippedFlags.node.join(" ")}`, putStats, "p50 < 5 ms, > 300 puts/s")}
${row("config.put, Node's defaults", putDefaultsStats, "")}
${row(`config.get, ${shippedFlags.node.join(" ")}`, getStats!, "")}
${row("API server PUT alone (no NATS, no controller)", directStats, "the floor under config.put")}

## Operator (controller on Node ${process.version}, shipped flags)

${op.clusters} NatsClusters of size 3 created one after another; time from the first create until all
their pods, services and config secrets exist (goal: under 10 s). API requests the operator made,
per cluster (from its /metrics), including status writes; list/watch are shared by all clusters:

| clusters | time | requests per cluster | by verb and resource |
|---|---|---|---|
| ${op.clusters} | ${op.seconds.toFixed(2)} s | ${op.totalPerCluster} | ${Object.entries(op.requestsPerCluster)
  .map(([k, v]) => `${k}: ${v}`)
  .join(", ")} |

${failoverMarkdown(failover)}
## Config propagation (reloader)

The seed's picture: three nats-server processes (pods nats-0..2), each with \`satellite reloader\`
watching the ConfigMap; the controller; requests from a ground server over a leafnode link.
Time from sending \`config.put\` with \`"wait"\` on the ground until its reply, which comes once
the last server has confirmed (by /varz) that it loaded the new revision. Each put changes a route.

| puts | p50 | p99 | max | goal | the seeds (kubelet volume refresh) |
|---|---|---|---|---|---|
| ${reload.n} | ${fmt(reload.p50)} | ${fmt(reload.p99)} | ${fmt(reload.max)} | p50 < 1 s, p99 < 2 s | the next section, on a real node |

Each reloader (Node ${process.version}, shipped flags): at most ${reload.reloaderRssMb.toFixed(1)} MB resident after the puts and 10 s idle.

## File mode against nack's reloader (a ConfigMap volume, swapped as the kubelet does)

nats-server reads \`nats.conf\` (which includes \`limits.conf\`) from a directory laid out like a
ConfigMap volume: each file a symlink through \`..data\`, which a swap renames atomically. Each
reloader is given only \`-config nats.conf\`. Latency: from the swap until nats-server's
\`config_load_time\` moves, swaps 1.2 s apart (nack's watch needs its 1 s ticker after each swap).
Burst: 5 swaps 100 ms apart, reloads counted in nats-server's log, and whether the last one is loaded.

| reloader | swaps | p50 | p99 | RSS | burst: reloads | burst: last loaded |
|---|---|---|---|---|---|---|
${fileReload.map((r) => `| ${r.name} | ${r.lat.length} | ${fmt(percentile(r.lat, 50))} | ${fmt(percentile(r.lat, 99))} | ${r.rssMb.toFixed(1)} MB | ${r.burstReloads} | ${r.burstLast ? "yes" : "no"} |`).join("\n")}

satellite's p50 is ${(percentile(fileReload[0]!.lat, 50) / percentile(fileReload[1]!.lat, 50)).toFixed(2)}× nack's (goal ≤ 2×). A reloader
cannot know the first change of a burst from a lone change without waiting: by default satellite
reloads at once (a burst is its first and its last version, as with nack); \`-settle\` waits for a
quiet moment instead, so a burst is one reload of its last version, at the price of that wait.

${realNodeMarkdown(realNode)}
${kubeletRefreshMarkdown(kubeletRefresh)}
${fleetMarkdown(fleet)}
${jetstreamUpgradeMarkdown(jetstreamUpgrade, `Part of the full run on ${machine()}`)}
${operatorReloadMarkdown(operatorReload, `Part of the full run on ${machine()}`)}
${drainMarkdown(drain, `Part of the full run on ${machine()}`)}`;
writeFileSync(resultsFile, report);
process.stdout.write(report);
