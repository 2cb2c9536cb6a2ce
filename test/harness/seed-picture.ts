// The seed's picture on one machine: three nats-server processes playing the pods nats-0..2 (on
// 127.0.0.2-4 with the standard ports), each with a satellite reloader watching the ConfigMap
// nats-config; a ground nats-server they link to as leafnodes; the config-API controller.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kinds } from "../../handlers/index.ts";
import { binaries } from "./binaries.ts";
import { manifest, type TestKube } from "./kube.ts";
import { setPodStatus } from "./kubelet.ts";
import { type NatsServer, startNatsServer } from "./nats.ts";
import { freePorts, waitFor } from "./ports.ts";
import { type Proc, startProcess } from "./process.ts";
import { startSatellite, waitForLog } from "./satellite.ts";

export const seedNatsConf = `server_name: $POD_NAME
host: $POD_IP
port: 4222
http_port: 8222
pid_file: $PID_FILE
accounts {
  SYS: { users: [ { user: sys, password: sys } ] }
  APP: { users: [ { user: app, password: app } ] }
}
system_account: SYS
no_auth_user: app
cluster {
  host: $POD_IP
  port: 6222
  include "routes.json"
}
leafnodes {
  remotes: [ { url: $GROUND_URL, account: APP } ]
}
`;
export const routesJson = (name: string, r: string[]) => `${JSON.stringify({ name, routes: r }, null, 2)}\n`;

export interface SeedServer {
  pod: string;
  ip: string;
  dir: string;
}

export interface SeedPicture {
  ns: string;
  servers: SeedServer[];
  routes: string[];
  ground: NatsServer;
  nats: Proc[];
  reloaders: Proc[];
  controller: Proc;
  startReloader(i: number, extra?: string[]): Proc;
  startController(): Proc;
  monitor(i: number, endpoint: string): Promise<any>;
  /** The last started controller's /metrics. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** `firstReloaderViaSystem`: nats-0's reloader reloads through $SYS (the others by signal). */
export async function startSeedPicture(kube: TestKube, o: { firstReloaderViaSystem?: boolean } = {}): Promise<SeedPicture> {
  const ns = await kube.createNamespace("seed");
  const servers: SeedServer[] = [0, 1, 2].map((i) => ({
    pod: `nats-${i}`,
    ip: `127.0.0.${i + 2}`,
    dir: mkdtempSync(join(tmpdir(), `sat-seed-nats-${i}-`)),
  }));
  const routes = servers.map((s) => `nats://${s.ip}:6222`);
  await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
  await kube.apply(manifest("controller.yaml"), { namespace: ns });
  const cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
  await kube.admin.replace(kinds.ConfigMap, { ...cm, data: { "nats.conf": seedNatsConf, "routes.json": routesJson("nats", routes) } });
  const reloaderKubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "nats-reloader"), ns, "nats-reloader");
  const controllerKubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite"), ns, "satellite");
  const ground = await startNatsServer({ name: "ground", leafListen: true });
  const monitor = async (i: number, endpoint: string) => (await fetch(`http://${servers[i]!.ip}:8222/${endpoint}`)).json() as Promise<any>;

  const startReloader = (i: number, extra: string[] = []) => {
    const s = servers[i]!;
    return startSatellite(
      [
        "reloader",
        "-configmap",
        "nats-config",
        "-dir",
        s.dir,
        "-pid",
        join(s.dir, "nats.pid"),
        "-monitor",
        `http://${s.ip}:8222`,
        "-s",
        `nats://${s.ip}:4222`,
        "-cluster",
        "nats",
        "-log-format",
        "json",
        ...extra,
      ],
      {
        env: { KUBECONFIG: reloaderKubeconfig, POD_NAMESPACE: ns, POD_NAME: s.pod },
        name: `reloader ${s.pod}`,
      },
    );
  };
  // Each start on a port of its own: a killed controller's may not be free yet.
  const healthPorts = await freePorts(3);
  let starts = 0;
  const healthPort = () => healthPorts[(starts - 1) % healthPorts.length]!;
  const startController = () => {
    starts++;
    const args = ["run", "-s", `nats://${servers[0]!.ip}:4222`, "-name", "nats", "-health", `127.0.0.1:${healthPort()}`];
    return startSatellite([...args, "-log-format", "json"], { env: { KUBECONFIG: controllerKubeconfig }, name: "controller" });
  };

  const nats: Proc[] = [];
  for (const [i, s] of servers.entries()) {
    // The init container: the config on disk before nats-server starts.
    const init = startReloader(i, ["-once"]);
    if ((await init.exited) !== 0) throw new Error(`reloader -once for ${s.pod} failed:\n${init.tail()}`);
    nats.push(
      startProcess(`nats ${s.pod}`, binaries().NATS_SERVER_BIN, ["-c", join(s.dir, "nats.conf")], join(s.dir, "nats.log"), {
        ...process.env,
        POD_NAME: s.pod,
        POD_IP: s.ip,
        PID_FILE: join(s.dir, "nats.pid"),
        GROUND_URL: `nats-leaf://127.0.0.1:${ground.leafPort}`,
      }),
    );
    await kube.admin.create(kinds.Pod, {
      metadata: { name: s.pod, namespace: ns, labels: { app: "nats" } },
      spec: { containers: [{ name: "nats", image: "nats:2.14.9-alpine" }] },
    });
    await setPodStatus(kube.admin, ns, s.pod, { phase: "Running", ready: true, podIP: s.ip });
  }
  await Promise.all(
    servers.map((s, i) =>
      waitFor(
        `${s.pod} routed and linked`,
        async () => (await monitor(i, "routez")).num_routes >= 2 && (await monitor(i, "leafz")).leafnodes >= 1,
        30_000,
      ),
    ),
  );
  const sys = o.firstReloaderViaSystem ? ["-reload-via", "system", "-sys-user", "sys", "-sys-password", "sys"] : [];
  const reloaders = [startReloader(0, sys), startReloader(1), startReloader(2)];
  await Promise.all(reloaders.map((r) => waitForLog(r, '"action"').catch(() => waitForLog(r, "satellite reloader"))));
  const picture: SeedPicture = {
    ns,
    servers,
    routes,
    ground,
    nats,
    reloaders,
    controller: startController(),
    startReloader,
    startController,
    monitor,
    metrics: async () => (await fetch(`http://127.0.0.1:${healthPort()}/metrics`)).text(),
    async stop() {
      await Promise.all([picture.controller, ...picture.reloaders].map((p) => p.stop()));
      await Promise.all(nats.map((p) => p.stop()));
      await ground.stop();
    },
  };
  await waitForLog(picture.controller, "serving config API");
  return picture;
}
