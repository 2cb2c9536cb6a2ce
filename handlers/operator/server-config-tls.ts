// The tls { } blocks of nats.conf: one per TLS Secret of spec.tls, each mounted in its own
// directory, and the names nats-server takes for cipher suites and curves.
import type { TLSFiles, TLSPort } from "./natscluster.ts";
import { num, quote, RenderError } from "./server-config-auth.ts";
import type { ServerVersion } from "./server-version.ts";
import type { TlsPaths } from "./tls-material.ts";

/** Where each TLS Secret is mounted (nats-operator's directories). */
export const tlsDirs: Record<TLSPort, string> = {
  server: "/etc/nats-server-tls-certs",
  routes: "/etc/nats-routes-tls-certs",
  gateway: "/etc/nats-gateways-tls-certs",
  leafnode: "/etc/nats-leafnodes-tls-certs",
  websocket: "/etc/nats-websocket-tls-certs",
};

// Cipher suites by the names nats-server takes. Before 2.12.0 its own table (the TLS 1.3 names
// from 2.1.6); since, Go's crypto/tls names, the insecure ones only with allow_insecure_cipher_suites,
// which satellite does not set.
const legacyCipherSuites = [
  "TLS_RSA_WITH_RC4_128_SHA",
  "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA",
  "TLS_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_RSA_WITH_AES_256_CBC_SHA",
  "TLS_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
  "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
];
const tls13CipherSuites = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];
const goSecureCipherSuites = [
  ...tls13CipherSuites,
  "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
  "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
];

/** The cipher suite names nats-server `v` takes as satellite renders them. */
export function cipherSuiteNames(v: Pick<ServerVersion, "goCipherNames" | "tls13CipherNames">): string[] {
  if (v.goCipherNames) return goSecureCipherSuites;
  return [...legacyCipherSuites, ...(v.tls13CipherNames ? tls13CipherSuites : [])];
}

/** The curve names nats-server `v` takes (its curvePreferenceMap). */
export function curveNames(v: Pick<ServerVersion, "goCipherNames">): string[] {
  return [...(v.goCipherNames ? ["X25519MLKEM768"] : []), "X25519", "CurveP256", "CurveP384", "CurveP521"];
}

export interface TLSBlockOptions {
  verify?: boolean;
  verifyAndMap?: boolean;
  timeout?: number;
  cipherSuites?: string[];
  curvePreferences?: string[];
}

/** `dir/file`, or a RenderError when `file` (`what`) is not a plain file name. */
export const fileIn = (dir: string, file: string, what: string) => {
  if (file === "" || file.includes("/") || file === "." || file === "..") {
    throw new RenderError(`cannot write ${what} into nats.conf: ${JSON.stringify(file)} is not a plain file name`);
  }
  return `${dir.replace(/\/+$/, "")}/${file}`;
};

export const indent = (lines: string[], by = "  ") => lines.map((l) => by + l);

const list = (values: string[], what: string) => `[${values.map((v, i) => quote(v, `${what} ${i}`)).join(", ")}]`;

/** Where a TLS Secret's files are: its mount directory and file names (`what` names the Secret's field). */
export function mountedTlsFiles(dir: string, files: TLSFiles, what: string): TlsPaths {
  return {
    cert: fileIn(dir, files.cert, `${what} cert file name`),
    key: fileIn(dir, files.key, `${what} key file name`),
    ca: fileIn(dir, files.ca, `${what} CA file name`),
  };
}

/** `what` names the Secret's field (spec.tls.serverSecret) in error messages. */
export function tlsBlock(at: TlsPaths, what: string, o: TLSBlockOptions = {}): string[] {
  const lines = [
    `cert_file: ${quote(at.cert, `${what} cert file`)}`,
    `key_file: ${quote(at.key, `${what} key file`)}`,
    `ca_file: ${quote(at.ca, `${what} CA file`)}`,
  ];
  if (o.verifyAndMap) lines.push("verify_and_map: true");
  else if (o.verify) lines.push("verify: true");
  if (o.cipherSuites?.length) lines.push(`cipher_suites: ${list(o.cipherSuites, "spec.tls.cipherSuites")}`);
  if (o.curvePreferences?.length) lines.push(`curve_preferences: ${list(o.curvePreferences, "spec.tls.curvePreferences")}`);
  if (o.timeout !== undefined) lines.push(`timeout: ${num(o.timeout, `${what} TLS timeout`)}`);
  return ["tls {", ...indent(lines), "}"];
}
