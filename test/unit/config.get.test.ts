import { describe, expect, it } from "vitest";
import { configGet } from "../../handlers/config.get.ts";
import { configMap, routesJson, target } from "./fixtures.ts";

describe("config.get", () => {
  it("returns name, routes and revision", () => {
    const r = configGet({ target, configMap: configMap(routesJson("A", ["nats://a:6222"]), "9") });
    expect(r.changes).toEqual([]);
    expect(r.reply({})).toEqual({
      ok: true,
      cluster: "nats",
      namespace: "edge-1",
      configMap: "nats-config",
      revision: "9",
      name: "A",
      routes: ["nats://a:6222"],
      history: [],
    });
  });

  it("returns a null name when the file has none", () => {
    expect(configGet({ target, configMap: configMap(routesJson(undefined, [])) }).reply({})).toMatchObject({ name: null, routes: [] });
  });

  it.each([
    [
      "a missing ConfigMap",
      null,
      404,
      'configmap "nats-config" in namespace "edge-1" not found: create it, or pass -cm with the right name',
    ],
    [
      "a ConfigMap without data",
      { ...configMap(undefined), data: undefined },
      404,
      'configmap "nats-config" in namespace "edge-1" has no key "routes.json" (it has no data): write one with config.put, or pass -key',
    ],
    [
      "a missing key",
      configMap(undefined, "1", { other: "x" }),
      404,
      'configmap "nats-config" in namespace "edge-1" has no key "routes.json" (it has "other"): write one with config.put, or pass -key',
    ],
  ])("explains %s", (_what, cm, code, message) => {
    expect(configGet({ target, configMap: cm as any }).reply({})).toEqual({ error: { code, message } });
  });

  it.each([
    ["neither JSON nor nats-server config", "{", /neither JSON \(.+\) nor nats-server config \(.+missing "}"\)/],
    ["an array", "[]", /not a JSON object/],
    ["a numeric name", '{"name": 1, "routes": []}', /"name" is not a string/],
    ["routes of numbers", '{"routes": [1]}', /"routes" is not a list of strings/],
  ])("explains a routes file that is %s", (_what, text, why) => {
    const r = configGet({ target, configMap: configMap(text) });
    expect(r.reply({}).error?.code).toBe(500);
    expect(r.reply({}).error?.message).toMatch(why);
  });

  it("reads a routes file written in nats-server's own syntax, as the seed ships it", () => {
    const seedFile = `{
  # unquoted keys, "=" or ":", comments and trailing commas: all nats-server syntax
  name: CLUSTER_A
  routes = [
    "nats://nats-0.nats:6222",
    "nats://nats-1.nats:6222", // the second
  ],
  pool_size: 3
}
`;
    const r = configGet({ target, configMap: configMap(seedFile, "7") });
    expect(r.reply({})).toMatchObject({
      ok: true,
      revision: "7",
      name: "CLUSTER_A",
      routes: ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222"],
    });
    const bare = configGet({ target, configMap: configMap("name: B\nroutes: [nats://a:6222, nats-route://b:6222] // bare URLs\n") });
    expect(bare.reply({})).toMatchObject({ ok: true, name: "B", routes: ["nats://a:6222", "nats-route://b:6222"] });
  });
});
