// Property-based tests of the parsers a remote ground or a hand-written file can feed: random
// input never escapes as an uncaught exception, and what satellite writes it reads back the same.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePutRequest } from "../../handlers/config/put-request.ts";
import { loadRoutesConfig, renderRoutesConfig } from "../../handlers/config/routes-file.ts";
import { parseNatsConf } from "../../handlers/reloader/nats-conf.ts";
import { configMap, target } from "./fixtures.ts";

const runs = { numRuns: 500 };
const label = (n: number) => `[a-z](?:[a-z0-9-]{0,${n}}[a-z0-9])?`;
const hostname = fc.stringMatching(new RegExp(`^${label(18)}(?:\\.${label(8)}){0,3}$`));
const route = fc
  .tuple(fc.constantFrom("nats", "nats-route"), hostname, fc.integer({ min: 1, max: 65535 }))
  .map(([s, h, p]) => `${s}://${h}:${p}`);
const clusterName = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
// What an operator may add by hand to routes.json: nats-server cluster options.
const handKeys = fc.record(
  { pool_size: fc.integer({ min: 1, max: 16 }), no_advertise: fc.boolean(), connect_retries: fc.integer({ min: 0, max: 100 }) },
  { requiredKeys: [] },
);

describe("config.put's request parser", () => {
  it("answers any bytes with a value or an error, never a throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = parsePutRequest(bytes);
        expect("value" in r || ("error" in r && r.error.code >= 400)).toBe(true);
      }),
      runs,
    );
  });

  it("answers any JSON value with a value or an error, never a throw", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const r = parsePutRequest(new TextEncoder().encode(JSON.stringify(v)));
        expect("value" in r || "error" in r).toBe(true);
      }),
      runs,
    );
  });

  it("takes every well-formed request and returns its routes as sent", () => {
    fc.assert(
      fc.property(clusterName, fc.uniqueArray(route, { minLength: 1, maxLength: 20 }), (name, routes) => {
        const r = parsePutRequest(new TextEncoder().encode(JSON.stringify({ name, routes })));
        expect(r).toHaveProperty("value");
        if ("value" in r) expect(r.value).toMatchObject({ name, routes });
      }),
      runs,
    );
  });
});

describe("nats-server config reader", () => {
  it("never throws: a config, or an error that says where, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const r = parseNatsConf({ "nats.conf": text }, "nats.conf");
        if ("error" in r) expect(r.error.message).toMatch(/^nats\.conf(:\d+)?: /);
      }),
      runs,
    );
  });
});

describe("nats-server config reader, on text made of its own syntax", () => {
  it("ends, and never throws", () => {
    const unit = fc.constantFrom("{", "}", "[", "]", ":", "=", ",", ";", '"', "'", "#", "/", "\n", " ", "a", "1", "include ", "nats://h:1");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 200 }), (text) => {
        const r = parseNatsConf({ "nats.conf": text }, "nats.conf");
        if ("error" in r) expect(r.error.code).toBe(400);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("routes.json", () => {
  it("round-trips: what a put writes reads back the same, hand-written keys included", () => {
    fc.assert(
      fc.property(fc.option(clusterName, { nil: undefined }), fc.array(route, { maxLength: 10 }), handKeys, (name, routes, rest) => {
        const text = renderRoutesConfig({ name, routes, rest });
        const back = loadRoutesConfig(target, configMap(text));
        expect(back).toEqual({ config: { name, routes, rest }, revision: "100" });
      }),
      runs,
    );
  });

  it("reads the same from nats-server's own syntax as from JSON", () => {
    fc.assert(
      fc.property(clusterName, fc.array(route, { maxLength: 10 }), handKeys, (name, routes, rest) => {
        const conf = [
          `name: ${name}`,
          `routes = [`,
          ...routes.map((r) => `  "${r}", # a route`),
          "]",
          ...Object.entries(rest).map(([k, v]) => `${k}: ${v}`),
        ].join("\n");
        const fromConf = loadRoutesConfig(target, configMap(conf));
        expect(fromConf).toEqual(loadRoutesConfig(target, configMap(renderRoutesConfig({ name, routes, rest }))));
      }),
      runs,
    );
  });

  it("answers any text with a config or an error, never a throw", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        const r = loadRoutesConfig(target, configMap(text));
        expect("config" in r || ("error" in r && r.error.code === 500)).toBe(true);
      }),
      runs,
    );
  });
});
