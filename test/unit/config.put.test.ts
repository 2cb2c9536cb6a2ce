import { describe, expect, it } from "vitest";
import { configPut } from "../../handlers/config.put.ts";
import type { NatsCluster } from "../../handlers/operator/natscluster.ts";
import { strategyOfPut } from "../../handlers/operator/reload-rollout.ts";
import type { Change, ConfigMap } from "../../handlers/types.ts";
import { configMap, pod, req, routesJson, target } from "./fixtures.ts";

const obj = (c: Change | undefined): ConfigMap => {
  if (!c || c.op === "delete" || c.kind !== "ConfigMap") throw new Error(`not a ConfigMap write: ${JSON.stringify(c)}`);
  return c.object;
};

const three = ["nats://nats-0.nats.default.svc:6222", "nats://nats-1.nats.default.svc:6222", "nats://nats-2.nats.default.svc:6222"];

describe("config.put", () => {
  it("replaces name and routes, based on the revision it read, and says what changed", () => {
    const cm = configMap(routesJson("A", three.slice(0, 2)), "41");
    const r = configPut(req({ name: "CLUSTER_A", routes: [...three, "nats://another-route:6222"] }), { target, configMap: cm });
    expect(r.reply({})).toMatchObject({
      ok: true,
      cluster: "nats",
      namespace: "edge-1",
      configMap: "nats-config",
      changed: true,
      previousRevision: "41",
      name: "CLUSTER_A",
      changes: { name: { from: "A", to: "CLUSTER_A" }, routesAdded: [three[2], "nats://another-route:6222"], routesRemoved: [] },
    });
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]!.op).toBe("replace");
    const written = obj(r.changes[0]);
    expect(written.metadata?.resourceVersion).toBe("41");
    expect(JSON.parse(written.data!["routes.json"]!)).toEqual({ name: "CLUSTER_A", routes: [...three, "nats://another-route:6222"] });
    expect(written.data!["nats.conf"]).toBe("port: 4222");
  });

  it("writes nothing when the config is already as asked", () => {
    const cm = configMap(routesJson("A", three), "7");
    const r = configPut(req({ name: "A", routes: three }), { target, configMap: cm });
    expect(r.changes).toEqual([]);
    expect(r.reply({})).toMatchObject({ ok: true, changed: false, revision: "7", changes: { routesAdded: [], routesRemoved: [] } });
  });

  it("keeps the current name when the request has none", () => {
    const r = configPut(req({ routes: three.slice(0, 1) }), { target, configMap: configMap(routesJson("KEEP", three)) });
    expect(JSON.parse(obj(r.changes[0]).data!["routes.json"]!)).toEqual({ name: "KEEP", routes: three.slice(0, 1) });
    expect(r.reply({})).toMatchObject({ changes: { routesRemoved: three.slice(1) } });
  });

  it("keeps other cluster-block keys written by hand", () => {
    const cm = configMap(JSON.stringify({ name: "A", routes: [], pool_size: 3 }));
    const r = configPut(req({ routes: three }), { target, configMap: cm });
    expect(JSON.parse(obj(r.changes[0]).data!["routes.json"]!)).toEqual({ name: "A", routes: three, pool_size: 3 });
  });

  it("is a compare-and-swap when given a revision", () => {
    const cm = configMap(routesJson("A", []), "50");
    const stale = configPut(req({ routes: three, revision: "49" }), { target, configMap: cm });
    expect(stale.changes).toEqual([]);
    expect(stale.reply({}).error).toMatchObject({ code: 409 });
    expect(stale.reply({}).error!.message).toContain("revision 49 is stale");
    const fresh = configPut(req({ routes: three, revision: 50 }), { target, configMap: cm });
    expect(fresh.changes).toHaveLength(1);
  });

  it("adds the key to a ConfigMap that has no data", () => {
    const cm = configMap(undefined);
    delete cm.data;
    const r = configPut(req({ name: "A", routes: three }), { target, configMap: cm });
    expect(obj(r.changes[0]).data).toEqual({ "routes.json": routesJson("A", three) });
  });

  it("changes a routes file written in nats-server's syntax, writes JSON and keeps the hand-written keys typed", () => {
    const r = configPut(req({ routes: three }), {
      target,
      configMap: configMap("name = A\nroutes: [ 'nats://x:6222' ]\npool_size: 3 # by hand\nno_advertise: true\n"),
    });
    expect(r.reply({}).error).toBeUndefined();
    expect(JSON.parse(obj(r.changes[0]).data!["routes.json"]!)).toEqual({ name: "A", routes: three, pool_size: 3, no_advertise: true });
  });

  it("refuses to guess a name over a broken routes file", () => {
    const r = configPut(req({ routes: three }), { target, configMap: configMap("{not json") });
    expect(r.changes).toEqual([]);
    expect(r.reply({}).error!.message).toMatch(/neither JSON.*send "name" too/);
    expect(configPut(req({ name: "A", routes: three }), { target, configMap: configMap("{not json") }).changes).toHaveLength(1);
  });

  it("says when the routes file belongs to a NatsCluster (the operator renders it)", () => {
    const cm = configMap(routesJson("A", []));
    cm.metadata!.ownerReferences = [{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", name: "nats", uid: "u", controller: true }];
    expect(configPut(req({ routes: three }), { target, configMap: cm }).reply({})).toMatchObject({
      ok: true,
      managedBy: "NatsCluster/nats",
      changed: true,
    });
  });

  it("answers 404 with a way out when the ConfigMap is missing", () => {
    const r = configPut(req({ routes: three }), { target, configMap: null });
    expect(r.changes).toEqual([]);
    expect(r.reply({})).toEqual({
      error: { code: 404, message: 'configmap "nats-config" not found in namespace "edge-1": create it, or pass -cm' },
    });
  });

  it("rejects bad input before looking at the ConfigMap", () => {
    const r = configPut(req("nope"), { target, configMap: null });
    expect(r.reply({}).error!.code).toBe(400);
  });

  it("replies with the revision the runtime wrote", () => {
    const r = configPut(req({ routes: three }), { target, configMap: configMap(routesJson("A", []), "41") });
    expect(r.reply({ revision: "42" })).toMatchObject({ ok: true, changed: true, previousRevision: "41", revision: "42" });
    expect(r.reply({ revision: "42" })).not.toHaveProperty("reload");
  });

  it("with wait: done once every running server reports the written revision; the reply says per server", () => {
    const pods = [
      pod("nats-1"),
      pod("nats-2"),
      pod("nats-3", { phase: "Failed" }),
      { ...pod("nats-4"), metadata: { name: "nats-4", deletionTimestamp: new Date() } },
    ];
    const r = configPut(req({ routes: three, wait: "5s" }), { target, configMap: configMap(routesJson("A", []), "41"), pods });
    const report = (p: string, rev: string, ok = true) =>
      ({ pod: p, configRevision: rev, action: ok ? "reloaded" : "failed", ok, ...(ok ? {} : { error: "bad" }) }) as const;
    expect(r.wait?.ms).toBe(5_000);
    const partly = { revision: "42", reloads: { "nats-1": report("nats-1", "42"), "nats-2": report("nats-2", "41") } };
    expect(r.wait!.done(partly)).toBe(false);
    const all = { revision: "42", reloads: { "nats-1": report("nats-1", "42"), "nats-2": report("nats-2", "43", false) } };
    expect(r.wait!.done(all)).toBe(true);
    expect(r.reply({ ...all, waitedMs: 12 })).toMatchObject({
      revision: "42",
      reload: {
        complete: true,
        ok: false,
        waitedMs: 12,
        servers: [
          { pod: "nats-1", state: "reloaded" },
          { pod: "nats-2", state: "failed", error: "bad" },
        ],
      },
    });
    expect(r.reply({ ...partly, waitedMs: 5_000 })).toMatchObject({
      reload: { complete: false, ok: false, servers: [{ state: "reloaded" }, { state: "pending" }] },
    });
  });

  it("with wait and nothing to change: waits for the current revision", () => {
    const cm = configMap(routesJson("A", three), "41");
    const r = configPut(req({ name: "A", routes: three, wait: "1s" }), { target, configMap: cm, pods: [pod("nats-1")] });
    expect(r.changes).toEqual([]);
    expect(r.wait!.done({ reloads: { "nats-1": { pod: "nats-1", configRevision: "41", action: "in-sync", ok: true } } })).toBe(true);
  });

  it("with wait on a routes file the operator reloads itself (configReload.mode operator): follows the NatsCluster's status", () => {
    const cm = configMap(routesJson("A", []), "41");
    cm.metadata!.ownerReferences = [{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", name: "nats", uid: "u", controller: true }];
    const cluster = (servers: object[], refused?: object): NatsCluster =>
      ({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "nats", namespace: "edge-1" },
        spec: { configReload: { mode: "operator" } },
        status: { config: { servers, ...(refused ? { refused } : {}) } },
      }) as never;
    const r = configPut(req({ routes: three, wait: "5s" }), { target, configMap: cm, pods: [], clusters: [cluster([])] });
    const rolling = cluster([
      { pod: "nats-1", serverId: "S1", state: "current", revision: "42" },
      { pod: "nats-2", serverId: "S2", state: "reloading", revision: "41" },
    ]);
    expect(r.wait!.done({ revision: "42", clusters: [rolling] as never })).toBe(false);
    const done = cluster([
      { pod: "nats-1", state: "current", revision: "42" },
      { pod: "nats-2", state: "current", revision: "42" },
    ]);
    expect(r.wait!.done({ revision: "42", clusters: [done] as never })).toBe(true);
    expect(r.reply({ revision: "42", clusters: [done] as never, waitedMs: 900 })).toMatchObject({
      reload: {
        complete: true,
        ok: true,
        servers: [
          { pod: "nats-1", server: "nats-1", state: "reloaded" },
          { pod: "nats-2", server: "nats-2", state: "reloaded" },
        ],
      },
    });
    // Named as a reloader's report names them (the server's name, not its ID): in a fleet, site-namespace-pod.
    const fleet = configPut(req({ routes: three, wait: "5s" }), {
      target: { ...target, site: "s1" },
      configMap: cm,
      pods: [],
      clusters: [],
    });
    expect(fleet.reply({ revision: "42", clusters: [rolling] as never, waitedMs: 1 })).toMatchObject({
      reload: { servers: [{ server: "s1-edge-1-nats-1" }, { server: "s1-edge-1-nats-2" }] },
    });
    const refused = cluster([{ pod: "nats-1", state: "current", revision: "41" }], {
      hash: "h",
      revision: "42",
      error: "nats-1: nats-server refused the config: x",
      at: "",
    });
    expect(r.reply({ revision: "42", clusters: [refused] as never, waitedMs: 10 })).toMatchObject({
      reload: {
        complete: true,
        ok: false,
        servers: [{ pod: "nats-1", state: "failed", error: "nats-1: nats-server refused the config: x" }],
      },
    });
  });

  it("strategy: only where the operator reloads; it rides on the routes file as an annotation, and a put without one clears it", () => {
    const unmanaged = configPut(req({ routes: three, strategy: "canary" }), { target, configMap: configMap(routesJson("A", []), "41") });
    expect(unmanaged.reply({}).error).toMatchObject({
      code: 400,
      message: expect.stringContaining('"strategy" needs a NatsCluster in configReload.mode operator'),
    });
    const cm = configMap(routesJson("A", []), "41");
    cm.metadata!.ownerReferences = [{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", name: "nats", uid: "u", controller: true }];
    const clusters = [
      {
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "nats", generation: 4 },
        spec: { configReload: { mode: "operator" } },
      },
    ] as never;
    const canary = configPut(req({ routes: three, strategy: "canary" }), { target, configMap: cm, clusters });
    const written = obj(canary.changes[0]);
    const note = written.metadata?.annotations?.["nats.io/config-strategy"];
    expect(JSON.parse(note!)).toMatchObject({ strategy: "canary", generation: 4 });
    // The operator takes it for this change only: the routes file as the put wrote it, the spec unchanged.
    expect(strategyOfPut(note, written.data!["routes.json"], 4)).toBe("canary");
    expect(strategyOfPut(note, written.data!["routes.json"], 5)).toBeUndefined();
    expect(strategyOfPut(note, `${written.data!["routes.json"]} `, 4)).toBeUndefined();
    cm.metadata!.annotations = { "nats.io/config-strategy": "canary", other: "kept" };
    const plain = configPut(req({ routes: [three[0]!] }), { target, configMap: cm, clusters });
    expect(obj(plain.changes[0]).metadata?.annotations).toEqual({ other: "kept" });
    expect(configPut(req({ routes: three, strategy: "fast" }), { target, configMap: cm, clusters }).reply({}).error?.message).toBe(
      'strategy "fast": use "all" or "canary"',
    );
  });
});

describe("config history and rollback", () => {
  const now = "2026-12-01T10:00:00.000Z";
  const annotated = (c: Change) => obj(c).metadata?.annotations ?? {};
  it("each put that changes the file records what it replaced (revision, name, routes, when), newest first, at most 10", () => {
    let cm = configMap(routesJson("A", [three[0]!]), "41");
    for (let i = 0; i < 12; i++) {
      const r = configPut(req({ routes: [three[i % 3]!, `nats://n${i}:6222`] }), { target, configMap: cm, now });
      cm = { ...obj(r.changes[0]), metadata: { ...obj(r.changes[0]).metadata, resourceVersion: String(42 + i) } };
    }
    const history = JSON.parse(annotated({ op: "replace", kind: "ConfigMap", object: cm })["nats.io/config-history"]!);
    expect(history).toHaveLength(10);
    expect(history[0]).toEqual({ revision: "52", name: "A", routes: [three[1], "nats://n10:6222"], replacedAt: now });
    expect(history.at(-1).revision).toBe("43");
  });

  it("config.get lists it; config.rollback puts one of its configs back, as a put would", async () => {
    const { configGet } = await import("../../handlers/config.get.ts");
    const { configRollback } = await import("../../handlers/config.put.ts");
    const first = configMap(routesJson("A", [three[0]!]), "41");
    const put = configPut(req({ name: "B", routes: three }), { target, configMap: first, now });
    const cm = { ...obj(put.changes[0]), metadata: { ...obj(put.changes[0]).metadata, resourceVersion: "42" } };
    expect(configGet({ target, configMap: cm }).reply({})).toMatchObject({ history: [{ revision: "41", name: "A", routes: [three[0]] }] });
    const back = configRollback(req({ revision: "41", wait: "5s" }, "_SAT.nats.config.rollback"), { target, configMap: cm, now, pods: [] });
    expect(back.reply({ revision: "43" })).toMatchObject({
      ok: true,
      changed: true,
      name: "A",
      routes: [three[0]],
      previousRevision: "42",
    });
    expect(back.wait?.ms).toBe(5_000);
    expect(JSON.parse(annotated(back.changes[0]!)["nats.io/config-history"]!).map((h: { revision: string }) => h.revision)).toEqual([
      "42",
      "41",
    ]);
    expect(configRollback(req({ revision: "7" }), { target, configMap: cm, now }).reply({}).error).toEqual({
      code: 404,
      message: "revision 7 is not in the history (it keeps the last 10: 41); config.get lists them",
    });
    expect(configRollback(req({ revision: "41", routes: [] }), { target, configMap: cm, now }).reply({}).error?.code).toBe(400);
  });
});

describe("who changed the config", () => {
  const info = JSON.stringify({ acc: "ADMIN", user: "admin", name: "NATS CLI Version 0.3.0", host: "127.0.0.1", rtt: 1000 });
  const put = (body: object, withInfo?: string) =>
    configPut(
      { ...req(body), info: withInfo },
      {
        target,
        configMap: configMap(routesJson("A", [three[0]!]), "41"),
        now: "2026-12-01T10:00:00.000Z",
        instance: { id: "ctl-1", version: "1", startedAt: "" },
      },
    );
  it("a changing put leaves an Event on the routes file saying what changed and who asked, as nats-server named them", () => {
    const ev = put({ name: "B", routes: three }, info).changes[1] as {
      kind: string;
      object: { reason: string; message: string; involvedObject: object; reportingInstance: string };
    };
    expect(ev.kind).toBe("Event");
    expect(ev.object).toMatchObject({
      reason: "ConfigChanged",
      involvedObject: { kind: "ConfigMap", name: "nats-config", namespace: "edge-1" },
      reportingInstance: "ctl-1",
      message: `config.put by user "admin" in account ADMIN (client "NATS CLI Version 0.3.0", 127.0.0.1): name A → B; routes added ${three[1]}, ${three[2]}`,
    });
    const history = JSON.parse(
      (put({ routes: three }, info).changes[0] as { object: ConfigMap }).object.metadata!.annotations!["nats.io/config-history"]!,
    );
    expect(history[0].replacedBy).toBe('user "admin" in account ADMIN (client "NATS CLI Version 0.3.0", 127.0.0.1)');
  });

  it("without the header (a caller in the controller's own account) it says nats-server did not name one", () => {
    expect((put({ routes: three }).changes[1] as { object: { message: string } }).object.message).toMatch(
      /^config.put by a caller nats-server did not name: routes added/,
    );
    expect(put({ routes: [three[0]!], name: "A" }).changes).toEqual([]);
  });
});
