import { describe, expect, it } from "vitest";
import { parsePutRequest, putLimits } from "../../handlers/config/put-request.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const errorOf = (v: unknown) => {
  const r = parsePutRequest(enc(v));
  if (!("error" in r)) throw new Error(`accepted ${JSON.stringify(v)}`);
  return r.error;
};

describe("config.put request validation", () => {
  it.each([
    "nats://nats-0.nats.default.svc:6222",
    "nats-route://10.0.0.1:6222",
    "nats-route://user:s3cret@host-a:6222",
    "nats-route://us%40er:p%2Fw@host-a:6222",
    "nats://[::1]:6222",
    "nats://[fd00::1]:6222/",
    "NATS://Host.Example:1",
  ])("accepts %s", (url) => {
    expect(parsePutRequest(enc({ routes: [url] }))).toEqual({ value: { routes: [url] } });
  });

  it.each([
    ["http://host:6222", /scheme "http"/],
    ["tls://host:6222", /scheme "tls"/],
    ["nats://host", /no port/],
    ["nats://host:", /no port/],
    ["nats://host:0", /invalid port/],
    ["nats://host:65536", /invalid port/],
    ["nats://host:62a2", /invalid port/],
    ["nats://:6222", /no host/],
    ["nats://ho st:6222", /not a route URL|invalid host/],
    ["nats://host_1:6222", /invalid host/],
    ["nats://-host:6222", /invalid host/],
    ["nats://300.1.1.1:6222", /invalid host/],
    ["nats://host:6222/path", /not a route URL/],
    ["nats://host:6222?x=1", /not a route URL/],
    ["nats://host:6222#f", /not a route URL/],
    ['nats://a"b@host:6222', /credentials/],
    ["nats://u:p\nq@host:6222", /credentials/],
    ["nats-route://u%zz:p@host:6222", /credentials/],
    ["nats://host:6222\n}", /invalid port/],
    ["host:6222", /scheme "host"|not a route URL/],
    ["", /not a route URL/],
  ])("rejects route %j", (url, why) => {
    const e = errorOf({ routes: [url] });
    expect(e.code).toBe(400);
    expect(e.message).toMatch(why);
    expect(e.message).toContain("routes[0]");
  });

  it("rejects a route listed twice, even spelled differently", () => {
    expect(errorOf({ routes: ["nats://A:6222", "nats-route://a:6222"] }).message).toMatch(/routes\[1\].*duplicates "nats:\/\/A:6222"/);
  });

  it.each([
    ["{", /not valid JSON/],
    ["[]", /must be a JSON object/],
    ["null", /must be a JSON object/],
    ['"routes"', /must be a JSON object/],
    [{ name: "a" }, /"routes" is required/],
    [{ routes: "nats://a:1" }, /must be a list/],
    [{ routes: [1] }, /must be a string/],
    [{ routes: [], include: "/etc/passwd" }, /unknown field "include"/],
    [{ routes: [], tls: {}, authorization: {} }, /unknown fields "tls", "authorization"/],
    [{ routes: [], name: "has space" }, /not a valid NATS cluster name/],
    [{ routes: [], name: "" }, /not a valid NATS cluster name/],
    [{ routes: [], name: 7 }, /not a valid NATS cluster name/],
    [{ routes: [], name: "a".repeat(65) }, /not a valid NATS cluster name/],
    [{ routes: [], name: "x\n}\ninclude 'y'" }, /not a valid NATS cluster name/],
    [{ routes: [], revision: "" }, /not a revision/],
    [{ routes: [], revision: -1 }, /not a revision/],
    [{ routes: [], revision: { a: 1 } }, /not a revision/],
  ])("rejects %j", (body, why) => {
    expect(errorOf(body).message).toMatch(why);
  });

  it("bounds the payload, the route count and each route's length", () => {
    const big = new Uint8Array(putLimits.maxPayloadBytes + 1).fill(32);
    expect(parsePutRequest(big)).toMatchObject({ error: { code: 413 } });
    const many = Array.from({ length: putLimits.maxRoutes + 1 }, (_, i) => `nats://h${i}:6222`);
    expect(errorOf({ routes: many }).message).toMatch(/257 routes given: the limit is 256/);
    expect(errorOf({ routes: [`nats://${"a".repeat(600)}:1`] }).message).toMatch(/characters long/);
  });

  it("rejects bytes that are not UTF-8", () => {
    const r = parsePutRequest(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(r).toMatchObject({ error: { code: 400 } });
  });

  it("accepts an empty route list and a numeric revision", () => {
    expect(parsePutRequest(enc({ name: "CLUSTER_A", routes: [], revision: 12 }))).toEqual({
      value: { name: "CLUSTER_A", routes: [], revision: "12" },
    });
  });
});
