// What @nats-io/nkeys needs of tweetnacl (Ed25519 keys from a seed, detached signatures, random
// bytes), done by the runtime's own crypto: the bundle takes this file in tweetnacl's place
// (build-options.mjs), 33 KB smaller. Curve25519 boxes (xkeys) are not used by satellite.
import { createPrivateKey, createPublicKey, randomBytes as random, sign, verify } from "node:crypto";

// DER headers of an Ed25519 key: PKCS#8 around a 32-byte seed, SPKI around a 32-byte public key.
const pkcs8 = Buffer.from("302e020100300506032b657004220420", "hex");
const spki = Buffer.from("302a300506032b6570032100", "hex");

const privateKey = (seed: Uint8Array) =>
  createPrivateKey({ key: Buffer.concat([pkcs8, seed.subarray(0, 32)]), format: "der", type: "pkcs8" });
const publicKey = (key: Uint8Array) => createPublicKey({ key: Buffer.concat([spki, key]), format: "der", type: "spki" });

/** tweetnacl's layout: the secret key is the seed followed by the public key. */
function fromSeed(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const pub = createPublicKey(privateKey(seed)).export({ format: "der", type: "spki" }).subarray(spki.length);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed.subarray(0, 32));
  secretKey.set(pub, 32);
  return { publicKey: new Uint8Array(pub), secretKey };
}

const detached = Object.assign((msg: Uint8Array, secretKey: Uint8Array) => new Uint8Array(sign(null, msg, privateKey(secretKey))), {
  verify: (msg: Uint8Array, sig: Uint8Array, pub: Uint8Array) => verify(null, msg, publicKey(pub), sig),
});

const unsupported = () => {
  throw new Error("curve (xkey) encryption is not available in satellite");
};

export default {
  sign: { keyPair: { fromSeed }, detached },
  randomBytes: (n: number) => new Uint8Array(random(n)),
  box: Object.assign(unsupported, { open: unsupported }),
  scalarMult: { base: unsupported },
};
