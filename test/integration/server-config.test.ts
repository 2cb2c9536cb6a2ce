// Rendered nats.conf files, checked by real nats-server binaries: `nats-server -t` on the
// current release and on Debian's older 2.9, then two routed servers started from rendered
// configs, one of them a leaf of a hub, with TLS and a user whose password needs escaping.

import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import {
  type ClientsAuth,
  parseClientsAuth,
  renderServerConfig,
  type ServerConfigInput,
  type ServerPaths,
} from "../../handlers/operator/server-config.ts";
import { cipherSuiteNames, curveNames } from "../../handlers/operator/server-config-tls.ts";
import { serverVersion } from "../../handlers/operator/server-version.ts";
import { validateCluster } from "../../handlers/operator/validate.ts";
import { configDigest } from "../../handlers/reloader/digest.ts";
import { binaries } from "../harness/binaries.ts";
import { makeCerts } from "../harness/certs.ts";
import { freePorts, type NatsServer, type Proc, startNatsServer, startProcess, waitFor } from "../harness/index.ts";
import { check, natsCluster, render, serverBinaries } from "./rendered-config.ts";

const dir = mkdtempSync(join(tmpdir(), "satellite-server-config-"));
const certs = makeCerts(dir);
// The CRD's default file names, for specs that do not name their files.
const defaultTls = join(dir, "default-tls");
mkdirSync(defaultTls);
for (const [from, to] of [
  [certs.caCert, "ca.pem"],
  [certs.serverCert, "server.pem"],
  [certs.serverKey, "server-key.pem"],
  [certs.adminCert, "route.pem"],
  [certs.adminKey, "route-key.pem"],
] as const) {
  copyFileSync(from, join(defaultTls, to));
}
const paths: Partial<ServerPaths> = {
  pidFile: join(dir, "nats.pid"),
  serverTlsDir: dir,
  routesTlsDir: dir,
  leafCredsDir: (name) => join(dir, "leaf-creds", name),
};
const running: (NatsServer | Proc)[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

const parsed = (json: unknown): ClientsAuth => {
  const r = parseClientsAuth(JSON.stringify(json));
  if ("error" in r) throw new Error(r.error.message);
  return r.value;
};
const hostile = `p"a\\ss $x #y {z} // 'q' ü`;
const clientsAuth = parsed({
  users: [
    { username: "admin", password: "secret1" },
    { username: "weird user", password: hostile, permissions: { publish: ["hello.*"], subscribe: ["hello.world", "jobs.* workers"] } },
    { username: "limited", permissions: { publish: { allow: ["a.>"], deny: ["a.secret"] }, subscribe: { deny: [">"] } } },
  ],
  default_permissions: { publish: ["SANDBOX.*"], subscribe: ["PUBLIC.>"] },
  timeout: 3,
});
const customTls = {
  serverSecret: "nats-tls",
  serverSecretCertFileName: "server.crt",
  serverSecretKeyFileName: "server.key",
  serverSecretCAFileName: "ca.crt",
  routesSecret: "routes-tls",
  routesSecretCertFileName: "admin.crt",
  routesSecretKeyFileName: "admin.key",
  routesSecretCAFileName: "ca.crt",
};
const leafnodeConfig = {
  hostPort: 7422,
  remotes: [
    { url: "nats://hub-a:7422", urls: ["nats://hub-b:7422"], credentialsSecret: { name: "leaf-creds" } },
    { urls: ["tls://hub-c:7422"], credentialsSecret: { name: "other", key: "ground.creds" } },
    { url: "nats://hub-d:7422", credentials: "/etc/creds/d.creds" },
  ],
};
const routes = ["nats://nats-0.nats-mgmt.edge-1.svc:6222", "nats-route://user:pa%22ss@nats-1.nats-mgmt.edge-1.svc:6222"];

const matrix: [string, NatsClusterSpec, Partial<ServerConfigInput>][] = [
  ["minimal", {}, {}],
  ["no routes", {}, { routes: [] }],
  [
    "every natsConfig option, lame duck, noAdvertise",
    {
      lameDuckDurationSeconds: 30,
      noAdvertise: true,
      natsConfig: {
        debug: true,
        trace: true,
        disableLogtime: true,
        maxConnections: 100,
        maxPayload: 2048,
        maxPending: 65536,
        maxSubscriptions: 10,
        maxControlLine: 4096,
        write_deadline: "10s",
      },
    },
    {},
  ],
  [
    "TLS for clients and routes, custom file names, verify, timeouts",
    { tls: { ...customTls, verify: true, clientsTLSTimeout: 2.5, routesTLSTimeout: 3 } },
    {},
  ],
  [
    "TLS with the CRD's default file names",
    { tls: { serverSecret: "s", routesSecret: "r" } },
    { paths: { ...paths, serverTlsDir: defaultTls, routesTlsDir: defaultTls } },
  ],
  ["auth with users and permissions", { auth: { clientsAuthSecret: "nats-clients-auth", clientsAuthTimeout: 5 } }, { clientsAuth }],
  ["auth with no users", { auth: { clientsAuthSecret: "nats-clients-auth" } }, { clientsAuth: parsed({ users: [] }) }],
  ["leafnode port and remotes", { leafnodeConfig }, {}],
  ["leafnode remotes only", { leafnodeConfig: { remotes: [{ url: "nats://hub:7422" }] } }, {}],
  [
    "gateway with remotes, reject_unknown, TLS and its timeout",
    {
      gatewayConfig: {
        hostPort: 7522,
        rejectUnknown: true,
        gateways: [
          { name: "sat-test", url: "nats://nats-mgmt.edge-1.svc:7522" },
          { name: "west", url: "tls://west.example.com:7522" },
        ],
      },
      tls: { gatewaySecret: "g", gatewaysTLSTimeout: 2 },
    },
    { paths: { ...paths, gatewayTlsDir: defaultTls } },
  ],
  ["gateway alone", { gatewayConfig: {} }, {}],
  [
    "websocket in plain text, compression, handshake timeout",
    { websocketConfig: { port: 9222, handshakeTimeout: "5s", compression: true } },
    {},
  ],
  [
    "websocket and leafnode TLS with their timeouts",
    {
      websocketConfig: {},
      leafnodeConfig: { hostPort: 7422 },
      tls: { websocketSecret: "w", websocketTLSTimeout: 2, leafnodeSecret: "l", leafnodesTLSTimeout: 3 },
    },
    { paths: { ...paths, websocketTlsDir: defaultTls, leafnodeTlsDir: defaultTls } },
  ],
  [
    "client TLS with verify_and_map, a cipher suite and a curve every version takes",
    {
      tls: { serverSecret: "s", cipherSuites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], curvePreferences: ["CurveP256"] },
      auth: { tlsVerifyAndMap: true },
    },
    { paths: { ...paths, serverTlsDir: defaultTls } },
  ],
  [
    "JetStream with the zone tag, the spec's tags and a unique tag",
    { jetstream: { enabled: true, fileStorage: { size: "1Gi" }, serverTags: ["ssd", "team:a b"], uniqueTag: "zone" } },
    {
      zoneTags: true,
      jetstream: { maxMemoryStore: 2 ** 28, maxFileStore: 2 ** 30, serverTags: ["ssd", "team:a b"], uniqueTag: "zone" },
    },
  ],
];

const servers = () =>
  [
    ["2.14.9", binaries().NATS_SERVER_BIN],
    ["2.9.10 (Debian)", binaries().NATS_SERVER_OLD_BIN],
  ] as const;

describe("nats-server -t accepts every rendered config", () => {
  const env = { ...process.env, POD_NAME: "nats-0", NATS_ZONE_TAG: "zone:zone-a" };
  for (const [version, index] of [
    ["2.14.9", 0],
    ["2.9.10 (Debian)", 1],
  ] as const) {
    it.each(matrix)(`${version}: %s`, (name, spec, more) => {
      const bin = servers()[index][1];
      const file = join(dir, `${index}-${name.replace(/\W+/g, "-")}.conf`);
      writeFileSync(file, render({ cluster: natsCluster(spec), clusterName: "sat-test", routes, paths, ...more }));
      const r = check(bin, file, env);
      expect(r.out).toMatch(/configuration file .* is valid/);
      expect(r.ok).toBe(true);
    });
  }

  it.each(matrix)("2.14.9: config_digest of %s is the one satellite computes", (name, spec, more) => {
    const file = join(dir, `digest-${name.replace(/\W+/g, "-")}.conf`);
    const text = render({ cluster: natsCluster(spec), clusterName: "sat-test", routes, paths, ...more });
    writeFileSync(file, text);
    const theirs = /\((sha256:[0-9a-f]{64})\)/.exec(check(servers()[0][1], file, env).out)?.[1];
    expect(theirs).toBeDefined();
    expect(configDigest({ "nats.conf": text }, "nats.conf", { POD_NAME: "nats-0", NATS_ZONE_TAG: "zone:zone-a" })).toEqual({
      digest: theirs,
    });
  });

  it("2.14.9: config_digest with includes, sizes, floats, booleans and HTML characters in text", () => {
    const files = {
      "main.conf":
        'include "more.conf"\nport: 4222\nmax_payload: 2MB\nping_interval: "2m"\ndebug: on\nauthorization { token: "a<b>&c\u2028d" }\n',
      "more.conf":
        'write_deadline: "3s"\ncluster { name: x, port: 6222, routes: [] }\nleafnodes { remotes: [ { url: "nats://h:7422" } ] }\n',
    };
    for (const [f, t] of Object.entries(files)) writeFileSync(join(dir, f), t);
    const theirs = /\((sha256:[0-9a-f]{64})\)/.exec(check(servers()[0][1], join(dir, "main.conf"), env).out)?.[1];
    expect(theirs).toBeDefined();
    expect(configDigest(files, "main.conf", {})).toEqual({ digest: theirs });
  });

  it.each(servers())("%s: server_name really comes from the env var POD_NAME", (_version, bin) => {
    const file = join(dir, "no-pod-name.conf");
    writeFileSync(file, render({ cluster: natsCluster({}), clusterName: "sat-test", routes, paths }));
    const { POD_NAME: _, ...without } = process.env;
    const r = check(bin, file, without);
    expect(r.ok).toBe(false);
    expect(r.out).toContain("variable reference for 'POD_NAME' on line 2 can not be found");
  });

  it("2.14.9 rejects a permission subject that 2.9.10 lets through, so parseClientsAuth rejects it for both", () => {
    const file = join(dir, "bad-subject.conf");
    writeFileSync(file, `authorization { users: [ { user: "a", permissions: { publish: ["a b"] } } ] }\n`);
    expect(check(servers()[0][1], file, env).out).toContain(`subject "a b" is not a valid subject`);
    expect(check(servers()[1][1], file, env).ok).toBe(true);
    expect(parseClientsAuth(`{"users":[{"username":"a","permissions":{"publish":["a b"]}}]}`)).toEqual({
      error: { code: 400, message: `users[0].permissions.publish[0] "a b" is not a valid subject` },
    });
  });
});

describe("nats-server -t of releases nats-operator users run accepts the config rendered for that version", () => {
  const env = { ...process.env, POD_NAME: "nats-0" };
  const legacy = () =>
    binaries()
      .NATS_SERVER_LEGACY_BINS.split(":")
      .filter(Boolean)
      .map((bin) => [/nats-server-v([0-9.]+)$/.exec(bin)![1]!, bin] as const);

  it("the test bed built 2.0.0, 2.1.9 and 2.6.1", () => {
    expect(legacy().map(([v]) => v)).toEqual(["2.0.0", "2.1.9", "2.6.1"]);
  });

  for (const version of ["2.0.0", "2.1.9", "2.6.1"]) {
    it.each(matrix)(`${version}: %s`, (name, spec, more) => {
      const bin = legacy().find(([v]) => v === version)![1];
      const file = join(dir, `legacy-${version}-${name.replace(/\W+/g, "-")}.conf`);
      // What validation refuses for this version never reaches a server.
      const refused = validateCluster(natsCluster({ ...spec, version }), {}).problems.filter((p) => p.includes(version));
      if (refused.length) {
        expect(refused).toEqual([
          spec.jetstream
            ? `spec.jetstream needs nats-server 2.9.0 or later (its /healthz tells when JetStream is current); spec.version is ${version}`
            : `spec.websocketConfig needs nats-server 2.2.0 or later (the first with WebSocket); spec.version is ${version}`,
        ]);
        return;
      }
      const rendered = renderServerConfig({ cluster: natsCluster({ ...spec, version }), clusterName: "sat-test", routes, paths, ...more });
      if ("error" in rendered) {
        // 2.0.0 takes one URL per leafnode remote: a remote with several is refused, not cut short.
        expect(version).toBe("2.0.0");
        expect(rendered.error.message).toContain("takes one per remote (2.0.2 and later take several)");
        return;
      }
      writeFileSync(file, rendered.text);
      const r = check(bin, file, env);
      expect(r.out).toMatch(/configuration file .* is valid/);
      expect(r.ok).toBe(true);
    });
  }

  it("the newest's config (cluster name, server_name) is what 2.0.0 refuses: the check can fail", () => {
    const bin = legacy()[0]![1];
    const file = join(dir, "legacy-newest-on-2.0.0.conf");
    writeFileSync(file, render({ cluster: natsCluster({}), clusterName: "sat-test", routes, paths }));
    const r = check(bin, file, env);
    expect(r.ok).toBe(false);
    expect(r.out).toContain('unknown field "server_name"');
  });
});

describe("cipher suites and curves: what validation lets through for a version, that version's nats-server takes", () => {
  const env = { ...process.env, POD_NAME: "nats-0" };
  const all = serverBinaries;
  it.each(["2.14.9", "2.9.10", "2.0.0", "2.1.9", "2.6.1"])("%s: every name satellite allows for it", (version) => {
    const bin = all().find(([v]) => v === version)![1]!;
    const v = serverVersion(version);
    const spec = { version, tls: { serverSecret: "s", cipherSuites: cipherSuiteNames(v), curvePreferences: curveNames(v) } };
    expect(validateCluster(natsCluster(spec), { s: { "ca.pem": "x", "server.pem": "x", "server-key.pem": "x" } }).problems).toEqual([]);
    const file = join(dir, `ciphers-${version}.conf`);
    writeFileSync(
      file,
      render({ cluster: natsCluster(spec), clusterName: "sat-test", routes: [], paths: { ...paths, serverTlsDir: defaultTls } }),
    );
    const r = check(bin, file, env);
    expect(r.out).toMatch(/configuration file .* is valid/);
  });

  it("2.14.9 refuses an insecure suite and 2.9.10 a name it predates: validation refuses both first", () => {
    for (const [version, name] of [
      ["2.14.9", "TLS_RSA_WITH_AES_128_CBC_SHA"],
      ["2.9.10", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"],
    ] as const) {
      const bin = all().find(([v]) => v === version)![1]!;
      const spec = { version, tls: { serverSecret: "s", cipherSuites: [name] } };
      const file = join(dir, `cipher-refused-${version}.conf`);
      writeFileSync(
        file,
        render({ cluster: natsCluster(spec), clusterName: "sat-test", routes: [], paths: { ...paths, serverTlsDir: defaultTls } }),
      );
      expect(check(bin, file, env).ok).toBe(false);
      expect(validateCluster(natsCluster(spec), { s: { "ca.pem": "x", "server.pem": "x", "server-key.pem": "x" } }).problems).toEqual([
        expect.stringContaining(`spec.tls.cipherSuites has "${name}", which nats-server ${version} does not take`),
      ]);
    }
  });
});

describe("servers started from rendered configs", () => {
  it("run with the pod's name, the cluster name, routes, TLS, users and a leafnode remote", async () => {
    const bin = binaries().NATS_SERVER_BIN;
    const hub = await startNatsServer({ name: "hub", leafListen: true });
    running.push(hub);
    const [c0, c1, m0, m1, k0, k1, leaf0] = (await freePorts(7)) as [number, number, number, number, number, number, number];
    const clusterRoutes = [`nats://127.0.0.1:${k0}`, `nats://127.0.0.1:${k1}`];
    const start = (i: number, spec: NatsClusterSpec, input: Partial<ServerConfigInput>) => {
      const file = join(dir, `run-${i}.conf`);
      writeFileSync(file, render({ cluster: natsCluster(spec), clusterName: "sat-test", routes: clusterRoutes, ...input }));
      const proc = startProcess(`nats-${i}`, bin, ["-c", file], join(dir, `run-${i}.log`), { ...process.env, POD_NAME: `nats-${i}` });
      running.push(proc);
      return proc;
    };
    const spec0: NatsClusterSpec = {
      lameDuckDurationSeconds: 30,
      noAdvertise: true,
      natsConfig: { maxPayload: 2048 },
      tls: {
        serverSecret: "nats-tls",
        serverSecretCertFileName: "server.crt",
        serverSecretKeyFileName: "server.key",
        serverSecretCAFileName: "ca.crt",
        clientsTLSTimeout: 2,
      },
      auth: { clientsAuthSecret: "nats-clients-auth", clientsAuthTimeout: 5 },
      leafnodeConfig: { hostPort: leaf0, remotes: [{ url: `nats://127.0.0.1:${hub.leafPort}` }] },
    };
    const p0 = start(0, spec0, {
      clientsAuth,
      paths: { ...paths, pidFile: join(dir, "run-0.pid") },
      ports: { client: c0, cluster: k0, monitor: m0 },
    });
    const p1 = start(1, {}, { paths: { ...paths, pidFile: join(dir, "run-1.pid") }, ports: { client: c1, cluster: k1, monitor: m1 } });
    const monitor = async (port: number, endpoint: string) => (await fetch(`http://127.0.0.1:${port}/${endpoint}`)).json() as Promise<any>;
    for (const [p, m] of [
      [p0, m0],
      [p1, m1],
    ] as const) {
      await waitFor(`${p.name} /healthz`, async () => {
        if (!p.running()) throw new Error(`${p.name} exited:\n${p.tail(10)}`);
        return (await monitor(m, "healthz")).status === "ok";
      });
    }

    const varz = await monitor(m0, "varz");
    expect(varz).toMatchObject({
      server_name: "nats-0",
      port: c0,
      auth_required: true,
      tls_required: true,
      max_payload: 2048,
      auth_timeout: 5,
      tls_timeout: 2,
    });
    expect(varz.cluster).toMatchObject({ name: "sat-test", cluster_port: k0 });
    expect((await monitor(m1, "varz")).server_name).toBe("nats-1");

    const routez = await waitFor("the route between nats-0 and nats-1", async () => {
      const r = await monitor(m0, "routez");
      return r.num_routes >= 1 && r;
    });
    expect(routez.routes.map((r: { remote_name?: string }) => r.remote_name)).toContain("nats-1");
    const leafz = await waitFor("nats-0 as a leaf of the hub", async () => {
      const l = await hub.monitor("leafz");
      return l.leafnodes >= 1 && l;
    });
    expect(leafz.leafs[0].name).toBe("nats-0");

    // The escaped password round-trips through nats.conf; the wrong one does not get in.
    const tls = { caFile: certs.caCert };
    const nc = await connect({ servers: `nats://127.0.0.1:${c0}`, user: "weird user", pass: hostile, tls });
    await nc.flush();
    await nc.close();
    await expect(connect({ servers: `nats://127.0.0.1:${c0}`, user: "weird user", pass: "p", tls, reconnect: false })).rejects.toThrow(
      /authorization/i,
    );
  });
});
