import { describe, expect, it } from "vitest";
import { discover } from "../../handlers/discover.ts";
import { status } from "../../handlers/status.ts";
import { configMap, instance, pod, routesJson, target } from "./fixtures.ts";

describe("status", () => {
  it("reports the config revision and every server's readiness, in pod order", () => {
    const pods = [
      pod("nats-10", { ready: true, ip: "10.0.0.10" }),
      pod("nats-2", { ready: false, restarts: 3 }),
      pod("nats-1", { ready: true, ip: "10.0.0.1" }),
    ];
    const r = status({ target, instance, podSelector: "app=nats", configMap: configMap(routesJson("A", ["nats://a:6222"]), "77"), pods });
    expect(r.reply({})).toMatchObject({
      ok: true,
      cluster: "nats",
      namespace: "edge-1",
      revision: "77",
      instance,
      config: { name: "A", routes: ["nats://a:6222"] },
      configError: null,
      ready: 2,
      total: 3,
    });
    expect(((r.reply({}) as any).servers as any[]).map((s) => [s.name, s.ready, s.ip, s.restarts])).toEqual([
      ["nats-1", true, "10.0.0.1", 0],
      ["nats-2", false, null, 3],
      ["nats-10", true, "10.0.0.10", 0],
    ]);
  });

  it("says which config revision each server runs, from its reloader", () => {
    const r = status({
      target,
      instance,
      podSelector: "app=nats",
      configMap: configMap(routesJson("A", []), "80"),
      pods: [pod("nats-0", { ready: true }), pod("nats-1", { ready: true })],
      reloads: {
        "nats-0": { pod: "nats-0", configRevision: "80", action: "reloaded", ok: true, configLoadTime: "2026-11-21T10:00:00Z" },
        "nats-1": { pod: "nats-1", configRevision: "79", action: "failed", ok: false, error: "bad" },
      },
    });
    expect(((r.reply({}) as any).servers as any[]).map((s) => s.config)).toEqual([
      { revision: "80", state: "reloaded", ok: true, loadedAt: "2026-11-21T10:00:00Z" },
      { revision: "79", state: "failed", ok: false, error: "bad", loadedAt: null },
    ]);
  });

  it("still answers when the config is missing, and says why", () => {
    const r = status({ target, instance, podSelector: "app=nats", configMap: null, pods: [] });
    expect(r.reply({})).toMatchObject({ ok: true, revision: null, config: null, total: 0, ready: 0 });
    expect((r.reply({}) as any).configError).toMatch(/not found/);
  });
});

describe("discover", () => {
  it("names the cluster, the instance and the subjects to use", () => {
    expect(discover({ target, instance }).reply({})).toEqual({
      ok: true,
      cluster: "nats",
      namespace: "edge-1",
      natsVersion: null,
      servers: { ready: 0, total: 0 },
      revision: null,
      ...instance,
      subjects: {
        get: "_SAT.nats.config.get",
        put: "_SAT.nats.config.put",
        rollback: "_SAT.nats.config.rollback",
        status: "_SAT.nats.status",
      },
    });
  });

  it("in a fleet: the site, the cluster's nats-server version, its servers ready/total, its config revision; subjects under the site", () => {
    const cluster = { metadata: { name: "nats", namespace: "edge-1" }, status: { currentVersion: "2.14.9" } };
    const r = discover({
      target: { ...target, site: "berlin" },
      instance,
      configMap: configMap(routesJson("A", []), "77"),
      pods: [pod("nats-1", { ready: true }), pod("nats-2")],
      clusters: [cluster],
    }).reply({});
    expect(r).toMatchObject({
      site: "berlin",
      cluster: "nats",
      natsVersion: "2.14.9",
      servers: { ready: 1, total: 2 },
      revision: "77",
      subjects: { put: "_SAT.berlin.nats.config.put", status: "_SAT.berlin.nats.status" },
    });
  });
});
