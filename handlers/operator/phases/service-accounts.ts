// Phase 2b, service accounts (spec.auth.enableServiceAccounts): a NATS user for each NatsServiceRole
// labelled `nats_cluster: <cluster>` in the cluster's namespace that has a ServiceAccount of its
// name, its password the token in the Secret `<role>-<cluster>-bound-token` beside that
// ServiceAccount. Tokens are asked for (a `token` change the runtime carries out), replaced at 80%
// of their life, and taken over as they are from nats-operator. The users are merged with
// spec.auth.clientsAuthSecret's by the reconcile; the operator's own are added after.
import type { EventNote } from "../../events.ts";
import type { Change, Secret, ServiceAccount } from "../../types.ts";
import { configApiUser, reloaderUser } from "../config-api-user.ts";
import { labelApp, labelCluster } from "../names.ts";
import type { NatsServiceRole } from "../natsservicerole.ts";
import { type ClientsAuth, type ClientsAuthUser, parseClientsAuth } from "../server-config.ts";
import {
  annotationTokenAdopted,
  labelClusterNamespace,
  refreshFraction,
  tokenAudience,
  tokenDue,
  tokenLifeSeconds,
  tokenSecretName,
} from "../service-account-token.ts";
import type { Observed } from "./observe.ts";

export interface ServiceAccountsStatus {
  /** Roles served as users. */
  users: string[];
  /** Roles that have no ServiceAccount of their name yet: no user. */
  waiting: string[];
  /** Roles with ServiceAccounts of their name in several namespaces and none chosen yet (accountOf): no user. */
  ambiguous: string[];
}

export interface ServiceAccountUsers {
  /** Undefined: spec.auth.enableServiceAccounts is off. */
  users?: ClientsAuthUser[];
  changes: Change[];
  events: EventNote[];
  problems: string[];
  status?: ServiceAccountsStatus;
  /** Look again then: the next token is due. */
  requeueAfterMs?: number;
}

const ownerOf = (role: NatsServiceRole) => ({
  apiVersion: "nats.io/v1alpha2",
  kind: "NatsServiceRole",
  name: role.metadata.name!,
  uid: role.metadata.uid!,
  controller: true,
});

/** What one role gives: a user, changes and Events, or a problem, or a wait for its ServiceAccount. */
interface RoleOutcome {
  user?: ClientsAuthUser;
  changes: Change[];
  events: EventNote[];
  problem?: string;
  waiting?: true;
  ambiguous?: true;
  refreshInMs?: number;
}

export function serviceAccountUsers(seen: Observed): ServiceAccountUsers {
  if (!seen.spec.auth?.enableServiceAccounts) return { changes: [], events: [], problems: [] };
  const roles = [...(seen.serviceRoles?.roles ?? [])].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
  const each = roles.map((role) => ({ role: role.metadata.name!, ...roleOutcome(seen, role) }));
  const refresh = each.flatMap((o) => (o.refreshInMs !== undefined ? [o.refreshInMs] : []));
  const users = each.flatMap((o) => (o.user ? [o.user] : []));
  return {
    users,
    changes: [...each.flatMap((o) => o.changes), ...staleTokenSecrets(seen, roles)],
    events: each.flatMap((o) => o.events),
    problems: each.flatMap((o) => (o.problem ? [o.problem] : [])),
    status: {
      users: users.map((u) => u.username),
      waiting: each.filter((o) => o.waiting).map((o) => o.role),
      ambiguous: each.filter((o) => o.ambiguous).map((o) => o.role),
    },
    ...(refresh.length ? { requeueAfterMs: Math.min(...refresh) } : {}),
  };
}

/**
 * Which ServiceAccount of the role's name its user is (two would be two users of one name, which
 * nats-server cannot have): the one whose namespace already holds the role's token Secret (a role
 * stays with the account it has, whatever appears elsewhere); else the one in the cluster's
 * namespace; else the only one; else none (ambiguous).
 */
function accountOf(seen: Observed, role: string, accounts: ServiceAccount[]): ServiceAccount | undefined {
  const secretName = tokenSecretName(role, seen.name);
  const holds = (a: ServiceAccount) =>
    (seen.serviceRoles?.tokenSecrets ?? []).some(
      (t) =>
        t.secret.metadata?.namespace === a.metadata?.namespace &&
        t.secret.metadata?.name === secretName &&
        [undefined, seen.namespace].includes(t.secret.metadata?.labels?.[labelClusterNamespace]),
    );
  const bound = accounts.filter(holds);
  if (bound.length === 1) return bound[0];
  return accounts.find((a) => a.metadata?.namespace === seen.namespace) ?? (accounts.length === 1 ? accounts[0] : undefined);
}

const noRoles: NonNullable<Observed["serviceRoles"]> = { roles: [], accounts: [], tokenSecrets: [] };
const problem = (p: string): RoleOutcome => ({ changes: [], events: [], problem: p });

/** A role with no ServiceAccount, or several of its name: no user, said once. */
function withoutAccount(seen: Observed, roleName: string, where: string, accounts: ServiceAccount[]): RoleOutcome {
  const status = seen.cluster.status?.serviceAccounts;
  if (accounts.length > 1) {
    const spaces = accounts.map((a) => JSON.stringify(a.metadata!.namespace)).sort();
    const message = `${where}: ServiceAccounts "${roleName}" in namespaces ${spaces.join(", ")} would be two NATS users of one name, so neither is: delete all but one, or create the one in namespace "${seen.namespace}", which wins`;
    const told = status?.ambiguous?.includes(roleName);
    return { changes: [], events: told ? [] : [{ type: "Warning", reason: "ServiceAccountAmbiguous", message }], ambiguous: true };
  }
  const message = `${where} has no ServiceAccount "${roleName}" in a namespace the operator watches: no NATS user until one is created`;
  const told = status?.waiting?.includes(roleName);
  return { changes: [], events: told ? [] : [{ type: "Warning", reason: "ServiceAccountMissing", message }], waiting: true };
}

function roleOutcome(seen: Observed, role: NatsServiceRole): RoleOutcome {
  const { name: cluster, namespace: ns } = seen;
  const sr = seen.serviceRoles ?? noRoles;
  const roleName = role.metadata.name!;
  const where = `NatsServiceRole "${roleName}"`;
  if (roleName === configApiUser || roleName === reloaderUser)
    return problem(`${where} is named as one of the operator's own NATS users: rename it (and its ServiceAccount)`);
  const parsed = parseClientsAuth(JSON.stringify({ users: [{ username: roleName, permissions: role.spec?.permissions ?? {} }] }));
  if ("error" in parsed) return problem(`${where}: ${parsed.error.message.replace(/^users\[0\]\.?/, "")}`);
  const accounts = sr.accounts.filter((a) => a.metadata?.name === roleName);
  const sa = accountOf(seen, roleName, accounts);
  if (!sa) return withoutAccount(seen, roleName, where, accounts);
  const saNs = sa.metadata!.namespace!;
  const secretName = tokenSecretName(roleName, cluster);
  const found = sr.tokenSecrets.find((t) => t.secret.metadata?.namespace === saNs && t.secret.metadata?.name === secretName);
  const meta = found?.secret.metadata;
  const labels = { ...meta?.labels, [labelApp]: "nats", [labelCluster]: cluster, [labelClusterNamespace]: ns };
  // A role owns its token Secret where it can: in its own namespace (as nats-operator made it).
  const owners = saNs === ns ? [ownerOf(role)] : [];
  const user = (token: string | undefined) => (token ? { user: { ...parsed.value.users![0]!, password: token } } : {});
  const ask = (secret: Secret): RoleOutcome["changes"][number] => ({
    op: "token",
    secret,
    serviceAccount: roleName,
    audience: tokenAudience(cluster, ns),
    expirationSeconds: tokenLifeSeconds,
  });
  const asked = (why: string): EventNote => ({
    type: "Normal",
    reason: "TokenRequested",
    message: `ServiceAccount ${saNs}/${roleName}: a new token for NATS user "${roleName}" in Secret ${secretName}, as ${why}`,
  });
  if (!found) {
    const secret: Secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: secretName, namespace: saNs, labels, ...(owners.length ? { ownerReferences: owners } : {}) },
    };
    const why = "the Secret does not exist yet";
    return { changes: [ask(secret)], events: [asked(why)] };
  }
  const holder = meta?.labels?.[labelClusterNamespace];
  if (holder !== undefined && holder !== ns)
    return problem(
      `${where}: Secret ${saNs}/${secretName} holds the token of cluster ${holder}/${cluster}, also named "${cluster}": rename the role or the ServiceAccount`,
    );
  const { [annotationTokenAdopted]: adoptedAt, ...annotations } = meta?.annotations ?? {};
  if (holder === undefined && found.token) {
    // nats-operator's: taken over as it is, its token the password from now on, as it was.
    const ownerReferences = [...(meta?.ownerReferences ?? []).filter((r) => r.kind !== "NatsServiceRole"), ...owners];
    const object = {
      ...found.secret,
      metadata: { ...meta, labels, annotations: { ...annotations, [annotationTokenAdopted]: seen.view.now }, ownerReferences },
    };
    const hours = Math.round((refreshFraction * tokenLifeSeconds) / 3600);
    const message = `Secret ${saNs}/${secretName}: its token (nats-operator's) stays the password of NATS user "${roleName}"; a new one replaces it in ${hours} h`;
    return {
      ...user(found.token),
      changes: [{ op: "replace", kind: "Secret", object }],
      events: [{ type: "Normal", reason: "TokenAdopted", message }],
    };
  }
  const nowMs = Date.parse(seen.view.now);
  const want = { serviceAccountUid: sa.metadata?.uid, secretUid: meta?.uid, audience: tokenAudience(cluster, ns) };
  const due = tokenDue(found.token, { ...want, ...(adoptedAt ? { adoptedAt } : {}) }, nowMs);
  // Until the new token is written, the one the clients have stays their password.
  if ("refreshAtMs" in due) return { ...user(found.token), changes: [], events: [], refreshInMs: Math.max(1000, due.refreshAtMs - nowMs) };
  const ownerReferences = holder === undefined ? owners : (meta?.ownerReferences ?? owners);
  const secret = { ...found.secret, metadata: { ...meta, labels, annotations, ownerReferences } };
  return { ...user(found.token), changes: [ask(secret)], events: [asked(due.reason)] };
}

/** The operator's token Secrets of this cluster whose role, or ServiceAccount, is gone: deleted with their token. */
function staleTokenSecrets(seen: Observed, roles: NatsServiceRole[]): Change[] {
  const sr = seen.serviceRoles ?? noRoles;
  const suffix = `-${seen.name}-bound-token`;
  return sr.tokenSecrets
    .map((t) => t.secret)
    .filter((s) => s.metadata?.labels?.[labelClusterNamespace] === seen.namespace && s.metadata?.name?.endsWith(suffix))
    .filter((s) => {
      const role = s.metadata!.name!.slice(0, -suffix.length);
      const ns = s.metadata!.namespace;
      return (
        !roles.some((r) => r.metadata.name === role) || !sr.accounts.some((a) => a.metadata?.name === role && a.metadata?.namespace === ns)
      );
    })
    .map(
      (s) => ({ op: "delete", kind: "Secret", namespace: s.metadata!.namespace!, name: s.metadata!.name!, uid: s.metadata?.uid }) as const,
    );
}

/**
 * spec.auth.clientsAuthSecret's users and the roles' users in one authorization config; a name in
 * both is a problem (nats-server cannot have two users of one name).
 */
export function withServiceAccountUsers(
  clientsAuth: ClientsAuth | undefined,
  sa: ServiceAccountUsers,
): { auth?: ClientsAuth; problems: string[] } {
  if (!sa.users) return { ...(clientsAuth ? { auth: clientsAuth } : {}), problems: [] };
  const base = clientsAuth ?? {};
  const clash = sa.users.filter((u) => base.users?.some((x) => x.username === u.username)).map((u) => u.username);
  if (clash.length)
    return {
      problems: clash.map(
        (n) =>
          `spec.auth.clientsAuthSecret has a user "${n}" and so does NatsServiceRole "${n}" (enableServiceAccounts): nats-server cannot have two users of one name, rename one`,
      ),
    };
  return { auth: { ...base, users: [...(base.users ?? []), ...sa.users] }, problems: [] };
}
