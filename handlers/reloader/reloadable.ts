import { type ConfMap, type ConfValue, parseNatsConf } from "./nats-conf.ts";
import { sha256Hex } from "./sha256.ts";

/** `a.b.c` out of a parsed config, keys compared case-insensitively as nats-server does. */
function at(conf: ConfMap, path: string): ConfValue | undefined {
  let cur: ConfValue | undefined = conf;
  for (const part of path.split(".")) {
    if (!cur || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    const key: string | undefined = Object.keys(cur).find((k) => k.toLowerCase() === part);
    cur = key === undefined ? undefined : (cur as ConfMap)[key];
  }
  return cur;
}

const same = (a: ConfValue | undefined, b: ConfValue | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const never: [string, string][] = [
  ["server_name", "the server name"],
  ["listen", "the client listen address"],
  ["host", "the client host"],
  ["port", "the client port"],
  ["net", "the client host"],
  ["cluster.listen", "the cluster listen address"],
  ["cluster.host", "the cluster host"],
  ["cluster.port", "the cluster port"],
  ["leafnodes.listen", "the leafnode listen address"],
  ["leafnodes.host", "the leafnode host"],
  ["leafnodes.port", "the leafnode port"],
  ["operator", "the operator JWT"],
  ["system_account", "the system account"],
  ["resolver", "the account resolver"],
  // Not in nats-server's reload code (server/reload.go diffOptions): "config reload not supported".
  ["max_pending", "the maximum pending bytes"],
  ["max_subscriptions", "the maximum subscriptions"],
  ["jetstream.store_dir", "the JetStream directory"],
  ["jetstream.domain", "the JetStream domain"],
];

/** Restart-only too, and counted in restartKey only where set: configs without them keep their key. */
const neverOnceSet: [string, string][] = [
  ["jetstream.unique_tag", "the JetStream unique tag"],
  ["resolver_preload", "the preloaded accounts"],
];

/**
 * Blocks nats-server reloads only the TLS of (server/reload.go: "config reload not supported"
 * for any other change): the gateway and the websocket listener.
 */
const tlsOnly: [string, string][] = [
  ["gateway", "the gateway"],
  ["websocket", "the websocket listener"],
];

function withoutTls(v: ConfValue | undefined): ConfValue | undefined {
  if (!v || typeof v !== "object" || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k.toLowerCase() !== "tls"));
}

/**
 * A short key of what in nats.conf `text` only a restart applies on nats-server `version`: equal
 * keys, the change between the two configs can be reloaded.
 */
export function restartKey(text: string, version: string): string {
  const parsed = parseNatsConf({ "nats.conf": text }, "nats.conf");
  if ("error" in parsed) return "";
  const paths = [
    ...never.map(([p]) => p),
    ...(atLeast(version, "2.14.0") ? [] : ["leafnodes.remotes"]),
    ...(atLeast(version, "2.2.0") ? [] : ["cluster.name"]),
  ];
  // Only present blocks count, so configs without them keep the key they had before these were known.
  const blocks = tlsOnly.flatMap(([p]) => (at(parsed.conf, p) === undefined ? [] : [[p, withoutTls(at(parsed.conf, p))]]));
  const set = neverOnceSet.flatMap(([p]) => (at(parsed.conf, p) === undefined ? [] : [[p, at(parsed.conf, p)]]));
  return sha256Hex(JSON.stringify([...paths.map((p) => at(parsed.conf, p) ?? null), ...blocks, ...set])).slice(0, 12);
}

/**
 * Whether the routes' user or password differs between two configs. A server reloaded with the
 * new one and the servers still on the old one refuse each other's routes, so no one server can
 * try the change first: every server takes it at once.
 */
export function routeCredentialsChanged(a: string, b: string): boolean {
  const [was, now] = [parseNatsConf({ "nats.conf": a }, "nats.conf"), parseNatsConf({ "nats.conf": b }, "nats.conf")];
  if ("error" in was || "error" in now) return false;
  const user = (c: ConfMap) =>
    JSON.stringify(["user", "username", "password", "pass"].map((k) => at(c, `cluster.authorization.${k}`) ?? null));
  return user(was.conf) !== user(now.conf);
}

/** Whether version `v` ("2.14.9") is at least `min` ("2.14.0"). */
export function atLeast(v: string, min: string): boolean {
  const a = v.replace(/^v/, "").split(/[.-]/).map(Number);
  const b = min.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/**
 * Changes between two configs that nats-server `version` cannot apply by reloading (it then
 * rejects the whole reload), as sentences. Empty: a reload can take the new config. A config this
 * reader cannot read is left for nats-server to judge: no reasons.
 */
export function changesNeedingRestart(
  oldFiles: Record<string, string>,
  newFiles: Record<string, string>,
  entry: string,
  version: string,
): string[] {
  const [was, now] = [parseNatsConf(oldFiles, entry), parseNatsConf(newFiles, entry)];
  if ("error" in was || "error" in now) return [];
  const [before, after] = [was.conf, now.conf];
  const out: string[] = [];
  for (const [path, what] of [...never, ...neverOnceSet]) {
    if (!same(at(before, path), at(after, path))) out.push(`${what} (${path}) changed: nats-server applies that only on restart`);
  }
  for (const [path, what] of tlsOnly) {
    if (!same(withoutTls(at(before, path)), withoutTls(at(after, path))))
      out.push(`${what} (${path}) changed: nats-server applies that only on restart (its TLS alone reloads)`);
  }
  if (!atLeast(version, "2.14.0") && !same(at(before, "leafnodes.remotes"), at(after, "leafnodes.remotes"))) {
    out.push(`the leafnode remotes changed: nats-server ${version} applies that only on restart (2.14.0 and later reload them)`);
  }
  if (!atLeast(version, "2.2.0") && !same(at(before, "cluster.name"), at(after, "cluster.name"))) {
    out.push(`the cluster name changed: nats-server ${version} applies that only on restart (2.2.0 and later reload it)`);
  }
  return out;
}
