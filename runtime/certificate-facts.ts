// What a set of TLS files holds, read with node:crypto's X509Certificate (Node 20+, Deno 2+) for
// the operator's certificate checks (handlers/operator/certificate-checks.ts decides). A runtime
// whose node:crypto lacks part of X509Certificate reads nothing: the checks are skipped, said once.
import { createPrivateKey, X509Certificate } from "node:crypto";
import type { CertificateFacts, CertificateFiles } from "../handlers/index.ts";
import type { Logger } from "./log.ts";

const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
const maxChain = 10;
/** A self-signed certificate that proves this runtime can read and verify certificates. */
const probe = `-----BEGIN CERTIFICATE-----
MIIBizCCATGgAwIBAgIUTKmdB1kMecr+f8IfRAFi6uRwtNswCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPc2F0ZWxsaXRlLXByb2JlMCAXDTI2MTIwMzE5Mzc1OFoYDzIx
MjYxMTA5MTkzNzU4WjAaMRgwFgYDVQQDDA9zYXRlbGxpdGUtcHJvYmUwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAQ10DhUssmXuAARZS7Hw5s7an+yNEi6anSuDqgM
vWHgFl4p1TuYrPe+1dgStzQ8BLshDIpgbn3jjGseH6FXuvdJo1MwUTAdBgNVHQ4E
FgQUmUK9vqOZUv5aFi/MDVMoj3ZbrDMwHwYDVR0jBBgwFoAUmUK9vqOZUv5aFi/M
DVMoj3ZbrDMwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA6jlk
QXrMgraXaehAP8zjqNO/M//rU+vxhYDsd+deVjwCIFI6olkEZgDTd6uro6QjfJiW
01bLxVX6KM35cy+7azmf
-----END CERTIFICATE-----`;

const signed = (cert: X509Certificate, by: X509Certificate) => cert.checkIssued(by) && cert.verify(by.publicKey);

/** Why this runtime cannot check certificates, or undefined when it can. */
export function certificatesUnreadable(): string | undefined {
  try {
    const c = new X509Certificate(probe);
    if (!signed(c, c)) return "node:crypto X509Certificate does not verify a self-signed certificate";
    if (typeof c.checkPrivateKey !== "function") return "node:crypto X509Certificate has no checkPrivateKey";
    return undefined;
  } catch (e) {
    return `node:crypto X509Certificate: ${(e as Error).message}`;
  }
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function certificatesIn(text: string): X509Certificate[] | undefined {
  const certs = attempt(() => pemBlocks(text).map((b) => new X509Certificate(b)));
  return certs?.length ? certs : undefined;
}

/** The leaf is signed by a CA of `roots`, directly or through `intermediates` (each used once). */
function chains(leaf: X509Certificate, intermediates: X509Certificate[], roots: X509Certificate[]): boolean {
  let at = leaf;
  const left = [...intermediates];
  for (let depth = 0; depth < maxChain; depth++) {
    if (roots.some((r) => attempt(() => signed(at, r)))) return true;
    const next = left.findIndex((i) => attempt(() => signed(at, i)));
    if (next < 0) return false;
    at = left.splice(next, 1)[0]!;
  }
  return false;
}

/** The facts of one file set (on a runtime where certificatesUnreadable() is undefined). */
export function readCertificates(files: CertificateFiles): CertificateFacts {
  const ca = certificatesIn(files.ca);
  const certs = certificatesIn(files.cert);
  const key = attempt(() => createPrivateKey(files.key));
  const unreadable = [...(ca ? [] : ["ca" as const]), ...(certs ? [] : ["cert" as const]), ...(key ? [] : ["key" as const])];
  if (!ca || !certs || !key) return { unreadable };
  const leaf = certs[0]!;
  return {
    chains: chains(leaf, certs.slice(1), ca),
    keyMatches: attempt(() => leaf.checkPrivateKey(key)) ?? false,
    notBefore: new Date(leaf.validFrom).toISOString(),
    notAfter: new Date(leaf.validTo).toISOString(),
  };
}

/** Reads file sets, each once (a stem names its content); undefined where the runtime cannot read certificates. */
export function certificateReader(log: Logger, keep = 256) {
  const known = new Map<string, CertificateFacts>();
  const cannot = certificatesUnreadable();
  if (cannot) log.warn("TLS certificates cannot be checked on this runtime: renewed certificates are served unchecked", { error: cannot });
  return (sets: CertificateFiles[]): Record<string, CertificateFacts> | undefined => {
    if (cannot) return undefined;
    const out: Record<string, CertificateFacts> = {};
    for (const set of sets) {
      let facts = known.get(set.stem);
      if (!facts) {
        facts = readCertificates(set);
        if (known.size >= keep) known.delete(known.keys().next().value!);
        known.set(set.stem, facts);
      }
      out[set.stem] = facts;
    }
    return out;
  };
}
