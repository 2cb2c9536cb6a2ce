import { describe, expect, it } from "vitest";
import { parseNatsConf } from "../../handlers/reloader/nats-conf.ts";
import { planReload } from "../../handlers/reloader/plan.ts";
import { atLeast, changesNeedingRestart, restartKey } from "../../handlers/reloader/reloadable.ts";

const seedConf = `pid_file: "/var/run/nats/nats.pid"
port: 4222
http: 8222
# the routes come from the config API
cluster {
  port: 6222
  include "routes.json"
}
leafnodes {
  remotes: [ { url: "nats://ground.example.com:7422" } ]
}
`;
const routes = (name: string, r: string[], extra = "") => `{\n  "name": "${name}",\n  "routes": ${JSON.stringify(r)}${extra}\n}\n`;

describe("nats-server config reader", () => {
  it("reads maps, arrays, separators, comments and includes", () => {
    const conf = parseNatsConf({ "nats.conf": seedConf, "routes.json": routes("A", ["nats://a:6222"]) }, "nats.conf");
    expect(conf).toEqual({
      conf: {
        pid_file: "/var/run/nats/nats.pid",
        port: "4222",
        http: "8222",
        cluster: { port: "6222", name: "A", routes: ["nats://a:6222"] },
        leafnodes: { remotes: [{ url: "nats://ground.example.com:7422" }] },
      },
    });
  });

  it("reads key = value, quoted keys, // comments and a JSON document", () => {
    expect(parseNatsConf({ a: "x = 1; \"y\": 'two' // note\nz {w: [1, 2]}" }, "a")).toEqual({
      conf: { x: "1", y: "two", z: { w: ["1", "2"] } },
    });
    expect(parseNatsConf({ a: '{"port": 4222, "cluster": {"name": "c"}}' }, "a")).toEqual({
      conf: { port: "4222", cluster: { name: "c" } },
    });
  });

  it("says where it cannot follow", () => {
    expect(parseNatsConf({ a: "cluster {\n port: 1\n" }, "a")).toEqual({ error: { code: 400, message: 'a:3: missing "}"' } });
    expect(parseNatsConf({ a: 'include "nope.conf"' }, "a")).toMatchObject({ error: { message: expect.stringMatching(/no such file/) } });
    expect(parseNatsConf({ a: 'include "a"' }, "a")).toMatchObject({ error: { message: expect.stringMatching(/includes itself/) } });
  });
});

describe("what a reload cannot apply", () => {
  const files = (r: string, conf = seedConf) => ({ "nats.conf": conf, "routes.json": r });
  it("routes and the cluster name reload", () => {
    expect(
      changesNeedingRestart(
        files(routes("A", ["nats://a:6222"])),
        files(routes("B", ["nats://a:6222", "nats://b:6222"])),
        "nats.conf",
        "2.14.9",
      ),
    ).toEqual([]);
  });

  it("the cluster port, client port and server name need a restart", () => {
    expect(changesNeedingRestart(files(routes("A", [])), files(routes("A", [], ',\n  "port": 7000')), "nats.conf", "2.14.9")).toEqual([
      "the cluster port (cluster.port) changed: nats-server applies that only on restart",
    ]);
    expect(
      changesNeedingRestart(
        files(routes("A", [])),
        files(routes("A", []), seedConf.replace("port: 4222", "port: 4333").replace("pid_file", "server_name: x\npid_file")),
        "nats.conf",
        "2.14.9",
      ),
    ).toEqual([
      "the server name (server_name) changed: nats-server applies that only on restart",
      "the client port (port) changed: nats-server applies that only on restart",
    ]);
  });

  it("leafnode remotes reload only from 2.14.0", () => {
    const moved = seedConf.replace("ground.example.com", "elsewhere.example.com");
    expect(changesNeedingRestart(files(routes("A", [])), files(routes("A", []), moved), "nats.conf", "2.14.9")).toEqual([]);
    expect(changesNeedingRestart(files(routes("A", [])), files(routes("A", []), moved), "nats.conf", "2.9.10")).toEqual([
      "the leafnode remotes changed: nats-server 2.9.10 applies that only on restart (2.14.0 and later reload them)",
    ]);
  });

  it("a gateway or websocket listener needs a restart, except for its TLS; configs without them keep their restart key", () => {
    const gw = (extra: string) => `port: 4222\ngateway {\n  name: "a"\n  listen: "0.0.0.0:7222"\n${extra}}\n`;
    const tls = (cert: string) => `  tls {\n    cert_file: "${cert}"\n  }\n`;
    expect(changesNeedingRestart({ c: "port: 4222\n" }, { c: gw("") }, "c", "2.14.9")).toEqual([
      "the gateway (gateway) changed: nats-server applies that only on restart (its TLS alone reloads)",
    ]);
    expect(changesNeedingRestart({ c: gw(tls("/a.pem")) }, { c: gw(tls("/b.pem")) }, "c", "2.14.9")).toEqual([]);
    expect(changesNeedingRestart({ c: gw("") }, { c: gw("  reject_unknown: true\n") }, "c", "2.14.9")).toHaveLength(1);
    const ws = 'port: 4222\nwebsocket {\n  listen: "0.0.0.0:8080"\n  no_tls: true\n}\n';
    expect(changesNeedingRestart({ c: ws }, { c: ws.replace("8080", "9090") }, "c", "2.14.9")).toEqual([
      "the websocket listener (websocket) changed: nats-server applies that only on restart (its TLS alone reloads)",
    ]);
    // The key of a config without either block is what it was before they were known (no pods rolled by an upgrade).
    expect(restartKey("port: 4222\n", "2.14.9")).toBe("1809f6288b9c");
    expect(restartKey(gw(tls("/a.pem")), "2.14.9")).toBe(restartKey(gw(tls("/b.pem")), "2.14.9"));
    expect(restartKey(gw(""), "2.14.9")).not.toBe(restartKey(gw("  reject_unknown: true\n"), "2.14.9"));
  });

  it("the JetStream unique tag needs a restart, server tags reload; configs without a unique tag keep their restart key", () => {
    const js = (extra: string) => `port: 4222\nserver_tags: [$T]\njetstream {\n  store_dir: "/data"\n${extra}}\n`;
    expect(changesNeedingRestart({ c: js("") }, { c: js('  unique_tag: "zone"\n') }, "c", "2.14.9")).toEqual([
      "the JetStream unique tag (jetstream.unique_tag) changed: nats-server applies that only on restart",
    ]);
    expect(changesNeedingRestart({ c: js("") }, { c: js("").replace("[$T]", '[$T, "ssd"]') }, "c", "2.14.9")).toEqual([]);
    expect(restartKey(js(""), "2.14.9")).toBe(restartKey(js("").replace("[$T]", "[]"), "2.14.9"));
    expect(restartKey(js(""), "2.14.9")).not.toBe(restartKey(js('  unique_tag: "zone"\n'), "2.14.9"));
    // Known before unique_tag was: a config without it keeps the key it had.
    expect(restartKey("port: 4222\n", "2.14.9")).toBe("1809f6288b9c");
  });

  it("preloaded accounts (resolver_preload) need a restart; configs without them keep their restart key", () => {
    const preload = (jwt: string) => `port: 4222\nresolver: MEMORY\nresolver_preload {\n  ACC: "${jwt}"\n}\n`;
    expect(restartKey(preload("a.b.c"), "2.14.9")).not.toBe(restartKey(preload("d.e.f"), "2.14.9"));
    expect(changesNeedingRestart({ c: preload("a.b.c") }, { c: preload("d.e.f") }, "c", "2.14.9")).toEqual([
      "the preloaded accounts (resolver_preload) changed: nats-server applies that only on restart",
    ]);
    expect(restartKey("port: 4222\n", "2.14.9")).toBe("1809f6288b9c");
  });

  it("compares versions", () => {
    expect([
      atLeast("2.14.9", "2.14.0"),
      atLeast("2.9.10", "2.14.0"),
      atLeast("v2.10.0", "2.10.0"),
      atLeast("2.10.0-beta.1", "2.2.0"),
    ]).toEqual([true, false, true, true]);
  });
});

describe("reload plan", () => {
  const disk = { "nats.conf": seedConf, "routes.json": routes("A", []) };
  const base = { onDisk: disk, lastGood: disk, entry: "nats.conf", version: "2.14.9" };
  it("does nothing when no file changed: no SIGHUP storms", () => {
    expect(planReload({ ...base, desired: { ...disk } })).toEqual({ action: "none" });
  });

  it("writes only the files that changed, then reloads", () => {
    expect(planReload({ ...base, desired: { ...disk, "routes.json": routes("B", ["nats://x:6222"]) } })).toEqual({
      action: "reload",
      write: { "routes.json": routes("B", ["nats://x:6222"]) },
    });
  });

  it("writes a change nats-server cannot reload, for the next restart, and says why", () => {
    const plan = planReload({ ...base, desired: { ...disk, "routes.json": routes("A", [], ',\n  "port": 7000') } });
    expect(plan).toMatchObject({
      action: "restart-needed",
      reasons: ["the cluster port (cluster.port) changed: nats-server applies that only on restart"],
    });
  });

  it("refuses an object without the entry file", () => {
    expect(planReload({ ...base, desired: { "routes.json": "{}" } })).toEqual({
      action: "refuse",
      error: 'the config object has no key "nats.conf" (it has "routes.json"): nothing is written',
    });
  });

  it("leaves a config its reader cannot follow to nats-server", () => {
    expect(planReload({ ...base, desired: { ...disk, "nats.conf": "cluster {" } })).toMatchObject({ action: "reload" });
  });
});

import { parseDuration } from "../../handlers/config/put-request.ts";
import { reloadOutcomes, type ServerReport } from "../../handlers/config/reload-wait.ts";

describe("config.put wait", () => {
  const r = (pod: string, configRevision: string, ok = true, error?: string): ServerReport => ({
    pod,
    server: pod,
    configRevision,
    action: ok ? "reloaded" : "failed",
    ok,
    error,
  });
  it("is done when every server has the revision or a later one", () => {
    const out = reloadOutcomes(["nats-1", "nats-0"], { "nats-0": r("nats-0", "12"), "nats-1": r("nats-1", "11") }, "11");
    expect(out).toEqual({
      done: true,
      ok: true,
      servers: [
        { pod: "nats-0", server: "nats-0", ok: true, state: "reloaded", configRevision: "12", configLoadTime: undefined },
        { pod: "nats-1", server: "nats-1", ok: true, state: "reloaded", configRevision: "11", configLoadTime: undefined },
      ],
    });
  });

  it("waits for a server still on an older revision, or silent", () => {
    const out = reloadOutcomes(["nats-0", "nats-1"], { "nats-0": r("nats-0", "10") }, "11");
    expect(out.done).toBe(false);
    expect(out.servers.map((s) => s.state)).toEqual(["pending", "pending"]);
  });

  it("reports a refusal with its reason", () => {
    const out = reloadOutcomes(["nats-0"], { "nats-0": r("nats-0", "11", false, "bad") }, "11");
    expect(out).toMatchObject({ done: true, ok: false, servers: [{ state: "failed", error: "bad" }] });
  });

  it("compares revisions as numbers", () => {
    expect(reloadOutcomes(["a"], { a: r("a", "100") }, "99").done).toBe(true);
  });

  it("reads durations", () => {
    expect(["5s", "1500ms", "1m", 2, 0.5, "0.5s"].map(parseDuration)).toEqual([5000, 1500, 60000, 2000, 500, 500]);
    expect(["5", "-1s", "5h", "", null, {}, -1].map(parseDuration)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
