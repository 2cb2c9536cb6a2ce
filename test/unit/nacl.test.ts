// The bundle signs nkeys with runtime/nats/nacl.ts in tweetnacl's place: same keys, same signatures.
import fc from "fast-check";
import tweetnacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import nacl from "../../runtime/nats/nacl.ts";

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

describe("nacl by node:crypto, against tweetnacl", () => {
  it("derives the same key pair from a seed, and signs the same bytes the same way", () => {
    fc.assert(
      fc.property(bytes(32), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
        const ours = nacl.sign.keyPair.fromSeed(seed);
        const theirs = tweetnacl.sign.keyPair.fromSeed(seed);
        expect(ours).toEqual({ publicKey: theirs.publicKey, secretKey: theirs.secretKey });
        const sig = nacl.sign.detached(msg, ours.secretKey);
        expect(sig).toEqual(tweetnacl.sign.detached(msg, theirs.secretKey));
        expect(nacl.sign.detached.verify(msg, sig, ours.publicKey)).toBe(true);
        const flipped = Uint8Array.from(sig, (b, i) => (i === 0 ? b ^ 1 : b));
        expect(nacl.sign.detached.verify(msg, flipped, ours.publicKey)).toBe(false);
      }),
      { numRuns: 200 },
    );
    // tweetnacl in plain JavaScript: 200 runs take seconds on a busy 2-core machine.
  }, 60_000);

  it("random bytes of the length asked; curve boxes say they are not available", () => {
    expect(nacl.randomBytes(24)).toHaveLength(24);
    expect(() => nacl.box()).toThrow(/not available/);
  });
});
