// New TLS files the servers must not reload: nats-server takes a certificate from another CA, or
// one whose key is not its own, and its peers (routes) or clients then refuse it, one server at a
// time. The runtime reads each file set's certificates (X.509 needs crypto, which handlers lack)
// and hands the facts in; this decides.
import { type TLSFiles, type TLSPort, tlsFiles } from "./natscluster.ts";
import type { Observed } from "./phases/observe.ts";
import { type TlsMaterial, tlsKeysNamedIn } from "./tls-material.ts";

/** What the runtime read in one set of TLS files (ca, cert, key), named by their stem `tls-<port>-<hash>`. */
export interface CertificateFacts {
  /** Files that hold nothing that reads as PEM certificates (ca, cert) or a private key (key). */
  unreadable?: ("ca" | "cert" | "key")[];
  /** The cert file's first certificate is signed by a certificate of the CA file, directly or through the cert file's others. */
  chains?: boolean;
  /** The key file's key is the first certificate's. */
  keyMatches?: boolean;
  /** The first certificate's validity, ISO 8601. */
  notBefore?: string;
  notAfter?: string;
}

/** The TLS file sets a reconcile may weigh, by stem, as text: the Secrets' and those the config Secret carries. */
export interface CertificateFiles {
  stem: string;
  ca: string;
  cert: string;
  key: string;
}

const stemOf = /^(tls-[a-z]+-[0-9a-f]{12})-(ca|cert|key)\.pem$/;

/** Every complete file set among `files` (config Secret keys and their texts), by stem. */
export function certificateFilesIn(files: Record<string, string>): CertificateFiles[] {
  const sets = new Map<string, Partial<CertificateFiles>>();
  for (const [key, text] of Object.entries(files)) {
    const m = stemOf.exec(key);
    if (!m) continue;
    const set = sets.get(m[1]!) ?? { stem: m[1]! };
    set[m[2] as "ca" | "cert" | "key"] = text;
    sets.set(m[1]!, set);
  }
  return [...sets.values()].filter((s): s is CertificateFiles => s.ca !== undefined && s.cert !== undefined && s.key !== undefined);
}

export interface CertificateRefusal {
  problems: string[];
  /** A certificate not valid yet: look again when it is. */
  retryAfterMs?: number;
}

/**
 * Problems with the TLS files the servers would move to. Only files the running config does not
 * name yet are weighed (a running cluster is never stopped by what it already runs), and only
 * where the runtime could read them. On routes the CA must issue the certificate (the servers are
 * each other's peers); on another port its CA file checks the other side, and may never have
 * issued the servers' certificate (a public server certificate, ca.pem for client certificates
 * only): there, only a certificate the CA issued replaced by one it did not is refused.
 */
export function refusedCertificates(seen: Observed, material: TlsMaterial): CertificateRefusal {
  const facts = seen.view.certificates ?? {};
  const running = tlsKeysNamedIn(seen.configText["nats.conf"]);
  const out: CertificateRefusal = { problems: [] };
  for (const [port, paths] of Object.entries(material.paths) as [TLSPort, TlsMaterial["paths"][TLSPort]][]) {
    const stem = paths!.cert
      .split("/")
      .pop()!
      .replace(/-cert\.pem$/, "");
    const f = facts[stem];
    if (!f || running.includes(`${stem}-cert.pem`)) continue;
    const ranChained = running
      .filter((k) => k.startsWith(`tls-${port}-`) && k.endsWith("-cert.pem"))
      .some((k) => facts[k.replace(/-cert\.pem$/, "")]?.chains === true);
    const found = problemsOf(f, seen.view.now, port !== "routes" && !ranChained);
    const files = tlsFiles(seen.spec.tls)[port]!;
    out.problems.push(...found.map((p) => `spec.tls.${port}Secret "${files.secret}": ${p(files)}`));
    const wait = f.notBefore ? Date.parse(f.notBefore) - Date.parse(seen.view.now) : 0;
    if (wait > 0) out.retryAfterMs = Math.min(out.retryAfterMs ?? wait, wait);
  }
  return out;
}

type Problem = (files: TLSFiles) => string;

function problemsOf(f: CertificateFacts, now: string, unchainedOk: boolean): Problem[] {
  const keep = "the servers keep the files they run";
  if (f.unreadable?.length)
    return f.unreadable.map(
      (what) => (x: TLSFiles) => `${x[what]} holds no ${what === "key" ? "private key" : "certificate"} that reads (PEM): ${keep}`,
    );
  const out: Problem[] = [];
  if (f.chains === false && !unchainedOk)
    out.push(
      (x) =>
        `${x.cert} is not signed by any CA in ${x.ca}, so the servers' peers would refuse it: ${keep}; put a certificate that CA issued (a new CA goes into ${x.ca} first, next to the old one)`,
    );
  if (f.keyMatches === false) out.push((x) => `${x.key} does not match the certificate in ${x.cert}: ${keep}`);
  const at = Date.parse(now);
  if (f.notAfter && Date.parse(f.notAfter) <= at) out.push((x) => `the certificate in ${x.cert} expired at ${f.notAfter}: ${keep}`);
  if (f.notBefore && Date.parse(f.notBefore) > at)
    out.push((x) => `the certificate in ${x.cert} is not valid before ${f.notBefore}: ${keep} until then`);
  return out;
}
