import { defaultServerVersion } from "./desired-pod.ts";
import { jetstreamEnabled, jetstreamSettings } from "./jetstream.ts";
import { type NatsCluster, tlsFiles } from "./natscluster.ts";
import type { SecretTexts } from "./phases/observe.ts";
import { type ClientsAuth, chooseClientsAuthKey, parseClientsAuth } from "./server-config.ts";
import { serverVersion, versionProblems } from "./server-version.ts";

/** Names of every Secret a cluster's spec refers to (the runtime fetches these into the view). */
export function referencedSecrets(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const names = [
    s.tls?.serverSecret,
    s.tls?.routesSecret,
    s.auth?.clientsAuthSecret,
    ...(s.leafnodeConfig?.remotes ?? []).map((r) => r.credentialsSecret?.name),
  ];
  return [...new Set(names.filter((n): n is string => Boolean(n)))];
}

const imageTag = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Phase 2, validate: everything wrong with a spec and the Secrets it names (decoded), as
 * sentences; empty when it can be rendered.
 */
export function validateCluster(c: NatsCluster, secrets: SecretTexts): { problems: string[]; clientsAuth?: ClientsAuth } {
  const s = c.spec ?? {};
  const problems: string[] = [];
  if (s.size !== undefined && (!Number.isInteger(s.size) || s.size < 0))
    problems.push(`spec.size is ${s.size}: use a whole number, 0 or more`);
  if (s.version !== undefined && s.version !== "" && !imageTag.test(s.version))
    problems.push(`spec.version ${JSON.stringify(s.version)} is not an image tag`);
  problems.push(...secretKeyProblems(c, secrets));
  const auth = clientsAuthOf(c, secrets);
  if (auth.problem) problems.push(auth.problem);
  problems.push(...unservedFieldProblems(c));
  problems.push(...versionProblems(s.version || defaultServerVersion, { jetstream: jetstreamEnabled(c) }));
  problems.push(...reloadModeProblems(c), ...jetstreamSettings(c).problems, ...serverSettingProblems(c));
  return { problems, clientsAuth: auth.clientsAuth };
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
  const tls = tlsFiles(s.tls);
  for (const [field, files, prefix] of [
    ["spec.tls.serverSecret", tls.server, "serverSecret"],
    ["spec.tls.routesSecret", tls.routes, "routesSecret"],
  ] as const) {
    if (files)
      needKeys(field, files.secret, [
        [files.ca, `${prefix}CAFileName`],
        [files.cert, `${prefix}CertFileName`],
        [files.key, `${prefix}KeyFileName`],
      ]);
  }
  for (const [i, r] of (s.leafnodeConfig?.remotes ?? []).entries()) {
    if (!r.url && !r.urls?.length) problems.push(`spec.leafnodeConfig.remotes[${i}] has no url or urls`);
    if (r.credentialsSecret)
      needKeys(`spec.leafnodeConfig.remotes[${i}].credentialsSecret`, r.credentialsSecret.name, [
        [r.credentialsSecret.key ?? "user.creds", "key"],
      ]);
  }
  return problems;
}

/** spec.auth.clientsAuthSecret's users, or why they cannot be read. */
function clientsAuthOf(c: NatsCluster, secrets: SecretTexts): { clientsAuth?: ClientsAuth; problem?: string } {
  const authName = c.spec?.auth?.clientsAuthSecret;
  if (!authName) return {};
  const secret = secrets[authName];
  const where = `spec.auth.clientsAuthSecret: secret "${authName}"`;
  if (!secret) return { problem: `${where} not found in namespace "${c.metadata.namespace}"` };
  const key = chooseClientsAuthKey(Object.keys(secret));
  if ("error" in key) return { problem: `${where} ${key.error.message}` };
  const parsed = parseClientsAuth(secret[key.value]!);
  if ("error" in parsed) return { problem: `${where} key "${key.value}": ${parsed.error.message}` };
  return { clientsAuth: parsed.value };
}

function reloadModeProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  if (s.configReload?.mode !== "operator") return [];
  const problems: string[] = [];
  if (s.pod?.enableConfigReload)
    problems.push("configReload.mode operator reloads without a sidecar: leave out pod.enableConfigReload (or set mode sidecar)");
  if (s.tls?.verify) {
    problems.push(
      "configReload.mode operator cannot reload servers whose clients must present a certificate (tls.verify): use mode sidecar",
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

function serverSettingProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const problems: string[] = [];
  const lameDuck = s.lameDuckDurationSeconds;
  if (lameDuck !== undefined && lameDuck < 30) problems.push(`spec.lameDuckDurationSeconds is ${lameDuck}: nats-server needs 30 or more`);
  const nc = s.natsConfig ?? {};
  if (nc.write_deadline !== undefined && !/^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/.test(nc.write_deadline)) {
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
  if (s.auth?.enableServiceAccounts)
    problems.push(
      `spec.auth.enableServiceAccounts (users from NatsServiceRoles with ServiceAccount tokens) is not served by satellite yet: ${keep}; give the users in spec.auth.clientsAuthSecret instead`,
    );
  if (s.auth?.clientsAuthFile !== undefined)
    problems.push(
      `spec.auth.clientsAuthFile is not served by satellite: ${keep}; put the same JSON in a Secret and name it in spec.auth.clientsAuthSecret`,
    );
  for (const field of ["advertiseExternalIP", "bootconfigImage", "bootconfigImageTag"] as const)
    if (s.pod?.[field] !== undefined && s.pod[field] !== false)
      problems.push(`spec.pod.${field} (advertising the node's external IP) is not served by satellite yet: ${keep}; leave it out`);
  return problems;
}
