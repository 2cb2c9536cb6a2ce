// The authorization of the links between servers: routes within the cluster
// (spec.auth.clusterAuthSecret) and gateways between clusters (spec.auth.gatewayAuthSecret) —
// reading the Secret, the `authorization { … }` block of `cluster { }` and `gateway { }`, and the
// credentials in the URLs the servers dial.
//
// The Secret's format is nats-operator's: JSON of its natsconf.AuthorizationConfig, of which
// nats-server takes one user for routes and gateways ("users" and "token" it refuses there):
//   {"username": "route-user", "password": "s3cret", "timeout": 2}
// nats-operator read whichever key the Secret had; satellite takes `cluster-auth.json` /
// `gateway-auth.json`, else the Secret's only key (chooseAuthKey).

import { invalid, isObject, kind, num, parseJson, quote, type Result, unsafeCharAt } from "./server-config-auth.ts";
import { indent } from "./server-config-tls.ts";

export const peerAuthKeys = { cluster: "cluster-auth.json", gateway: "gateway-auth.json" };

export interface PeerAuth {
  username: string;
  password: string;
  /** Seconds; spec.auth.clusterAuthTimeout / gatewayAuthTimeout win when set. */
  timeout?: number;
}

const known = ["username", "password", "timeout"];

/** Parses the Secret's JSON, accepting only what nats-server takes for routes and gateways; errors are sentences that never quote a value. */
export function parsePeerAuth(source: string): Result<PeerAuth> {
  const json = parseJson(source);
  if ("error" in json) return json;
  const doc = json.value;
  if (!isObject(doc)) return invalid(`must be a JSON object with "username" and "password", not ${kind(doc)}`);
  if (doc.users !== undefined)
    return invalid(`has "users", but nats-server takes a single user here: give "username" and "password" instead`);
  if (doc.token !== undefined) return invalid(`has "token", which nats-server does not take here: give "username" and "password" instead`);
  for (const k of Object.keys(doc).sort())
    if (!known.includes(k)) return invalid(`has unknown field ${JSON.stringify(k)}; known fields are ${known.join(", ")}`);
  for (const field of ["username", "password"] as const) {
    const v = doc[field];
    // nats-server asks for credentials only where a username is set: without one, links would go unauthenticated.
    if (v === undefined || v === "") return invalid(`has no "${field}"`);
    if (typeof v !== "string") return invalid(`"${field}" must be a string, not ${kind(v)}`);
    const bad = unsafeCharAt(v);
    if (bad) return invalid(`"${field}" contains ${bad}, which nats.conf cannot hold`);
  }
  const auth: PeerAuth = { username: doc.username as string, password: doc.password as string };
  if (doc.timeout !== undefined) {
    if (typeof doc.timeout !== "number" || !Number.isFinite(doc.timeout) || doc.timeout < 0)
      return invalid(`"timeout" must be a number of seconds, 0 or more`);
    auth.timeout = doc.timeout;
  }
  return { value: auth };
}

/**
 * `authorization { … }` inside `cluster { }` or `gateway { }`. The timeout is the spec's when set
 * (above 0), else the Secret's, else none: nats-server's default, as nats-operator left it.
 */
export function peerAuthorizationConf(auth: PeerAuth, specTimeout: number | undefined, what: string): string[] {
  const t = specTimeout !== undefined && specTimeout > 0 ? specTimeout : auth.timeout;
  const lines = [`user: ${quote(auth.username, `the ${what} user`)}`, `password: ${quote(auth.password, `the ${what} password`)}`];
  if (t !== undefined && t > 0) lines.push(`timeout: ${num(t, `the ${what} authorization timeout`)}`);
  return ["authorization {", ...indent(lines), "}"];
}

/**
 * `url` with the user and password in it (percent-encoded), unless it names a user of its own.
 * nats-server sends a route's or gateway's credentials only from the URL it dials.
 */
export function withCredentials(url: string, auth: PeerAuth | undefined): string {
  if (!auth) return url;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)([\s\S]*)$/.exec(url);
  if (!m || m[2]!.includes("@")) return url;
  return `${m[1]}${encodeURIComponent(auth.username)}:${encodeURIComponent(auth.password)}@${m[2]}${m[3]}`;
}
