import { readFileSync } from "node:fs";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { type ConnectionOptions, credsAuthenticator, type NatsConnection, nkeyAuthenticator } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "../log.ts";

export interface NatsAuthOptions {
  servers: string[];
  name: string;
  creds?: string;
  nkey?: string;
  user?: string;
  password?: string;
  token?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  /** A CA certificate as PEM text (instead of a file). */
  /** A creds file's text (where `creds` is its path). */
  credsText?: string;
  tlsCaPem?: string;
  /**
   * Names the server's certificate may be for, when the URL's host (a pod IP, 127.0.0.1) is not
   * one of them: the certificate must be valid for one of these.
   */
  tlsNames?: string[];
  /** A client certificate and its key as PEM text (instead of files). */
  tlsCertPem?: string;
  tlsKeyPem?: string;
  /** Keep trying when the server refuses the credentials (a password it has not loaded yet). */
  retryAuthErrors?: boolean;
}

/** Connection options for a long-running controller: retry the first connect, reconnect forever. */
export function connectionOptions(o: NatsAuthOptions): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: o.servers,
    name: o.name,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: true,
    reconnectTimeWait: 1_000,
    pingInterval: 20_000,
    ...(o.retryAuthErrors ? { ignoreAuthErrorAbort: true } : {}),
  };
  const authenticators = [];
  if (o.creds) authenticators.push(credsAuthenticator(readOrExplain(o.creds, "-creds")));
  if (o.credsText) authenticators.push(credsAuthenticator(new TextEncoder().encode(o.credsText)));
  if (o.nkey) {
    const seed = new TextDecoder().decode(readOrExplain(o.nkey, "-nkey")).trim();
    authenticators.push(nkeyAuthenticator(new TextEncoder().encode(seed)));
  }
  if (authenticators.length) opts.authenticator = authenticators;
  if (o.user) {
    opts.user = o.user;
    opts.pass = o.password;
  }
  if (o.token) opts.token = o.token;
  if (o.tlsCert || o.tlsKey || o.tlsCa) {
    if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new Error("-tlscert and -tlskey go together: give both, or neither");
    for (const [f, flag] of [
      [o.tlsCert, "-tlscert"],
      [o.tlsKey, "-tlskey"],
      [o.tlsCa, "-tlsca"],
    ] as const)
      if (f) readOrExplain(f, flag);
    opts.tls = { certFile: o.tlsCert, keyFile: o.tlsKey, caFile: o.tlsCa };
  }
  if (o.tlsCaPem) opts.tls = { ...opts.tls, ca: o.tlsCaPem };
  if (o.tlsCertPem && o.tlsKeyPem) opts.tls = { ...opts.tls, cert: o.tlsCertPem, key: o.tlsKeyPem };
  if (o.tlsNames?.length) opts.tls = { ...opts.tls, checkServerIdentity: identityAmong(o.tlsNames) } as ConnectionOptions["tls"];
  return opts;
}

/** Accepts a certificate valid for any of `names` (wildcards as TLS clients take them). */
function identityAmong(names: string[]) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    if (names.some((n) => checkServerIdentity(n, cert) === undefined)) return undefined;
    return new Error(`the server's certificate is for none of ${names.join(", ")}`);
  };
}

function readOrExplain(path: string, flag: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`${flag} ${path}: cannot read it (${(e as Error).message})`);
  }
}

export async function connectNats(o: NatsAuthOptions, log: Logger): Promise<NatsConnection> {
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions(o));
  } catch (e) {
    const hint = /authori|authenticat/i.test(String(e)) ? ": check -creds, -nkey, -user/-password or -token" : "";
    throw new Error(`cannot connect to NATS at ${o.servers.join(",")}: ${(e as Error).message}${hint}`);
  }
  log.info("connected to NATS", { server: nc.getServer() });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") log.warn("NATS disconnected; reconnecting", { server: s.server });
      else if (s.type === "reconnect") log.info("NATS reconnected", { server: s.server });
      else if (s.type === "error") log.error("NATS error", { error: String(s.error) });
      else if (s.type === "ldm") log.warn("NATS server entered lame duck mode", { server: s.server });
      else log.debug("NATS status", { type: s.type });
    }
  })();
  return nc;
}
