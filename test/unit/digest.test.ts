import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { configDigest } from "../../handlers/reloader/digest.ts";
import { sha256Hex } from "../../handlers/reloader/sha256.ts";

describe("sha256Hex", () => {
  it("is node:crypto's SHA-256 of the UTF-8 bytes, at every length around the block boundaries", () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000])
      expect(sha256Hex("a".repeat(n))).toBe(createHash("sha256").update("a".repeat(n)).digest("hex"));
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => {
        expect(sha256Hex(s)).toBe(createHash("sha256").update(s, "utf8").digest("hex"));
      }),
      { numRuns: 300 },
    );
  });
});

describe("configDigest", () => {
  const env = { POD_NAME: "nats-1" };
  it("ignores layout, comments and key order, as nats-server's parsed-config digest does", () => {
    const a = configDigest({ "n.conf": 'port: 4222\ncluster { name: "c", routes: ["nats://a:6222"] }\n' }, "n.conf", env);
    const b = configDigest({ "n.conf": '# hello\ncluster: {routes: [ "nats://a:6222" ], name = "c"}; port = 4222' }, "n.conf", env);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
  });

  it("tells values apart by type and by the variables they resolve to", () => {
    const d = (text: string, e = env) => configDigest({ "n.conf": text }, "n.conf", e);
    expect(d("port: 4222")).not.toEqual(d('port: "4222"'));
    expect(d("max_payload: 1MB")).toEqual(d("max_payload: 1048576"));
    expect(d("debug: true")).toEqual(d("debug: yes"));
    expect(d("server_name: $POD_NAME")).toEqual(d('server_name: "nats-1"'));
    expect(d("server_name: $POD_NAME")).not.toEqual(d("server_name: $POD_NAME", { POD_NAME: "nats-2" }));
    expect(d("server_name: $NOPE")).toEqual({ error: { code: 400, message: "n.conf:1: variable reference for 'NOPE' can not be found" } });
  });
});
