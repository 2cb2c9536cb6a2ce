// What each nats-server version takes and serves, for the command, config and probes the operator
// gives it. Read off nats-server's own history (server/opts.go, server/monitor.go at each tag) and
// the official `nats` images' Dockerfiles:
// - 1.x images ship /gnatsd; 2.x scratch images /nats-server, on PATH only in images built since
//   March 2022 (2.7.3 and later); alpine images have /usr/local/bin/nats-server on PATH.
// - leafnode remotes with several `urls`: 2.0.2; server_name: 2.1.2; allow_responses: 2.1.0; cluster { name }: 2.2.0; /healthz: 2.7.1;
//   /healthz?js-enabled (the JetStream probes and the operator's JetStream gate): 2.9.0;
//   ?js-enabled-only and ?js-server-only: 2.10.0; the config digest in /varz: 2.11.0; websocket: 2.2.0;
//   cipher suite names: TLS 1.3's from 2.1.6, Go's own from 2.12.0 (server/ciphersuites.go);
//   a gateway dials a URL without a user with its own gateway credentials: 2.2.0 (server/gateway.go).
import { atLeast } from "../reloader/reloadable.ts";

export const defaultServerVersion = "2.14.9";
export const minimumServerVersion = "2.0.0";
export const minimumJetStreamVersion = "2.9.0";
export const minimumWebsocketVersion = "2.2.0";

export interface ServerVersion {
  /** The image tag as the spec gives it. */
  tag: string;
  /** How the container starts the server: an absolute path where the image has no PATH entry for it. */
  binary: string;
  /** Leafnode remotes take `urls` (before: one `url`). */
  leafnodeUrls: boolean;
  serverName: boolean;
  clusterName: boolean;
  allowResponses: boolean;
  /** /healthz; without it, probes ask /varz, which answers once the server listens. */
  healthz: boolean;
  /** /healthz?js-enabled-only and ?js-server-only (before: ?js-enabled). */
  healthzJetStreamOnly: boolean;
  /** /varz config_digest, which confirms an operator-mode reload. */
  configDigest: boolean;
  /** TLS 1.3 cipher suite names (2.1.6). */
  tls13CipherNames: boolean;
  /** Go's cipher suite names, insecure ones refused, and the X25519MLKEM768 curve (2.12.0). */
  goCipherNames: boolean;
  /** Gateways dial URLs without a user with their own gateway credentials (before: with none). */
  gatewayOwnCredentials: boolean;
}

/** A tag that is not a version number (`latest`, `alpine`, a build's own name) is read as the newest. */
const numbered = (tag: string) => /^v?[0-9]+(\.[0-9]+)*([-+].*)?$/.test(tag);

/**
 * synadia/nats-server's `nightly-YYYYMMDD` images (nats-operator's websocket example runs one) are
 * built from nats-server's main branch that day, on alpine (/bin/nats-server on PATH). Such a
 * build has a feature when its commit was on main by then (nats-server's git history); the
 * version each feature is released in stands for it here.
 */
const onMainSince: Record<string, string> = {
  "2.0.0": "20190605",
  "2.0.2": "20190710", // leafnode remotes' `urls`
  "2.1.0": "20190725", // allow_responses
  "2.1.2": "20191017", // server_name
  "2.1.6": "20200318", // TLS 1.3 cipher names
  "2.2.0": "20200612", // cluster { name } (websocket: 20200520)
  "2.2.0 gateway credentials": "20210216",
  "2.7.1": "20220124", // /healthz
  "2.9.0": "20220809", // /healthz?js-enabled
  "2.10.0": "20221210", // /healthz?js-enabled-only
  "2.11.0": "20241128", // the config digest in /varz
  "2.12.0": "20250909", // Go's cipher names, X25519MLKEM768
};
const nightlyDay = (tag: string) => /^nightly-(\d{8})$/.exec(tag)?.[1];

/** Whether the server of image tag `tag` has what version `v` brought (`feature` names one of several). */
function has(tag: string, v: string, feature = ""): boolean {
  const day = nightlyDay(tag);
  if (!day) return !numbered(tag) || atLeast(tag, v);
  const since = onMainSince[feature ? `${v} ${feature}` : v];
  // A version asked of a nightly needs its day here: the nightly unit test asks every one.
  if (!since) throw new Error(`server-version.ts: onMainSince has no day for ${v} ${feature}`);
  return day >= since;
}

export function serverVersion(tag: string): ServerVersion {
  const since = (v: string) => has(tag, v);
  const known = numbered(tag);
  const onPath = Boolean(nightlyDay(tag)) || since("2.7.3") || /alpine/.test(tag);
  return {
    tag,
    binary: known && !since("2.0.0") ? "/gnatsd" : onPath ? "nats-server" : "/nats-server",
    leafnodeUrls: since("2.0.2"),
    serverName: since("2.1.2"),
    clusterName: since("2.2.0"),
    allowResponses: since("2.1.0"),
    healthz: since("2.7.1"),
    healthzJetStreamOnly: since("2.10.0"),
    configDigest: since("2.11.0"),
    tls13CipherNames: since("2.1.6"),
    goCipherNames: since("2.12.0"),
    gatewayOwnCredentials: has(tag, "2.2.0", "gateway credentials"),
  };
}

/** Why the spec's version cannot run what the spec asks for, as sentences (empty: it can). */
export function versionProblems(tag: string, asks: { jetstream: boolean; websocket?: boolean }): string[] {
  if (!numbered(tag) && !nightlyDay(tag)) return [];
  if (!has(tag, minimumServerVersion))
    return [
      `spec.version ${tag} is nats-server 1.x (gnatsd), which satellite does not run: the minimum is ${minimumServerVersion}; set spec.version to 2.1.9 or later (nats-operator's default was 2.1.9; the newest is best)`,
    ];
  const problems: string[] = [];
  if (asks.jetstream && !has(tag, minimumJetStreamVersion))
    problems.push(
      `spec.jetstream needs nats-server ${minimumJetStreamVersion} or later (its /healthz tells when JetStream is current); spec.version is ${tag}`,
    );
  if (asks.websocket && !has(tag, minimumWebsocketVersion))
    problems.push(
      `spec.websocketConfig needs nats-server ${minimumWebsocketVersion} or later (the first with WebSocket); spec.version is ${tag}`,
    );
  return problems;
}
