import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaries } from "./binaries.ts";
import { freePort, freePorts, waitFor } from "./ports.ts";
import { type Proc, startProcess } from "./process.ts";

export interface NatsServerOptions {
  name?: string;
  /** Which binary: the current release (default) or Debian's older 2.9. */
  bin?: string;
  host?: string;
  /** Client port (default: a free one). */
  port?: number;
  /** Join a cluster: its name and the route URLs to dial. */
  cluster?: { name: string; routes: string[]; port?: number };
  /** Accept leafnode connections (on `leafHost`, default `host`). */
  leafListen?: boolean;
  leafHost?: string;
  /** Connect as a leaf to these hub leafnode URLs. */
  leafRemotes?: string[];
  /** Extra config text appended verbatim. */
  extra?: string;
  dir?: string;
}

export interface NatsServer {
  name: string;
  url: string;
  host: string;
  port: number;
  monitorPort: number;
  clusterPort: number;
  leafPort: number;
  configPath: string;
  dir: string;
  proc: Proc;
  pid: number;
  monitor<T = any>(endpoint: "varz" | "routez" | "leafz" | "healthz" | "connz" | "subsz"): Promise<T>;
  stop(): Promise<void>;
  /** Starts the same server again, same ports and config (after stop). */
  restart(): Promise<void>;
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const host = opts.host ?? "127.0.0.1";
  const name = opts.name ?? `n${Date.now().toString(36)}`;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), `satellite-nats-${name}-`));
  const [freeClient, monitorPort, clusterPortFree] = (await freePorts(3, host)) as [number, number, number];
  const leafPort = await freePort(opts.leafHost ?? host);
  const port = opts.port ?? freeClient;
  const clusterPort = opts.cluster?.port ?? clusterPortFree!;
  const lines = [`server_name: "${name}"`, `listen: "${host}:${port}"`, `http: "${host}:${monitorPort}"`];
  if (opts.cluster) {
    const routes = opts.cluster.routes.map((r) => `"${r}"`).join(", ");
    lines.push(`cluster {\n  name: "${opts.cluster.name}"\n  listen: "${host}:${clusterPort}"\n  routes: [${routes}]\n}`);
  }
  if (opts.leafListen) lines.push(`leafnodes {\n  listen: "${opts.leafHost ?? host}:${leafPort}"\n}`);
  if (opts.leafRemotes?.length) {
    lines.push(`leafnodes {\n  remotes: [${opts.leafRemotes.map((u) => `{ url: "${u}" }`).join(", ")}]\n}`);
  }
  if (opts.extra) lines.push(opts.extra);
  const configPath = join(dir, "nats.conf");
  writeFileSync(configPath, `${lines.join("\n")}\n`);
  const bin = opts.bin ?? binaries().NATS_SERVER_BIN;
  const monitor = async (endpoint: string): Promise<any> => {
    const res = await fetch(`http://${host}:${monitorPort}/${endpoint}`);
    if (!res.ok) throw new Error(`/${endpoint}: HTTP ${res.status}`);
    return res.json();
  };
  const launch = async () => {
    const proc = startProcess(`nats-server ${name}`, bin, ["-c", configPath], join(dir, "nats.log"));
    await waitFor(`nats-server ${name} /healthz`, async () => {
      if (!proc.running()) throw new Error(`nats-server exited:\n${proc.tail(10)}`);
      return (await monitor("healthz")).status === "ok";
    });
    return proc;
  };
  const server: NatsServer = {
    name,
    url: `nats://${host}:${port}`,
    host,
    port,
    monitorPort,
    clusterPort,
    leafPort,
    configPath,
    dir,
    proc: await launch(),
    pid: 0,
    monitor: monitor as NatsServer["monitor"],
    stop: () => server.proc.stop(),
    async restart() {
      await server.proc.stop();
      server.proc = await launch();
      server.pid = server.proc.pid;
    },
  };
  server.pid = server.proc.pid;
  return server;
}

/** N servers routed to each other; resolves once every server sees N-1 routes. */
export async function startNatsCluster(n: number, opts: { name?: string; bin?: string } = {}): Promise<NatsServer[]> {
  const clusterName = opts.name ?? `c${Date.now().toString(36)}`;
  const clusterPorts = await freePorts(n);
  const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`);
  const servers = await Promise.all(
    clusterPorts.map((port, i) =>
      startNatsServer({ name: `${clusterName}-${i}`, bin: opts.bin, cluster: { name: clusterName, routes, port } }),
    ),
  );
  await Promise.all(servers.map((s) => waitFor(`${s.name} routes`, async () => (await s.monitor("routez")).num_routes >= n - 1)));
  return servers;
}

/** A hub accepting leafnodes and a leaf connected to it; resolves once the link is up. */
export async function startHubAndLeaf(opts: { bin?: string } = {}): Promise<{ hub: NatsServer; leaf: NatsServer }> {
  const hub = await startNatsServer({ name: "hub", bin: opts.bin, leafListen: true });
  const leaf = await startNatsServer({ name: "leaf", bin: opts.bin, leafRemotes: [`nats-leaf://127.0.0.1:${hub.leafPort}`] });
  await waitFor("leafnode link", async () => (await hub.monitor("leafz")).leafnodes >= 1);
  return { hub, leaf };
}
