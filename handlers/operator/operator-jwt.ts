// JWT accounts (spec.operatorConfig, nats-operator's): the operator JWT from a Secret's `op.jwt`,
// the system account, and an account resolver. The JWTs go into nats.conf itself (nats-server
// takes a JWT where it takes a file), so a new operator JWT or preloaded account is a config change
// like any other. Clients then authenticate with JWTs: nats-server refuses users configured in
// the file ("operators do not allow users to be configured directly"), so nothing that needs one
// goes with it, and what the operator does as the system account uses a user's creds the user gives.
import type { NatsCluster } from "./natscluster.ts";
import type { SecretTexts } from "./phases/observe.ts";
import { quote } from "./server-config-auth.ts";

export const operatorJwtKey = "op.jwt";
export const systemCredsKey = "sys.creds";

export type Resolver = { url: string } | "MEMORY" | "full";
export interface JwtAccounts {
  operatorJwt: string;
  systemAccount?: string;
  resolver: Resolver;
  /** Account public key → account JWT: the operator Secret's keys named by account public keys. */
  preload: Record<string, string>;
}

const accountKey = /^A[A-Z2-7]{55}$/;
const jwtForm = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The `sub` of a JWT's claims, if its payload is base64url JSON with one. */
function subjectOf(jwt: string): string | undefined {
  try {
    const part = jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, "="))) as { sub?: unknown };
    return typeof claims.sub === "string" ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}

export function parseResolver(s: string | undefined): Resolver | undefined {
  if (s === "MEMORY" || s === "full") return s;
  const url = /^URL\((https?:\/\/[^()\s]+)\)$/.exec(s ?? "");
  return url ? { url: url[1]! } : undefined;
}

/** The Secrets spec.operatorConfig names. */
export const operatorConfigSecrets = (c: NatsCluster) => [c.spec?.operatorConfig?.secret, c.spec?.operatorConfig?.systemCredentialsSecret];

/** spec.operatorConfig read with its Secrets, or what is wrong with it. */
export function jwtAccountsOf(c: NatsCluster, secrets: SecretTexts): { accounts?: JwtAccounts; problems: string[] } {
  const o = c.spec?.operatorConfig;
  if (!o) return { problems: [] };
  const problems = combinationProblems(c);
  const where = `spec.operatorConfig.secret: secret "${o.secret}"`;
  const secret = o.secret ? secrets[o.secret] : undefined;
  const jwt = secret?.[operatorJwtKey]?.trim();
  if (!o.secret) problems.push("spec.operatorConfig.secret is empty: name the Secret that holds the operator JWT under op.jwt");
  else if (!secret) problems.push(`${where} not found in namespace "${c.metadata.namespace}"`);
  else if (jwt === undefined)
    problems.push(`${where} has no key "${operatorJwtKey}": put the operator JWT there (nsc describe operator --raw)`);
  else if (!jwtForm.test(jwt) || !subjectOf(jwt)?.startsWith("O"))
    problems.push(`${where} key "${operatorJwtKey}" is not an operator JWT (its subject must be an operator's public key, O…)`);
  const resolver = parseResolver(o.resolver);
  if (!resolver)
    problems.push(
      `spec.operatorConfig.resolver ${JSON.stringify(o.resolver ?? "")} is not a resolver: use URL(<account server URL>), MEMORY or full`,
    );
  if (o.systemAccount !== undefined && !accountKey.test(o.systemAccount))
    problems.push(
      `spec.operatorConfig.systemAccount ${JSON.stringify(o.systemAccount)} is not an account public key (A… of 56 characters)`,
    );
  const preload: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret ?? {}))
    if (accountKey.test(key)) {
      if (jwtForm.test(value.trim()) && subjectOf(value.trim()) === key) preload[key] = value.trim();
      else problems.push(`${where} key "${key}" is not that account's JWT`);
    }
  problems.push(...systemCredsProblems(c, secrets));
  if (problems.length || !jwt || !resolver) return { problems };
  return { accounts: { operatorJwt: jwt, ...(o.systemAccount ? { systemAccount: o.systemAccount } : {}), resolver, preload }, problems };
}

/** What needs users in nats.conf, which JWT accounts do not allow. */
function combinationProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const users = "clients authenticate with JWTs under spec.operatorConfig, and nats-server allows no users in its config then";
  const problems: string[] = [];
  for (const field of ["clientsAuthSecret", "enableServiceAccounts", "tlsVerifyAndMap"] as const)
    if (s.auth?.[field]) problems.push(`spec.auth.${field} does not go with spec.operatorConfig: ${users}; leave one out`);
  if (s.pod?.enableConfigReload)
    problems.push(
      `spec.pod.enableConfigReload does not go with spec.operatorConfig: the reloader sidecar reports as a user in the config, and ${users}; use configReload.mode operator (with operatorConfig.systemCredentialsSecret)`,
    );
  return problems;
}

/** The system user's creds where the operator acts as it: JetStream peer removal, operator-mode reloads. */
function systemCredsProblems(c: NatsCluster, secrets: SecretTexts): string[] {
  const s = c.spec ?? {};
  const name = s.operatorConfig?.systemCredentialsSecret;
  const needs = [s.jetstream?.enabled && "spec.jetstream", s.configReload?.mode === "operator" && "configReload.mode operator"].filter(
    Boolean,
  );
  if (name && !needs.length)
    return [
      "spec.operatorConfig.systemCredentialsSecret is used only with spec.jetstream or configReload.mode operator (the operator acts as the system user there): leave it out",
    ];
  if (!name)
    return needs.length
      ? [
          `${needs.join(" and ")} with spec.operatorConfig need the operator to act as a system-account user: set operatorConfig.systemCredentialsSecret to a Secret with that user's creds under "${systemCredsKey}" (nsc generate creds -a SYS -n <user>)`,
        ]
      : [];
  const creds = secrets[name]?.[systemCredsKey];
  const where = `spec.operatorConfig.systemCredentialsSecret: secret "${name}"`;
  if (!secrets[name]) return [`${where} not found in namespace "${c.metadata.namespace}"`];
  if (creds === undefined) return [`${where} has no key "${systemCredsKey}"`];
  if (!/-----BEGIN NATS USER JWT-----/.test(creds) || !/-----BEGIN USER NKEY SEED-----/.test(creds))
    return [`${where} key "${systemCredsKey}" is not a creds file (a user JWT and its seed, as nsc generate creds writes)`];
  return [];
}

/** The creds spec.operatorConfig.systemCredentialsSecret holds, once valid. */
export function systemCredsOf(c: NatsCluster, secrets: SecretTexts): string | undefined {
  const name = c.spec?.operatorConfig?.systemCredentialsSecret;
  return name ? secrets[name]?.[systemCredsKey] : undefined;
}

/** nats.conf lines for JWT accounts; `dir` is where the NATS-based resolver keeps the accounts. */
export function jwtAccountLines(a: JwtAccounts, dir: string): string[] {
  const resolver =
    a.resolver === "full"
      ? ["resolver {", `  type: full`, `  dir: ${quote(dir, "the resolver's directory")}`, "  allow_delete: false", '  interval: "2m"', "}"]
      : [`resolver: ${a.resolver === "MEMORY" ? "MEMORY" : quote(`URL(${a.resolver.url})`, "spec.operatorConfig.resolver")}`];
  const preload = Object.entries(a.preload).sort(([x], [y]) => x.localeCompare(y));
  return [
    `operator: ${quote(a.operatorJwt, "the operator JWT")}`,
    ...(a.systemAccount ? [`system_account: ${a.systemAccount}`] : []),
    ...resolver,
    ...(preload.length ? ["resolver_preload {", ...preload.map(([k, v]) => `  ${k}: ${quote(v, `the JWT of account ${k}`)}`), "}"] : []),
  ];
}
