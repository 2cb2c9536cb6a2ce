// spec.auth.clusterAuthSecret / gatewayAuthSecret against real nats-server binaries: every
// version satellite runs accepts the rendered authorization blocks (`nats-server -t`), and servers
// started from rendered configs on loopback route (and gateway) with the credentials, while one
// that dials without them is refused.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import type { ServerConfigInput } from "../../handlers/operator/server-config.ts";
import { type PeerAuth, parsePeerAuth } from "../../handlers/operator/server-config-peer-auth.ts";
import { binaries } from "../harness/binaries.ts";
import { freePorts, type Proc, startProcess, waitFor } from "../harness/index.ts";
import { check, natsCluster, render, serverBinaries } from "./rendered-config.ts";

const dir = mkdtempSync(join(tmpdir(), "satellite-cluster-auth-"));
const running: Proc[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

/** A password with every character a URL or nats.conf gives meaning to. */
const hostile = `p@ss:w/rd %?#&+ "q" \\ $x {y} é`;
const peer = (json: object): PeerAuth => {
  const r = parsePeerAuth(JSON.stringify(json));
  if ("error" in r) throw new Error(r.error.message);
  return r.value;
};
const routeAuth = peer({ username: "route user", password: hostile, timeout: 3 });
const gatewayAuth = peer({ username: "gw@user", password: hostile });
const routes = ["nats://nats-1.nats-mgmt.edge-1.svc:6222", "nats://nats-2.nats-mgmt.edge-1.svc:6222"];
const gatewayConfig = {
  gateways: [
    { name: "sat-test", url: "nats://nats-mgmt.edge-1.svc:7222" },
    { name: "west", url: "nats://west.example.com:7222" },
  ],
};

const checked = (bin: string, file: string) => check(bin, file, { ...process.env, POD_NAME: "nats-1" });

describe("nats-server -t accepts the routes' and gateways' authorization on every version satellite runs", () => {
  it.each(["2.14.9", "2.9.10", "2.6.1", "2.1.9", "2.0.0"])("%s", (version) => {
    const bin = serverBinaries().find(([v]) => v === version)![1];
    const spec: NatsClusterSpec = {
      version,
      gatewayConfig,
      auth: { clusterAuthSecret: "r", clusterAuthTimeout: 5, gatewayAuthSecret: "g", gatewayAuthTimeout: 4 },
    };
    const text = render({ cluster: natsCluster(spec), clusterName: "sat-test", routes, clusterAuth: routeAuth, gatewayAuth });
    const file = join(dir, `check-${version}.conf`);
    writeFileSync(file, text);
    const r = checked(bin, file);
    expect(r.out).toMatch(/configuration file .* is valid/);
    expect(r.ok).toBe(true);
  });

  it("2.14.9 refuses what the Secret's parser refuses: a users list in cluster authorization", () => {
    const file = join(dir, "users.conf");
    writeFileSync(file, 'cluster { listen: "127.0.0.1:-1", authorization { users: [ { user: "a", password: "b" } ] } }\n');
    expect(checked(binaries().NATS_SERVER_BIN, file).out).toContain("Cluster authorization does not allow multiple users");
  });
});

describe("servers started from rendered configs", () => {
  const monitor = async (port: number, endpoint: string) => (await fetch(`http://127.0.0.1:${port}/${endpoint}`)).json() as Promise<any>;
  /** A server from a rendered config, on loopback ports: its monitoring port and process. */
  function start(
    name: string,
    spec: NatsClusterSpec,
    input: Partial<ServerConfigInput>,
    ports: [number, number, number],
    binary = binaries().NATS_SERVER_BIN,
  ) {
    const [client, cluster, monitorPort] = ports;
    const file = join(dir, `${name}.conf`);
    const text = render({
      cluster: natsCluster(spec),
      clusterName: "sat-test",
      routes: [],
      paths: { pidFile: join(dir, `${name}.pid`) },
      ports: { client, cluster, monitor: monitorPort },
      ...input,
    });
    writeFileSync(file, text);
    const proc = startProcess(name, binary, ["-c", file], join(dir, `${name}.log`), { ...process.env, POD_NAME: name });
    running.push(proc);
    return { proc, monitor: monitorPort, text, log: () => readFileSync(join(dir, `${name}.log`), "utf8") };
  }
  // /varz: servers before 2.7.1 have no /healthz.
  const healthy = (s: ReturnType<typeof start>) =>
    waitFor(`${s.proc.name} /varz`, async () => {
      if (!s.proc.running()) throw new Error(`${s.proc.name} exited:\n${s.proc.tail(10)}`);
      return Boolean((await monitor(s.monitor, "varz")).server_id);
    });

  it("route to each other with the credentials in their route URLs; a server dialing without them is refused", async () => {
    const p = (await freePorts(12)) as number[];
    const routeUrls = [p[1], p[4], p[7]].map((port) => `nats://127.0.0.1:${port}`);
    const spec = { auth: { clusterAuthSecret: "route-auth" } };
    const servers = [0, 1, 2].map((i) =>
      start(`routed-${i}`, spec, { routes: routeUrls, clusterAuth: routeAuth }, [p[3 * i]!, p[3 * i + 1]!, p[3 * i + 2]!]),
    );
    expect(servers[0]!.text).toContain(
      `"nats://route%20user:p%40ss%3Aw%2Frd%20%25%3F%23%26%2B%20%22q%22%20%5C%20%24x%20%7By%7D%20%C3%A9@127.0.0.1:`,
    );
    for (const s of servers) await healthy(s);
    for (const s of servers) {
      const routez = await waitFor(`${s.proc.name}'s routes to the other two`, async () => {
        const r = await monitor(s.monitor, "routez");
        return new Set(r.routes.map((x: { remote_name?: string; remote_id: string }) => x.remote_name ?? x.remote_id)).size >= 2 && r;
      });
      expect([...new Set(routez.routes.map((x: { remote_name?: string }) => x.remote_name))].sort()).toEqual(
        ["routed-0", "routed-1", "routed-2"].filter((n) => n !== s.proc.name),
      );
    }
    expect((await monitor(servers[0]!.monitor, "varz")).cluster).toMatchObject({ auth_timeout: 3 });

    for (const s of servers) expect(s.log()).not.toMatch(/authentication error/);

    // The same routes, without the credentials: each server it dials refuses it.
    const outsider = start("outsider", {}, { routes: routeUrls }, [p[9]!, p[10]!, p[11]!]);
    await healthy(outsider);
    await waitFor(
      "the routed servers to refuse the outsider's routes",
      async () =>
        servers.every((s) => /authentication error/.test(s.log())) && /Route Error 'Authorization Violation'/.test(outsider.log()),
      10_000,
    );
    expect((await monitor(outsider.monitor, "routez")).num_routes).toBe(0);
    for (const s of servers) {
      const names = (await monitor(s.monitor, "routez")).routes.map((x: { remote_name?: string }) => x.remote_name);
      expect(names).not.toContain("outsider");
    }
  });

  it.each(["2.14.9", "2.1.9"])("%s gateways connect with their credentials, and a gateway without them is refused", async (version) => {
    const binary = serverBinaries().find(([v]) => v === version)![1];
    const named = (n: string) => `${n}-${version}`;
    const p = (await freePorts(12)) as number[];
    const gwPorts = [(await freePorts(1))[0]!, (await freePorts(1))[0]!, (await freePorts(1))[0]!];
    const cluster = (name: string, port: number, remotes: { name: string; url: string }[], auth?: PeerAuth): NatsClusterSpec => ({
      version,
      gatewayConfig: { name, hostPort: port, gateways: remotes },
      ...(auth ? { auth: { gatewayAuthSecret: "gw-auth", gatewayAuthTimeout: 2 } } : {}),
    });
    const east = start(
      named("east"),
      cluster("east", gwPorts[0]!, [{ name: "west", url: `nats://127.0.0.1:${gwPorts[1]}` }], gatewayAuth),
      { clusterName: "east", gatewayAuth },
      [p[0]!, p[1]!, p[2]!],
      binary,
    );
    const west = start(
      named("west"),
      // 2.14.9 dials east, which it learns of (implicit), with its own credentials; before 2.2.0 a
      // gateway dials those without any, so there the clusters list each other.
      cluster("west", gwPorts[1]!, version === "2.14.9" ? [] : [{ name: "east", url: `nats://127.0.0.1:${gwPorts[0]}` }], gatewayAuth),
      { clusterName: "west", gatewayAuth },
      [p[3]!, p[4]!, p[5]!],
      binary,
    );
    // 2.2.0 and later dial a URL without a user with their own gateway credentials; before, satellite writes them in.
    const dialed = version === "2.14.9" ? "" : "gw%40user:p%40ss%3Aw%2Frd%20%25%3F%23%26%2B%20%22q%22%20%5C%20%24x%20%7By%7D%20%C3%A9@";
    expect(east.text).toContain(`url: "nats://${dialed}127.0.0.1:${gwPorts[1]}"`);
    for (const s of [east, west]) await healthy(s);
    const gatewayz = await waitFor("east's gateway to west", async () => {
      const g = await monitor(east.monitor, "gatewayz");
      return g.outbound_gateways?.west && g.inbound_gateways?.west && g;
    });
    expect(gatewayz.outbound_gateways.west.configured).toBe(true);

    const north = start(
      named("north"),
      cluster("north", gwPorts[2]!, [{ name: "west", url: `nats://127.0.0.1:${gwPorts[1]}` }]),
      { clusterName: "north" },
      [p[6]!, p[7]!, p[8]!],
      binary,
    );
    await healthy(north);
    await waitFor(
      "west to refuse north's gateway",
      async () => /authentication error/.test(west.log()) && /Gateway Error 'Authorization Violation'/.test(north.log()),
      10_000,
    );
    expect(Object.keys((await monitor(west.monitor, "gatewayz")).inbound_gateways ?? {})).not.toContain("north");
  });
});
