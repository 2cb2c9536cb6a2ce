// The reload paths on a real node, same node, same run:
//   satellite: config.put with wait from the ground -> every server of the seed's StatefulSet
//     reloaded and confirmed (the put's reply);
//   floor: what any path must do: write the object, see its watch event, reload 3 servers (SIGHUP
//     from the host, confirmed by /varz config_load_time);
//   the seeds' path: a ConfigMap mounted as a volume (the kubelet's default sync period) and a
//     file-watching reloader, from the write until nats-server's config_load_time moves.

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { kinds } from "../handlers/index.ts";
import { createKubeClient } from "../runtime/kube/client.ts";
import { loadKubeconfig } from "../runtime/kube/kubeconfig.ts";
import { startNatsServer } from "../test/harness/nats.ts";
import { waitFor } from "../test/harness/ports.ts";
import { buildImages, groundPatch, hostPid, realNodeUnavailable, startRealNode, writeOverlay } from "../test/harness/realnode.ts";
import { benchReloadModes, type ReloadModeResult, reloadModesMarkdown } from "./reload-modes.ts";

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ns = "bench";
const seedRoutes = ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222"];

export interface RealNodeResults {
  modes: ReloadModeResult[];
  puts: number[];
  floor: number[];
  volume: number[];
  volumeReplicas: number;
  nodeReadyMs: number;
}

export async function benchRealNode(o: { puts: number; volumeRounds: number; volumeReplicas: number }): Promise<RealNodeResults | string> {
  const why = realNodeUnavailable();
  if (why) return why;
  const images = buildImages();
  const t0 = Date.now();
  const node = startRealNode({ archives: images.archives, syncFrequency: "1m" });
  // Interrupted (Ctrl-C): still leave nothing on the host.
  const interrupted = () => {
    node.stop();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const nodeReadyMs = Date.now() - t0;
  const kubectl = (...args: string[]) =>
    execFileSync(node.kubectlBin, ["--kubeconfig", node.kubeconfig, "-n", ns, ...args], { encoding: "utf8" });
  const ground = await startNatsServer({ name: "ground", leafListen: true, leafHost: "10.89.0.1" });
  const kube = createKubeClient(loadKubeconfig(node.kubeconfig));
  try {
    kubectl("create", "namespace", ns);
    kubectl("apply", "-k", writeOverlay(ns, images, [groundPatch(`nats://10.89.0.1:${ground.leafPort}`)]));
    kubectl("apply", "--server-side", "-f", writeVolumeManifest(images, o.volumeReplicas));
    kubectl("rollout", "status", "statefulset/nats", "--timeout=180s");
    kubectl("rollout", "status", "deployment/satellite", "deployment/seedvol", "--timeout=180s");
    await waitFor("3 leafnode links at the ground", async () => (await ground.monitor("leafz")).leafnodes >= 3, 60_000, 250);

    const nc = await connect({ servers: ground.url });
    const puts: number[] = [];
    for (let i = -3; i < o.puts; i++) {
      const s = performance.now();
      const m = await nc.request(
        "_SAT.nats.config.put",
        JSON.stringify({ routes: [...seedRoutes, `nats://extra-${i + 3}:6222`], wait: "10s" }),
        { timeout: 15_000 },
      );
      const reply = JSON.parse(new TextDecoder().decode(m.data));
      const ok = reply.ok && reply.reload?.servers?.length === 3 && reply.reload.servers.every((x: { ok: boolean }) => x.ok);
      if (!ok) throw new Error(`config.put did not reload all 3 servers: ${JSON.stringify(reply)}`);
      if (i >= 0) puts.push(performance.now() - s);
    }
    await nc.close();

    process.stderr.write(`bench: real node: ${puts.length} puts measured; the operator's reload modes next\n`);
    const modes = await benchReloadModes({
      kubectlBin: node.kubectlBin,
      kubeconfig: node.kubeconfig,
      ns,
      version: images.natsVersion,
      puts: o.puts,
    });
    process.stderr.write("bench: real node: the floor next\n");
    const floor = await measureFloor(kube, node.kubectlBin, node.kubeconfig, o.puts);
    process.stderr.write("bench: real node: the seeds' volume path next (about a minute or two per round)\n");
    const volume = await measureVolume(kube, node.kubectlBin, node.kubeconfig, o.volumeRounds);
    return { modes, puts, floor, volume, volumeReplicas: o.volumeReplicas, nodeReadyMs };
  } finally {
    kube.close();
    await ground.stop();
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    const left = node.stop();
    if (left) process.stderr.write(`the real node left this behind:\n${left}\n`);
  }
}

interface ServerPod {
  name: string;
  ip: string;
  pid: number;
}

/** The seed StatefulSet's servers: pod IP and the host PID of each nats-server. */
function serverPods(kubectlBin: string, kubeconfig: string, selector: string): ServerPod[] {
  const list = JSON.parse(
    execFileSync(kubectlBin, ["--kubeconfig", kubeconfig, "-n", ns, "get", "pods", "-l", selector, "-o", "json"], { encoding: "utf8" }),
  );
  return list.items.map((p: any) => ({ name: p.metadata.name, ip: p.status.podIP, pid: hostPid(p.metadata.uid, "nats-server") }));
}

const loadTime = async (ip: string) =>
  ((await (await fetch(`http://${ip}:8222/varz`)).json()) as { config_load_time: string }).config_load_time;

async function measureFloor(
  kube: ReturnType<typeof createKubeClient>,
  kubectlBin: string,
  kubeconfig: string,
  n: number,
): Promise<number[]> {
  const servers = serverPods(kubectlBin, kubeconfig, "app=nats,!nats_cluster");
  let cm = await kube.create<any>(kinds.ConfigMap, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "floor", namespace: ns },
    data: { v: "0" },
  });
  // resourceVersion -> a waiter, or true once its event arrived (the event may beat the write's reply)
  const seen = new Map<string, true | (() => void)>();
  const abort = new AbortController();
  const watching = (async () => {
    for await (const ev of kube.watch(kinds.ConfigMap, ns, {
      fieldSelector: "metadata.name=floor",
      resourceVersion: cm.metadata.resourceVersion,
      signal: abort.signal,
    })) {
      const rv = (ev.object as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (!rv) continue;
      const waiter = seen.get(rv);
      seen.set(rv, true);
      if (typeof waiter === "function") waiter();
    }
  })().catch(() => undefined);
  await sleep(500);
  const out: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    const before = await Promise.all(servers.map((s) => loadTime(s.ip)));
    await sleep(1_100); // config_load_time has a resolution of a second on some versions: let it move
    const s = performance.now();
    cm = await kube.replace<any>(kinds.ConfigMap, { ...cm, data: { v: String(i + 1) } });
    const rv = cm.metadata.resourceVersion as string;
    if (seen.get(rv) !== true) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no watch event within 10 s of the write")), 10_000);
        seen.set(rv, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const srv of servers) process.kill(srv.pid, "SIGHUP");
    await Promise.all(
      servers.map(async (srv, j) => {
        while ((await loadTime(srv.ip)) === before[j]) {
          if (performance.now() - s > 10_000) throw new Error(`${srv.name} did not reload within 10 s of SIGHUP`);
          await sleep(1);
        }
      }),
    );
    if (i >= 3) out.push(performance.now() - s);
  }
  abort.abort();
  await watching;
  return out;
}

/** The seeds' path: one ConfigMap change; each replica's delay until its server reloaded. */
async function measureVolume(
  kube: ReturnType<typeof createKubeClient>,
  kubectlBin: string,
  kubeconfig: string,
  rounds: number,
): Promise<number[]> {
  const servers = serverPods(kubectlBin, kubeconfig, "app=seedvol");
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const before = await Promise.all(servers.map((s) => loadTime(s.ip)));
    const cm = await kube.get<any>(kinds.ConfigMap, { namespace: ns, name: "seedvol" });
    const s = Date.now();
    await kube.replace(kinds.ConfigMap, { ...cm, data: { ...cm.data, "routes.json": JSON.stringify({ name: `round${r}`, routes: [] }) } });
    const delays = await Promise.all(
      servers.map(async (srv, j) => {
        while ((await loadTime(srv.ip)) === before[j]) {
          if (Date.now() - s > 300_000) throw new Error(`${srv.name} did not reload within 300 s of the ConfigMap change`);
          await sleep(100);
        }
        return Date.now() - s;
      }),
    );
    out.push(...delays);
  }
  return out;
}

/** nats-server with its config from a ConfigMap volume, and satellite's reloader in file mode. */
function writeVolumeManifest(images: ReturnType<typeof buildImages>, replicas: number): string {
  const path = `${process.cwd()}/dist/bench-seedvol.json`;
  const conf = 'port: 4222\nhttp: 8222\npid_file: "/var/run/nats/nats.pid"\ncluster {\n  port: 6222\n  include "routes.json"\n}\n';
  const doc = {
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "seedvol", namespace: ns },
        data: { "nats.conf": conf, "routes.json": '{"name": "seedvol", "routes": []}' },
      },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "seedvol", namespace: ns },
        spec: {
          replicas,
          selector: { matchLabels: { app: "seedvol" } },
          template: {
            metadata: { labels: { app: "seedvol" } },
            spec: {
              shareProcessNamespace: true,
              volumes: [
                { name: "config", configMap: { name: "seedvol" } },
                { name: "pid", emptyDir: {} },
              ],
              containers: [
                {
                  name: "nats",
                  image: images.nats,
                  command: ["nats-server", "--config", "/etc/nats/nats.conf"],
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/nats" },
                    { name: "pid", mountPath: "/var/run/nats" },
                  ],
                },
                {
                  name: "reloader",
                  image: images.satellite,
                  args: ["reloader", "-config", "/etc/nats/nats.conf", "-pid", "/var/run/nats/nats.pid"],
                  securityContext: { runAsUser: 0 },
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/nats" },
                    { name: "pid", mountPath: "/var/run/nats" },
                  ],
                },
              ],
            },
          },
        },
      },
    ],
  };
  mkdirSync(`${process.cwd()}/dist`, { recursive: true });
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

export function realNodeMarkdown(r: RealNodeResults | string): string {
  if (typeof r === "string") return `## Reload on a real node\n\nNot measured on this machine: ${r}.\n`;
  const p = (xs: number[], q: number) => percentile(xs, q);
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
  const ratioSeed = p(r.volume, 50) / p(r.puts, 50);
  const ratioFloor = p(r.puts, 50) / p(r.floor, 50);
  return `## Reload on a real node

A real single-node Kubernetes (kubelet v1.36.3, containerd, CoreDNS, kube-proxy; \`test/realnode/up.sh\`),
node Ready in ${s(r.nodeReadyMs)} including image import. The seed's StatefulSet \`nats\` (3 real nats-server pods with satellite's
reloader sidecar), the config API controller from \`manifests/\`, a ground nats-server on this host.

| path | samples | p50 | p99 | max |
|---|---|---|---|---|
| satellite: \`config.put\` with \`wait\` from the ground → all 3 pods reloaded, confirmed (the reply) | ${r.puts.length} | ${ms(p(r.puts, 50))} | ${ms(p(r.puts, 99))} | ${ms(Math.max(...r.puts))} |
| floor: ConfigMap write + its watch event + SIGHUP to the 3 servers until their \`config_load_time\` moves | ${r.floor.length} | ${ms(p(r.floor, 50))} | ${ms(p(r.floor, 99))} | ${ms(Math.max(...r.floor))} |
| the seeds' path: ConfigMap volume (kubelet \`syncFrequency\` 1m, its default) + file-watching reloader, write → \`config_load_time\` moves (${r.volumeReplicas} pods per change) | ${r.volume.length} | ${s(p(r.volume, 50))} | ${s(p(r.volume, 99))} | ${s(Math.max(...r.volume))} |

satellite is **${ratioSeed.toFixed(0)}×** faster than the seeds' path (p50; goal ≥ 100×) and **${ratioFloor.toFixed(2)}×** the floor (p50; goal ≤ 3×).

${reloadModesMarkdown(r.modes, p(r.volume, 50))}`;
}
