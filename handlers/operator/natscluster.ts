// NatsCluster (nats.io/v1alpha2, also served as nats.io/v1beta1): the TypeScript mirror of the
// schema in manifests/crd.yaml. Keep the two in step. Field names follow the original
// nats-operator, including its JSON spellings `write_deadline` and `leafnodeConfig.hostPort`.
import type { V1ObjectMeta } from "@kubernetes/client-node";

export interface OperatorConfig {
  /** A Secret with the operator JWT under `op.jwt`; keys named by account public keys preload those accounts. */
  secret?: string;
  systemAccount?: string;
  /** `URL(<account server>)`, `MEMORY` or `full` (the NATS-based resolver). */
  resolver?: string;
  /** satellite's: a Secret with a system-account user's credentials under `sys.creds`, for what the operator does as that user. */
  systemCredentialsSecret?: string;
}

export interface NatsCluster {
  apiVersion: "nats.io/v1alpha2" | "nats.io/v1beta1";
  kind: "NatsCluster";
  metadata: V1ObjectMeta;
  spec?: NatsClusterSpec;
  status?: NatsClusterStatus;
}

export interface NatsClusterSpec {
  /** Number of NATS servers; >= 0. */
  size?: number;
  /** NATS server version (image tag). */
  version?: string;
  /** Image without tag; the API server defaults it to "nats". */
  serverImage?: string;
  /** Stop reconciling this cluster. */
  paused?: boolean;
  lameDuckDurationSeconds?: number;
  noAdvertise?: boolean;
  extraRoutes?: ExtraRoute[];
  natsConfig?: NatsConfig;
  /** Older manifests' spelling of natsConfig.debug/trace; natsConfig wins. */
  logging?: { debug?: boolean; trace?: boolean };
  pod?: PodPolicy;
  tls?: TLSConfig;
  auth?: AuthConfig;
  leafnodeConfig?: LeafnodeConfig;
  gatewayConfig?: GatewayConfig;
  websocketConfig?: WebsocketConfig;
  /** Labels and annotations of the client Service `<name>`. */
  servicePolicy?: ServicePolicy;
  /** Labels and annotations of the headless Service `<name>-mgmt`. */
  managementServicePolicy?: ServicePolicy;
  /** nats-operator's switch for server names; satellite always names servers (by pod), so either value runs the same. */
  useServerName?: boolean;
  /** JWT accounts (nats-operator's, operator-jwt.ts): the operator JWT, the system account, the resolver. */
  operatorConfig?: OperatorConfig;
  /** A pod template satellite lays its pod over (pod-template-merge.ts). */
  template?: Record<string, unknown>;
  configReload?: ConfigReload;
  jetstream?: JetStreamSpec;
  /** The cluster's PodDisruptionBudget; by default at most one server is voluntarily disrupted at a time. */
  podDisruptionBudget?: { maxUnavailable?: number };
}

/**
 * JetStream on every server: file storage on a PersistentVolumeClaim per server
 * (`jetstream-<pod>`, kept when the pod is replaced), explicit store limits, and rollouts that
 * wait for JetStream rather than for pod readiness.
 */
export interface JetStreamSpec {
  enabled?: boolean;
  /** JetStream domain of these servers. */
  domain?: string;
  /** max_memory_store; default a quarter of the container's memory limit, else 256Mi. */
  memoryStorage?: { size?: Quantity };
  /** The claim of each server: its size is also max_file_store. */
  fileStorage?: { size?: Quantity; storageClassName?: string; accessModes?: string[] };
  /** As a StatefulSet's: what happens to a server's claim when the cluster shrinks or is deleted (default Retain). */
  persistentVolumeClaimRetentionPolicy?: { whenScaled?: "Retain" | "Delete"; whenDeleted?: "Retain" | "Delete" };

  /** Tags every server carries besides its zone's (`zone:<zone>`), e.g. "ssd". */
  serverTags?: string[];
  /** nats-server's unique_tag: no two replicas of a stream on servers with the same tag of this prefix, e.g. "zone". */
  uniqueTag?: string;
}

/**
 * How config changes reach running servers. `operator`: no sidecar; the operator updates the
 * config Secret, has the kubelet refresh each pod's volume, reloads each server over NATS (system
 * account) and confirms it by nats-server's config digest. `sidecar`: satellite's reloader in
 * every pod (also what `pod.enableConfigReload` alone means). `canary`: one server first, loaded
 * and healthy, before the rest; a config it refuses or that makes it unhealthy is rolled back.
 */
export interface ConfigReload {
  mode?: "operator" | "sidecar";
  strategy?: "all" | "canary";
  /** How long the canary has to be healthy with its routes back after loading (default 15). */
  canaryTimeoutSeconds?: number;
}

/** `route` is used as is; `cluster` names another NatsCluster (in the same namespace). */
export interface ExtraRoute {
  cluster?: string;
  route?: string;
}

export interface NatsConfig {
  debug?: boolean;
  trace?: boolean;
  /** A duration such as "10s" (JSON name as in the original). */
  write_deadline?: string;
  maxConnections?: number;
  maxPayload?: number;
  maxPending?: number;
  maxSubscriptions?: number;
  maxControlLine?: number;
  disableLogtime?: boolean;
}

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

/** Quantities keyed by resource name ("cpu", "memory", …): 1, "500m", "1Gi". */
export interface ResourceRequirements {
  limits?: Quantities;
  requests?: Quantities;
}
export type Quantities = Record<string, number | string>;
/** A resource quantity: 1073741824, "1Gi", "500M". */
export type Quantity = number | string;

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
}

export interface PodPolicy {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeSelector?: Record<string, string>;
  antiAffinity?: boolean;
  /** At most one server of this cluster per node: required, where antiAffinity only prefers it. */
  oneServerPerNode?: boolean;
  resources?: ResourceRequirements;
  tolerations?: Toleration[];
  natsEnv?: EnvVar[];
  enableConfigReload?: boolean;
  reloaderImage?: string;
  reloaderImageTag?: string;
  reloaderImagePullPolicy?: PullPolicy;
  reloaderResources?: ResourceRequirements;
  enableMetrics?: boolean;
  metricsImage?: string;
  metricsImageTag?: string;
  metricsImagePullPolicy?: PullPolicy;
  enableClientsHostPort?: boolean;
  /** nats-operator bound host ports for these by default; satellite binds none, so `true` is what it does anyway. */
  disableGatewaysHostPort?: boolean;
  disableLeafnodesHostPort?: boolean;
  disableWebsocketsHostPort?: boolean;
  /** Extra mounts of the nats container, of volumes from `template`. */
  volumeMounts?: Record<string, unknown>[];
  /** Laid over the pod's restricted defaults (pod-security.ts), key by key: core PodSecurityContext. */
  securityContext?: Record<string, unknown>;
  /** Laid over every container's restricted defaults, key by key: core SecurityContext. */
  containerSecurityContext?: Record<string, unknown>;
  advertiseExternalIP?: boolean;
  bootconfigImage?: string;
  bootconfigImageTag?: string;
}

/** The file-name fields are defaulted by the API server whenever `tls` is present. */
export interface TLSConfig {
  serverSecret?: string;
  serverSecretCAFileName?: string;
  serverSecretKeyFileName?: string;
  serverSecretCertFileName?: string;
  routesSecret?: string;
  routesSecretCAFileName?: string;
  routesSecretKeyFileName?: string;
  routesSecretCertFileName?: string;
  gatewaySecret?: string;
  gatewaySecretCAFileName?: string;
  gatewaySecretKeyFileName?: string;
  gatewaySecretCertFileName?: string;
  leafnodeSecret?: string;
  leafnodeSecretCAFileName?: string;
  leafnodeSecretKeyFileName?: string;
  leafnodeSecretCertFileName?: string;
  websocketSecret?: string;
  websocketSecretCAFileName?: string;
  websocketSecretKeyFileName?: string;
  websocketSecretCertFileName?: string;
  verify?: boolean;
  /** The client port's TLS cipher suites and curves, by Go's names (nats-server's). */
  cipherSuites?: string[];
  curvePreferences?: string[];
  /** Seconds (fractions allowed). */
  clientsTLSTimeout?: number;
  routesTLSTimeout?: number;
  gatewaysTLSTimeout?: number;
  leafnodesTLSTimeout?: number;
  websocketTLSTimeout?: number;
}

export interface AuthConfig {
  enableServiceAccounts?: boolean;
  clientsAuthSecret?: string;
  clientsAuthFile?: string;
  /** Seconds. */
  clientsAuthTimeout?: number;
  /** Client certificates name the users (tls.verify_and_map): spec.tls.verify with users named by subject. */
  tlsVerifyAndMap?: boolean;
  /** Routes' user and password: a Secret with nats-operator's JSON (server-config-peer-auth.ts). */
  clusterAuthSecret?: string;
  /** Seconds. */
  clusterAuthTimeout?: number;
  /** Gateways' user and password, the same way; with spec.gatewayConfig only. */
  gatewayAuthSecret?: string;
  /** Seconds. */
  gatewayAuthTimeout?: number;
}

export interface ServicePolicy {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Gateways to other NATS clusters (a supercluster), as nats-operator's gatewayConfig. */
export interface GatewayConfig {
  /** The gateway (supercluster member) name; default the NatsCluster's name. */
  name?: string;
  /** The gateway listen port (JSON name as in the original; no host port is bound). */
  hostPort?: number;
  rejectUnknown?: boolean;
  gateways?: { name: string; url?: string }[];
}

/** Clients over WebSocket, as nats-operator's websocketConfig. */
export interface WebsocketConfig {
  port?: number;
  /** A duration such as "5s". */
  handshakeTimeout?: string;
  compression?: boolean;
}

export interface LeafnodeConfig {
  /** Port accepting leafnode connections (JSON name as in the original). */
  hostPort?: number;
  remotes?: LeafnodeRemote[];
}

export interface LeafnodeRemote {
  url?: string;
  urls?: string[];
  /** Path of a credentials file inside the server container (a string, as in the original). */
  credentials?: string;
  /** A Secret key holding the credentials file: satellite mounts it and points the remote at it. */
  credentialsSecret?: { name: string; key?: string };
}

export interface NatsClusterStatus {
  size?: number;
  readyReplicas?: number;
  currentVersion?: string;
  observedGeneration?: number;
  /** A map list keyed by `type`. */
  conditions?: Condition[];
  /** Operator reload mode: which config each server runs. */
  config?: ConfigStatus;
  jetstream?: JetStreamStatus;
  /** spec.auth.enableServiceAccounts: the roles served as NATS users, and those waiting for their ServiceAccount. */
  serviceAccounts?: { users: string[]; waiting: string[]; ambiguous: string[] };
}

/** What the servers say of JetStream (their /jsz and /healthz). */
export interface JetStreamStatus {
  metaLeader?: string;
  /** The meta group's peers other than the leader, and whether each is current. */
  peers?: { name: string; current: boolean; lag?: number; offline?: boolean }[];
  /** Servers whose full /healthz fails: their streams or consumers are not current. */
  notCurrent?: { server: string; error: string }[];
  /** Since when a rollout or scale-down has been waiting for JetStream. */
  waitingSince?: string;
  /** Offline meta group peers that no pod backs and no scale-down removed (e.g. a pod deleted by hand). */
  stalePeers?: string[];
  /** Servers a scale-down removed, until they have left the meta group. */
  removed?: string[];
}

export interface ConfigStatus {
  /** The config the servers should run: hash of its text, and the routes file's revision it carries. */
  hash?: string;
  revision?: string;
  /** Current: every server runs it; Rolling; Refused: it was rolled back, the last good one runs. */
  state?: "Current" | "Rolling" | "Refused";
  /** A config that was refused (by nats-server, or an unhealthy canary), and why; not tried again until it changes. */
  refused?: { hash: string; revision?: string; error: string; at: string };
  servers?: ServerConfigState[];
}

export interface ServerConfigState {
  pod: string;
  serverId?: string;
  /** Hash and routes-file revision of the config it runs, as confirmed by its config digest. */
  hash?: string;
  revision?: string;
  state: "current" | "reloading" | "outdated" | "unknown";
  error?: string;
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  /** RFC 3339 date-time. */
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/**
 * Whether the cluster's clients must authenticate: users from spec.auth.clientsAuthSecret or from
 * NatsServiceRoles (enableServiceAccounts). Then the operator's own users (config API, reloaders)
 * are in the config too, with passwords.
 */
export const clientsMustAuthenticate = (c: NatsCluster) => Boolean(c.spec?.auth?.clientsAuthSecret || c.spec?.auth?.enableServiceAccounts);

/** The `default:`s of manifests/crd.yaml, for objects that did not come through the API server. */
export const specDefaults = {
  serverImage: "nats",
  tls: {
    serverSecretCAFileName: "ca.pem",
    serverSecretKeyFileName: "server-key.pem",
    serverSecretCertFileName: "server.pem",
    routesSecretCAFileName: "ca.pem",
    routesSecretKeyFileName: "route-key.pem",
    routesSecretCertFileName: "route.pem",
    gatewaySecretCAFileName: "ca.pem",
    gatewaySecretKeyFileName: "server-key.pem",
    gatewaySecretCertFileName: "server.pem",
    leafnodeSecretCAFileName: "ca.pem",
    leafnodeSecretKeyFileName: "server-key.pem",
    leafnodeSecretCertFileName: "server.pem",
    websocketSecretCAFileName: "ca.pem",
    websocketSecretKeyFileName: "server-key.pem",
    websocketSecretCertFileName: "server.pem",
  },
} as const satisfies NatsClusterSpec;

export interface TLSFiles {
  secret: string;
  ca: string;
  cert: string;
  key: string;
}

/** What each TLS Secret secures, by the prefix of its fields in spec.tls. */
export const tlsPorts = ["server", "routes", "gateway", "leafnode", "websocket"] as const;
export type TLSPort = (typeof tlsPorts)[number];

/** Each TLS Secret of a spec with its file names, defaults applied. */
export function tlsFiles(tls: TLSConfig | undefined): Partial<Record<TLSPort, TLSFiles>> {
  const d: Record<string, string> = specDefaults.tls;
  const t = (tls ?? {}) as Record<string, string | undefined>;
  const out: Partial<Record<TLSPort, TLSFiles>> = {};
  for (const port of tlsPorts) {
    const secret = t[`${port}Secret`];
    if (!secret) continue;
    const file = (f: string) => t[`${port}Secret${f}FileName`] ?? d[`${port}Secret${f}FileName`]!;
    out[port] = { secret, ca: file("CA"), cert: file("Cert"), key: file("Key") };
  }
  return out;
}
