// A fleet on the real node: 10 sites (a namespace and an operator each, run from this host with
// -operator -config-api -site) × 10 NatsClusters (one server each, reloads by the operator, a
// leafnode link to one ground nats-server). From the ground: the time until _SAT.discover has all
// 100 replies, and config.put with wait to a random cluster until its server is confirmed. Cost per
// cluster: one more operator with the same flags and no clusters is the baseline; what the site
// operators use beyond it (memory, API requests over 5 idle minutes) divided by their clusters, and
// the client connections each cluster's server has.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect, createInbox, type NatsConnection } from "@nats-io/transport-node";
import { binaries } from "../test/harness/binaries.ts";
import { startNatsServer } from "../test/harness/nats.ts";
import { monitor } from "../test/harness/on-node.ts";
import { freePort, waitFor } from "../test/harness/ports.ts";
import type { Proc } from "../test/harness/process.ts";
import { buildImages, realNodeUnavailable, startRealNode } from "../test/harness/realnode.ts";
import { startSatellite, waitForLog } from "../test/harness/satellite.ts";
import { kubeRequests } from "./operator.ts";

export interface FleetResults {
  sites: number;
  clustersPerSite: number;
  readySeconds: number;
  discovery: number[];
  cliReplies: number;
  microLs: number;
  puts: number[];
  idleSeconds: number;
  /** Per cluster: what a site operator uses beyond the baseline operator, divided by its clusters. */
  rssKbPerCluster: number;
  heapKbPerCluster: number;
  idleRequestsPerCluster: number;
  idleRequestsBaseline: Record<string, number>;
  /** Watches each operator opened again in the idle time (the baseline last). */
  watchRenewals: number[];
  /** Client connections on each cluster's server, idle and after the puts (and its names). */
  idleConnections: Connections;
  busyConnections: Connections;
  baselineRssMb: number;
  siteRssMb: number[];
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const siteName = (s: number) => `site-${String(s).padStart(2, "0")}`;

type Connections = { counts: number[]; names: string[] };

/** The client connections (not the leafnode link) on every cluster's server, and what they are called. */
async function clientConnections(kubectl: (...args: string[]) => string): Promise<Connections> {
  const ips = kubectl("get", "pods", "-A", "-l", "app=nats,nats_cluster", "-o", "jsonpath={.items[*].status.podIP}").split(" ");
  const conns = await Promise.all(ips.map((ip) => monitor(ip, "connz?auth=true")));
  const clients = conns.map((c) => c.connections.filter((x: { kind?: string }) => x.kind === "Client"));
  const described = (x: { name?: string; authorized_user?: string }) =>
    `${x.name?.replace(/fleet-\S+\/c\d+/, "<ns>/<cluster>") ?? "(no name)"}${x.authorized_user === "satellite" ? " (system account)" : ""}`;
  return { counts: clients.map((c) => c.length), names: [...new Set(clients.flat().map(described))] as string[] };
}

/** What a /metrics page says of one gauge. */
async function gauge(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)![1]);
}

/** Sends one request and collects replies until `want` arrived or `maxMs` passed; ms to the last. */
async function collect(
  nc: NatsConnection,
  subject: string,
  want: number,
  maxMs: number,
): Promise<{ n: number; ms: number; replies: unknown[] }> {
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { max: want });
  // A subscription's own timeout ends only one that got no message at all.
  const timer = setTimeout(() => sub.unsubscribe(), maxMs);
  const t0 = performance.now();
  nc.publish(subject, "", { reply: inbox });
  let n = 0;
  let ms = 0;
  const replies: unknown[] = [];
  for await (const m of sub) {
    n++;
    ms = performance.now() - t0;
    replies.push(m.json());
  }
  clearTimeout(timer);
  return { n, ms, replies };
}

export async function benchFleet(o: { sites: number; clustersPerSite: number; puts: number; idleMs: number; discoveries: number }) {
  const why = realNodeUnavailable();
  if (why) return why;
  const images = buildImages();
  const node = startRealNode({ archives: images.archives, maxPods: o.sites * o.clustersPerSite + 20 });
  const interrupted = () => {
    node.stop();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const kubectl = (...args: string[]) =>
    execFileSync(node.kubectlBin, ["--kubeconfig", node.kubeconfig, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  const ground = await startNatsServer({ name: "ground", leafListen: true, leafHost: "10.89.0.1" });
  const operators: { site: string; proc: Proc; port: number }[] = [];
  const total = o.sites * o.clustersPerSite;
  try {
    kubectl("apply", "--server-side", "-f", fileURLToPath(new URL("../manifests/crd.yaml", import.meta.url)));
    // The baseline: the same operator, flags and account, with no clusters in its namespace.
    for (const site of [...Array.from({ length: o.sites }, (_, s) => siteName(s)), "site-empty"]) {
      kubectl("create", "namespace", `fleet-${site}`);
      const port = await freePort();
      const proc = startSatellite(
        ["run", "-operator", "-config-api", "-site", site, "-n", `fleet-${site}`, "-health", `127.0.0.1:${port}`, "-log-format", "json"],
        { env: { KUBECONFIG: node.kubeconfig }, name: `operator ${site}` },
      );
      operators.push({ site, proc, port });
    }
    for (const op of operators) await waitForLog(op.proc, "operator caches synced", 60_000);
    const t0 = performance.now();
    for (let s = 0; s < o.sites; s++) {
      const items = Array.from({ length: o.clustersPerSite }, (_, c) => ({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: `c${c}`, namespace: `fleet-${siteName(s)}` },
        spec: {
          size: 1,
          version: images.natsVersion,
          configReload: { mode: "operator" },
          leafnodeConfig: { remotes: [{ url: `nats://10.89.0.1:${ground.leafPort}` }] },
        },
      }));
      execFileSync(node.kubectlBin, ["--kubeconfig", node.kubeconfig, "apply", "--server-side", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
      });
    }
    const nc = await connect({ servers: ground.url });
    await waitFor(
      `${total} clusters answering _SAT.discover from the ground, every server ready`,
      async () =>
        (await collect(nc, "_SAT.discover", total, 3_000)).replies.filter((r) => (r as { servers: { ready: number } }).servers.ready === 1)
          .length === total,
      600_000,
      2_000,
    );
    const readySeconds = (performance.now() - t0) / 1000;
    process.stderr.write(`bench: fleet: ${total} clusters ready in ${readySeconds.toFixed(0)} s; ${o.idleMs / 1000} s idle next\n`);

    // Idle: nothing asked of anyone; what the operators ask of the API server meanwhile.
    await sleep(10_000);
    const before = await Promise.all(operators.map((op) => kubeRequests(op.port)));
    const idleStart = performance.now();
    await sleep(o.idleMs);
    const idleSeconds = (performance.now() - idleStart) / 1000;
    const after = await Promise.all(operators.map((op) => kubeRequests(op.port)));
    const delta = (i: number) => {
      const d: Record<string, number> = {};
      for (const [k, v] of Object.entries(after[i]!)) if (v - (before[i]![k] ?? 0) > 0) d[k] = v - (before[i]![k] ?? 0);
      return d;
    };
    // A watch the API server ends after its timeout (4-6 min) is opened again: one request per kind
    // watched, whatever the number of clusters. Everything else would be a cost of the clusters.
    const notWatches = (d: Record<string, number>) =>
      Object.entries(d)
        .filter(([k]) => !k.startsWith("watch "))
        .reduce((a, [, v]) => a + v, 0);
    const baseline = operators.length - 1;
    const siteRequests = operators.slice(0, baseline).map((_, i) => notWatches(delta(i)));
    const idleRequestsPerCluster = (siteRequests.reduce((a, b) => a + b, 0) / o.sites - notWatches(delta(baseline))) / o.clustersPerSite;
    const watchRenewals = operators.map((_, i) =>
      Object.entries(delta(i))
        .filter(([k]) => k.startsWith("watch "))
        .reduce((a, [, v]) => a + v, 0),
    );
    const rss = await Promise.all(operators.map((op) => gauge(op.port, "process_resident_memory_bytes")));
    const heap = await Promise.all(operators.map((op) => gauge(op.port, "satellite_heap_used_bytes")));
    const perCluster = (xs: number[]) =>
      (xs.slice(0, baseline).reduce((a, b) => a + b, 0) / o.sites - xs[baseline]!) / o.clustersPerSite / 1024;

    const idleConnections = await clientConnections(kubectl);
    const discovery: number[] = [];
    for (let i = 0; i < o.discoveries; i++) {
      const r = await collect(nc, "_SAT.discover", total, 5_000);
      if (r.n !== total) throw new Error(`_SAT.discover: ${r.n} replies of ${total}`);
      discovery.push(r.ms);
    }
    const nats = (...args: string[]) => execFileSync(binaries().NATS_CLI_BIN, ["-s", ground.url, ...args], { encoding: "utf8" });
    const cliReplies = nats("req", "_SAT.discover", "", "--replies=0", "--timeout=2s", "--raw")
      .split("\n")
      .filter((l) => l.startsWith("{")).length;
    const microLs = (nats("micro", "ls").match(/satellite config API for/g) ?? []).length;

    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const puts: number[] = [];
    for (let i = 0; i < o.puts; i++) {
      const subject = `_SAT.${siteName(random(o.sites))}.c${random(o.clustersPerSite)}.config.put`;
      const s = performance.now();
      const m = await nc.request(subject, JSON.stringify({ routes: [`nats://extra-${i}.example:6222`], wait: "20s" }), { timeout: 25_000 });
      const reply = m.json<{ ok: boolean; reload?: { complete: boolean; ok: boolean } }>();
      if (!reply.ok || !reply.reload?.complete || !reply.reload.ok) throw new Error(`${subject}: not confirmed: ${m.string()}`);
      puts.push(performance.now() - s);
    }
    await nc.close();
    const busyConnections = await clientConnections(kubectl);
    return {
      sites: o.sites,
      clustersPerSite: o.clustersPerSite,
      readySeconds,
      discovery,
      cliReplies,
      microLs,
      puts,
      idleSeconds,
      rssKbPerCluster: perCluster(rss),
      heapKbPerCluster: perCluster(heap),
      idleRequestsPerCluster,
      idleRequestsBaseline: delta(baseline),
      watchRenewals,
      idleConnections,
      busyConnections,
      baselineRssMb: rss[baseline]! / 2 ** 20,
      siteRssMb: rss.slice(0, baseline).map((x) => x / 2 ** 20),
    } satisfies FleetResults;
  } finally {
    await Promise.all(operators.map((op) => op.proc.stop()));
    await ground.stop();
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    const left = node.stop();
    if (left) process.stderr.write(`the real node left this behind:\n${left}\n`);
  }
}

export function fleetMarkdown(f: FleetResults | string): string {
  if (typeof f === "string") return `## A fleet from one ground\n\nNot measured: ${f}\n`;
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const total = f.sites * f.clustersPerSite;
  const range = (xs: number[]) => (Math.min(...xs) === Math.max(...xs) ? `${xs[0]}` : `${Math.min(...xs)}–${Math.max(...xs)}`);
  return `## A fleet from one ground (real node)

${f.sites} sites × ${f.clustersPerSite} NatsClusters: each site a namespace and one operator (\`satellite run -operator
-config-api -site site-NN\`, run from this host), each cluster one server (\`configReload: {mode: operator}\`) with a
leafnode link to one ground nats-server. All ${total} answered \`_SAT.discover\` with their server ready ${f.readySeconds.toFixed(0)} s
after the NatsClusters were applied. From the ground:

| measure | n | p50 | p99 / max | goal |
|---|---|---|---|---|
| \`_SAT.discover\` until all ${total} replies are in | ${f.discovery.length} | ${ms(percentile(f.discovery, 50))} | ${ms(Math.max(...f.discovery))} | < 1 s |
| \`config.put\` with \`wait\` to a random cluster, until its server is confirmed | ${f.puts.length} | ${ms(percentile(f.puts, 50))} | ${ms(percentile(f.puts, 99))} | |

\`nats req _SAT.discover '' --replies=0 --timeout=2s\` printed ${f.cliReplies} replies; \`nats micro ls\` listed ${f.microLs} satellite services.

Cost per cluster, idle: one more operator with the same flags and no clusters is the baseline
(${f.baselineRssMb.toFixed(1)} MB resident); the site operators (${f.siteRssMb.map((x) => x.toFixed(1)).join(", ")} MB) use beyond it, divided by their ${f.clustersPerSite} clusters:

| per cluster | measured | goal |
|---|---|---|
| memory (resident) | ${(f.rssKbPerCluster / 1024).toFixed(2)} MB (JS heap in use ${(f.heapKbPerCluster / 1024).toFixed(2)} MB) | ≤ 1 MB |
| API requests in ${f.idleSeconds.toFixed(0)} s idle, besides watches renewed | ${f.idleRequestsPerCluster.toFixed(2)} | 0 |
| client connections on the cluster's server, idle | ${range(f.idleConnections.counts)} (${f.idleConnections.names.join("; ")}) | |
| the same after the puts | ${range(f.busyConnections.counts)} (${f.busyConnections.names.join("; ")}) | |

Watches renewed in that time (the API server ends each after 4–6 min; one per kind watched, with or
without clusters): site operators ${range(f.watchRenewals.slice(0, -1))}, the baseline ${f.watchRenewals.at(-1)} (${
    Object.entries(f.idleRequestsBaseline)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", ") || "none"
  }).
`;
}
