import { advertiseProblems } from "./advertise.ts";
import { defaultServerVersion } from "./desired-pod.ts";
import { jetstreamEnabled, jetstreamSettings } from "./jetstream.ts";
import { metadataProblems } from "./metadata-problems.ts";
import { type NatsCluster, type TLSConfig, tlsFiles } from "./natscluster.ts";
import { type JwtAccounts, jwtAccountsOf, operatorConfigSecrets } from "./operator-jwt.ts";
import type { SecretTexts } from "./phases/observe.ts";
import { type ClientsAuth, clientsAuthKey, parseClientsAuth } from "./server-config.ts";
import { chooseAuthKey, type Result } from "./server-config-auth.ts";
import { type PeerAuth, parsePeerAuth, peerAuthKeys } from "./server-config-peer-auth.ts";
import { cipherSuiteNames, curveNames } from "./server-config-tls.ts";
import { serverVersion, versionProblems } from "./server-version.ts";

/** Names of every Secret a cluster's spec refers to (the runtime fetches these into the view). */
export function referencedSecrets(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const names = [
    ...Object.values(tlsFiles(s.tls)).map((f) => f.secret),
    s.auth?.clientsAuthSecret,
    s.auth?.clusterAuthSecret,
    s.auth?.gatewayAuthSecret,
    ...(s.leafnodeConfig?.remotes ?? []).map((r) => r.credentialsSecret?.name),
    ...operatorConfigSecrets(c),
  ];
  return [...new Set(names.filter((n): n is string => Boolean(n)))];
}

const imageTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Phase 2, validate: everything wrong with a spec and the Secrets it names (decoded), as
 * sentences; empty when it can be rendered.
 */
export function validateCluster(c: NatsCluster, secrets: SecretTexts): Validated {
  const s = c.spec ?? {};
  const problems: string[] = [];
  if (s.size !== undefined && (!Number.isInteger(s.size) || s.size < 0))
    problems.push(`spec.size is ${s.size}: use a whole number, 0 or more`);
  if (s.version !== undefined && s.version !== "" && !imageTag.test(s.version))
    problems.push(`spec.version ${JSON.stringify(s.version)} is not an image tag`);
  problems.push(...secretKeyProblems(c, secrets));
  const read = <T>(field: AuthSecretField, key: string, parse: (source: string) => Result<T>) => {
    const r = authSecretOf(c, secrets, field, key, parse);
    if (r.problem) problems.push(r.problem);
    return r.value;
  };
  const clientsAuth = read("clientsAuthSecret", clientsAuthKey, parseClientsAuth);
  const clusterAuth = read("clusterAuthSecret", peerAuthKeys.cluster, parsePeerAuth);
  const gatewayAuth = read("gatewayAuthSecret", peerAuthKeys.gateway, parsePeerAuth);
  const jwt = jwtAccountsOf(c, secrets);
  problems.push(...unservedFieldProblems(c), ...jwt.problems, ...advertiseProblems(c));
  problems.push(...listenerProblems(c), ...metadataProblems(c));
  problems.push(
    ...versionProblems(s.version || defaultServerVersion, { jetstream: jetstreamEnabled(c), websocket: Boolean(s.websocketConfig) }),
  );
  problems.push(...reloadModeProblems(c), ...jetstreamSettings(c).problems, ...serverSettingProblems(c));
  return {
    problems,
    ...(clientsAuth ? { clientsAuth } : {}),
    ...(clusterAuth ? { clusterAuth } : {}),
    ...(gatewayAuth && s.gatewayConfig ? { gatewayAuth } : {}),
    ...(jwt.accounts ? { jwtAccounts: jwt.accounts } : {}),
  };
}

export interface Validated {
  problems: string[];
  /** The Secrets' authorization configs, read where the spec names them and they read. */
  clientsAuth?: ClientsAuth;
  clusterAuth?: PeerAuth;
  gatewayAuth?: PeerAuth;
  /** spec.operatorConfig with its Secrets read. */
  jwtAccounts?: JwtAccounts;
}

/** The Secrets the spec names for TLS and leafnode credentials: each there, with the keys it needs. */
function secretKeyProblems(c: NatsCluster, secrets: SecretTexts): string[] {
  const s = c.spec ?? {};
  const problems: string[] = [];
  const needKeys = (field: string, name: string | undefined, keys: [string, string][]) => {
    if (!name) return;
    const secret = secrets[name];
    if (!secret) {
      problems.push(`${field}: secret "${name}" not found in namespace "${c.metadata.namespace}"`);
      return;
    }
    for (const [key, keyField] of keys) {
      if (secret[key] === undefined) problems.push(`${field}: secret "${name}" has no key "${key}" (${keyField})`);
    }
  };
  for (const [port, files] of Object.entries(tlsFiles(s.tls)))
    needKeys(`spec.tls.${port}Secret`, files.secret, [
      [files.ca, `${port}SecretCAFileName`],
      [files.cert, `${port}SecretCertFileName`],
      [files.key, `${port}SecretKeyFileName`],
    ]);
  for (const [i, r] of (s.leafnodeConfig?.remotes ?? []).entries()) {
    if (!r.url && !r.urls?.length) problems.push(`spec.leafnodeConfig.remotes[${i}] has no url or urls`);
    if (r.credentialsSecret)
      needKeys(`spec.leafnodeConfig.remotes[${i}].credentialsSecret`, r.credentialsSecret.name, [
        [r.credentialsSecret.key ?? "user.creds", "key"],
      ]);
  }
  return problems;
}

type AuthSecretField = "clientsAuthSecret" | "clusterAuthSecret" | "gatewayAuthSecret";

/** The authorization JSON of the Secret spec.auth.`field` names (key `key`, else its only key), or why it cannot be read. */
function authSecretOf<T>(
  c: NatsCluster,
  secrets: SecretTexts,
  field: AuthSecretField,
  key: string,
  parse: (source: string) => Result<T>,
): { value?: T; problem?: string } {
  const authName = c.spec?.auth?.[field];
  if (!authName) return {};
  const secret = secrets[authName];
  const where = `spec.auth.${field}: secret "${authName}"`;
  if (!secret) return { problem: `${where} not found in namespace "${c.metadata.namespace}"` };
  const chosen = chooseAuthKey(Object.keys(secret), key);
  if ("error" in chosen) return { problem: `${where} ${chosen.error.message}` };
  const parsed = parse(secret[chosen.value]!);
  if ("error" in parsed) return { problem: `${where} key "${chosen.value}": ${parsed.error.message}` };
  return { value: parsed.value };
}

function reloadModeProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  if (s.configReload?.mode !== "operator") return [];
  const problems: string[] = [];
  if (s.pod?.enableConfigReload)
    problems.push("configReload.mode operator reloads without a sidecar: leave out pod.enableConfigReload (or set mode sidecar)");
  if (s.auth?.tlsVerifyAndMap) {
    problems.push(
      "configReload.mode operator cannot reload servers whose users are named by their certificates (auth.tlsVerifyAndMap): use mode sidecar",
    );
  }
  const version = s.version || defaultServerVersion;
  if (!serverVersion(version).configDigest) {
    problems.push(
      `configReload.mode operator needs nats-server 2.11.0 or later (its config digest confirms each reload); spec.version is ${version}`,
    );
  }
  return problems;
}

/** The TLS options, gateways and websocket of a spec: each TLS Secret secures a port the spec opens. */
function listenerProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const tls = s.tls ?? {};
  const problems: string[] = [];
  const opens: [keyof TLSConfig, boolean, string][] = [
    ["gatewaySecret", Boolean(s.gatewayConfig), "spec.gatewayConfig"],
    ["leafnodeSecret", Boolean(s.leafnodeConfig?.hostPort), "spec.leafnodeConfig.hostPort"],
    ["websocketSecret", Boolean(s.websocketConfig), "spec.websocketConfig"],
  ];
  for (const [field, open, needs] of opens)
    if (tls[field] && !open) problems.push(`spec.tls.${field} secures a port this cluster does not open: set ${needs}, or leave it out`);
  if (s.auth?.gatewayAuthSecret && !s.gatewayConfig)
    problems.push(
      "spec.auth.gatewayAuthSecret authorizes gateways, which this cluster does not open: set spec.gatewayConfig, or leave it out",
    );
  for (const [field, set] of [
    ["tls.cipherSuites", tls.cipherSuites?.length],
    ["tls.curvePreferences", tls.curvePreferences?.length],
    ["auth.tlsVerifyAndMap", s.auth?.tlsVerifyAndMap],
  ] as const)
    if (set && !tls.serverSecret)
      problems.push(`spec.${field} applies to the client port's TLS: set spec.tls.serverSecret too, or leave it out`);
  const version = serverVersion(s.version || defaultServerVersion);
  const unknown = (names: string[] | undefined, known: string[]) => (names ?? []).filter((n) => !known.includes(n));
  for (const [field, known, note] of [
    ["cipherSuites", cipherSuiteNames(version), " (satellite allows no insecure cipher suite)"],
    ["curvePreferences", curveNames(version), ""],
  ] as const) {
    const bad = unknown(tls[field], known);
    if (bad.length)
      problems.push(
        `spec.tls.${field} has ${bad.map((b) => JSON.stringify(b)).join(", ")}, which nats-server ${version.tag} does not take${note}: use ${known.join(", ")}`,
      );
  }
  for (const [i, g] of (s.gatewayConfig?.gateways ?? []).entries()) {
    const where = `spec.gatewayConfig.gateways[${i}] (${JSON.stringify(g.name)})`;
    if (!g.url) problems.push(`${where} has no url: give the remote gateway's URL`);
    else if (!gatewayUrl(g.url))
      problems.push(
        `${where} url ${JSON.stringify(g.url)} is not a nats:// or tls:// URL with a host, e.g. nats://west-mgmt.nats.svc:7222`,
      );
  }
  const hs = s.websocketConfig?.handshakeTimeout;
  if (hs !== undefined && !goDuration.test(hs))
    problems.push(`spec.websocketConfig.handshakeTimeout ${JSON.stringify(hs)} is not a duration: use e.g. "5s"`);
  return problems;
}

function gatewayUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return ["nats:", "tls:"].includes(url.protocol) && url.hostname !== "";
  } catch {
    return false;
  }
}

const goDuration = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

function serverSettingProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const problems: string[] = [];
  const lameDuck = s.lameDuckDurationSeconds;
  if (lameDuck !== undefined && lameDuck < 30) problems.push(`spec.lameDuckDurationSeconds is ${lameDuck}: nats-server needs 30 or more`);
  const nc = s.natsConfig ?? {};
  if (nc.write_deadline !== undefined && !goDuration.test(nc.write_deadline)) {
    problems.push(`spec.natsConfig.write_deadline ${JSON.stringify(nc.write_deadline)} is not a duration: use e.g. "10s" or "1m30s"`);
  }
  if (nc.maxPayload !== undefined && nc.maxPending !== undefined && nc.maxPayload > nc.maxPending) {
    problems.push(`spec.natsConfig.maxPayload (${nc.maxPayload}) is larger than maxPending (${nc.maxPending}): nats-server refuses that`);
  }
  return problems;
}

/**
 * nats-operator's fields satellite does not act on yet: refused, never accepted and ignored. A
 * refused spec changes nothing, so a cluster taken over from nats-operator keeps the config and
 * users nats-operator gave it until the field is cleared.
 */
function unservedFieldProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const keep = "nothing of this cluster is changed until it is cleared";
  const problems: string[] = [];
  if (s.auth?.clientsAuthFile !== undefined)
    problems.push(
      `spec.auth.clientsAuthFile is not served by satellite: ${keep}; put the same JSON in a Secret and name it in spec.auth.clientsAuthSecret`,
    );
  // nats-operator's config reloader takes other arguments than satellite's: its pods would crash-loop.
  if (s.pod?.enableConfigReload && /nats-server-config-reloader/.test(s.pod.reloaderImage ?? ""))
    problems.push(
      `spec.pod.reloaderImage ${JSON.stringify(s.pod.reloaderImage)} is nats-operator's config reloader, which does not run satellite's reloader: ${keep}; leave reloaderImage and reloaderImageTag out (satellite's own image is the reloader)`,
    );
  return problems;
}
