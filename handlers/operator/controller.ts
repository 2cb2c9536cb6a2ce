import { eventChange, type Reporter } from "../events.ts";
import type { Kind, ObjectOf } from "../kinds.ts";
import type { Change, ServerConnect, Target } from "../types.ts";
import { decodeBase64 } from "./base64.ts";
import { type CertificateFiles, certificateFilesIn } from "./certificate-checks.ts";
import { withConditions } from "./conditions.ts";
import { configApiUser, keyConfigApiPassword } from "./config-api-user.ts";
import { reloaderAccountName } from "./desired-objects.ts";
import { jetstreamEnabled } from "./jetstream.ts";
import { configSecretName, isOwnedBy, labelApp, labelCluster, routesConfigMapName, stableJson } from "./names.ts";
import { clientsMustAuthenticate, type NatsCluster, tlsFiles } from "./natscluster.ts";
import { decodeData } from "./phases/observe.ts";
import { type ClusterView, reconcileCluster } from "./reconcile.ts";
import type { ServerObservation } from "./reload-rollout.ts";
import { serverConnect } from "./server-connect.ts";
import { labelClusterNamespace, tokenSecretName } from "./service-account-token.ts";
import { isTlsFileKey, tlsMaterial } from "./tls-material.ts";
import type { WatchedKind } from "./triggers.ts";
import { referencedSecrets } from "./validate.ts";

/** Read access to the operator's caches: what a reconcile may look at. */
export interface Store {
  get<K extends WatchedKind>(kind: K, namespace: string, name: string): ObjectOf<K> | undefined;
  /** Objects of the namespace whose labels include `labels`. */
  list<K extends WatchedKind>(kind: K, namespace: string, labels: Record<string, string>): ObjectOf<K>[];
  /** Objects of every namespace the operator watches (its own only, for a namespaced operator), by name and/or labels. */
  everywhere<K extends WatchedKind>(kind: K, match: { name?: string; labels?: Record<string, string> }): ObjectOf<K>[];
}

/** What the operator runs with, besides the caches. */
export interface OperatorEnv extends Reporter {
  /** satellite's own image, for the reloader sidecar. */
  controllerImage: string;
  now: string;
  /** Fresh random text, for a password the first time one is needed. */
  entropy: string;
  /** The operator's -site: in a fleet, server names carry it. */
  site?: string;
}

/** configReload.mode operator: the servers the runtime asks (/varz, /healthz, /routez) before a reconcile. */
export function serversToObserve(cluster: NatsCluster, store: Store): { pod: string; ip: string; jetstream?: true }[] {
  const jetstream = jetstreamEnabled(cluster);
  if (cluster.spec?.configReload?.mode !== "operator" && !jetstream) return [];
  return store
    .list("Pod", cluster.metadata.namespace!, { [labelCluster]: cluster.metadata.name! })
    .filter((p) => isOwnedBy(p, cluster) && !p.metadata?.deletionTimestamp && p.status?.podIP && p.status.phase === "Running")
    .map((p) => ({ pod: p.metadata!.name!, ip: p.status!.podIP!, ...(jetstream ? { jetstream: true as const } : {}) }));
}

/** The TLS files whose certificates the runtime reads before a reconcile (reload modes): each TLS Secret's, and those the config Secret carries. */
export function certificatesToCheck(cluster: NatsCluster, store: Store): CertificateFiles[] {
  // Without a reload mode the servers read the Secrets' mounts themselves: nothing is checked.
  if (cluster.spec?.configReload?.mode !== "operator" && !cluster.spec?.pod?.enableConfigReload) return [];
  const ns = cluster.metadata.namespace!;
  const read = (name: string) => {
    const s = store.get("Secret", ns, name);
    return s ? decodeData(s) : undefined;
  };
  const secrets = Object.fromEntries(Object.values(tlsFiles(cluster.spec?.tls)).map((f) => [f.secret, read(f.secret)]));
  const running = Object.entries(read(configSecretName(cluster.metadata.name!)) ?? {}).filter(([k]) => isTlsFileKey(k));
  return certificateFilesIn({ ...Object.fromEntries(running), ...tlsMaterial(cluster.spec?.tls, secrets, "").files });
}

/** Every kind the operator watches, and which of its objects (a label selector). */
export const watches: { kind: WatchedKind & Kind; labelSelector?: string }[] = [
  { kind: "NatsCluster" },
  { kind: "Pod", labelSelector: `${labelApp}=nats,${labelCluster}` },
  { kind: "Service", labelSelector: `${labelApp}=nats,${labelCluster}` },
  { kind: "Secret" },
  { kind: "ConfigMap" },
  // Every ServiceAccount: the reloaders' (labelled), and those NatsServiceRoles are named after.
  { kind: "ServiceAccount" },
  { kind: "Role", labelSelector: `${labelApp}=nats,${labelCluster}` },
  { kind: "RoleBinding", labelSelector: `${labelApp}=nats,${labelCluster}` },
  { kind: "PersistentVolumeClaim", labelSelector: `${labelApp}=nats,${labelCluster}` },
  { kind: "PodDisruptionBudget", labelSelector: `${labelApp}=nats,${labelCluster}` },
  { kind: "NatsServiceRole", labelSelector: labelCluster },
];

/** The cluster's view, gathered from the caches by the names and labels the operator gives its objects. */
export function viewOf(
  cluster: NatsCluster,
  store: Store,
  env: OperatorEnv,
  servers?: Record<string, ServerObservation | undefined>,
  certificates?: ClusterView["certificates"],
): ClusterView {
  const ns = cluster.metadata.namespace!;
  const name = cluster.metadata.name!;
  const owned = { [labelCluster]: name };
  const rbac = reloaderAccountName(name);
  return {
    cluster,
    pods: store.list("Pod", ns, owned),
    services: store.list("Service", ns, owned),
    claims: store.list("PersistentVolumeClaim", ns, owned),
    disruptionBudget: store.get("PodDisruptionBudget", ns, name) ?? null,
    configSecret: store.get("Secret", ns, name) ?? null,
    routesConfigMap: store.get("ConfigMap", ns, routesConfigMapName(name)) ?? null,
    secrets: Object.fromEntries(referencedSecrets(cluster).map((s) => [s, store.get("Secret", ns, s)])),
    reloaderRbac: {
      serviceAccount: store.get("ServiceAccount", ns, rbac),
      role: store.get("Role", ns, rbac),
      roleBinding: store.get("RoleBinding", ns, rbac),
    },
    controllerImage: env.controllerImage,
    now: env.now,
    entropy: env.entropy,
    ...(env.site ? { site: env.site } : {}),
    ...(servers ? { servers } : {}),
    ...(certificates ? { certificates } : {}),
    ...(cluster.spec?.auth?.enableServiceAccounts ? { serviceRoles: serviceRolesOf(cluster, store) } : {}),
  };
}

/** enableServiceAccounts: the cluster's roles, the ServiceAccounts of their names, their token Secrets. */
function serviceRolesOf(cluster: NatsCluster, store: Store): NonNullable<ClusterView["serviceRoles"]> {
  const ns = cluster.metadata.namespace!;
  const name = cluster.metadata.name!;
  const roles = store.list("NatsServiceRole", ns, { [labelCluster]: name });
  const accounts = roles.flatMap((r) => store.everywhere("ServiceAccount", { name: r.metadata.name! }));
  const beside = accounts.flatMap((a) => store.get("Secret", a.metadata!.namespace!, tokenSecretName(a.metadata!.name!, name)) ?? []);
  const labelled = store.everywhere("Secret", { labels: { [labelCluster]: name, [labelClusterNamespace]: ns } });
  const key = (s: { metadata?: { namespace?: string; name?: string } }) => `${s.metadata?.namespace}/${s.metadata?.name}`;
  const tokenSecrets = [...new Map([...beside, ...labelled].map((s) => [key(s), s])).values()];
  return { roles, accounts, tokenSecrets };
}

/**
 * A reconcile as one list of changes in the order they are made: objects, then Events, then the
 * status when it differs from the one seen.
 */
export function reconcile(
  cluster: NatsCluster,
  store: Store,
  env: OperatorEnv,
  servers?: Record<string, ServerObservation | undefined>,
  certificates?: ClusterView["certificates"],
): { changes: Change[]; requeueAfterMs?: number } {
  const r = reconcileCluster(viewOf(cluster, store, env, servers, certificates));
  const changes: Change[] = [...r.changes, ...r.events.map((e) => eventChange(cluster, e, env, env.now))];
  if (stableJson(cluster.status ?? {}) !== stableJson(r.status))
    changes.push({ op: "status", kind: "NatsCluster", object: { ...cluster, status: r.status } });
  return { changes, ...(r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : {}) };
}

/**
 * A reconcile the API server did not let finish: a Progressing=False condition saying why, and a
 * Warning Event when that reason is new, so `kubectl describe` shows it (retries repeat neither).
 */
export function reconcileFailed(cluster: NatsCluster, error: string, env: OperatorEnv): Change[] {
  const message = `the last reconcile failed and is retried with backoff: ${error}`;
  const before = cluster.status?.conditions?.find((c) => c.type === "Progressing");
  if (before?.reason === "ReconcileFailed" && before.message === message) return [];
  const next = { type: "Progressing", status: "False", reason: "ReconcileFailed", message } as const;
  const others = (cluster.status?.conditions ?? []).filter((c) => c.type !== "Progressing");
  const conditions = [...others, ...withConditions(cluster.status?.conditions, [next], env.now, cluster.metadata.generation)];
  return [
    eventChange(cluster, { type: "Warning", reason: "ReconcileFailed", message: error }, env, env.now),
    { op: "status", kind: "NatsCluster", object: { ...cluster, status: { ...cluster.status, conditions } } },
  ];
}

/**
 * `-config-api`: what the operator needs to serve this cluster's config API on the cluster's own
 * NATS (its routes file, its pods, where to connect), or why it cannot.
 */
export function configApiOf(
  cluster: NatsCluster,
  store: Store,
  site: string | undefined,
): { target: Target; podSelector: string; connect: ServerConnect } | { skip: string } {
  const ns = cluster.metadata.namespace!;
  const name = cluster.metadata.name!;
  const spec = cluster.spec ?? {};
  const auth = clientsMustAuthenticate(cluster);
  const password = auth ? store.get("Secret", ns, configSecretName(name))?.data?.[keyConfigApiPassword] : undefined;
  if (auth && !password) return { skip: "its clients must authenticate and the operator's user is not in its config yet" };
  if (spec.operatorConfig)
    return { skip: "its clients authenticate with JWTs (operatorConfig), and the operator has no user in its accounts" };
  if (spec.auth?.tlsVerifyAndMap)
    return { skip: "its clients are named by their certificates (auth.tlsVerifyAndMap), which the operator's would not be" };
  const running = store
    .list("Pod", ns, { [labelCluster]: name })
    .filter((p) => isOwnedBy(p, cluster) && !p.metadata?.deletionTimestamp && p.status?.phase === "Running" && p.status.podIP);
  if (!running.length) return { skip: "no server runs yet" };
  const files = tlsFiles(spec.tls).server;
  const raw = files ? store.get("Secret", ns, files.secret)?.data : undefined;
  const serverSecret = raw && Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, decodeBase64(v)]));
  return {
    target: { cluster: name, namespace: ns, configMap: routesConfigMapName(name), key: "routes.json", ...(site ? { site } : {}) },
    podSelector: `${labelCluster}=${name}`,
    connect: {
      ...serverConnect(cluster, running, serverSecret),
      ...(password ? { user: configApiUser, password: decodeBase64(password) } : {}),
    },
  };
}
