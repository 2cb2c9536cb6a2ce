// Phase 1, read the view: what the caches hold, put in the shape the other phases read. Every
// Secret value is decoded here, once; no later phase decodes base64.
import { loadRoutesConfig, type RoutesConfig } from "../../config/routes-file.ts";
import { isPodReady } from "../../pod-state.ts";
import type {
  ConfigMap,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  Role,
  RoleBinding,
  Secret,
  Service,
  ServiceAccount,
} from "../../types.ts";
import { decodeBase64 } from "../base64.ts";
import type { CertificateFacts } from "../certificate-checks.ts";
import { jetstreamEnabled } from "../jetstream.ts";
import { streamsSeen } from "../jetstream-gate.ts";
import { fleetServerName, isOwnedBy, routesConfigMapName } from "../names.ts";
import type { NatsCluster, NatsClusterSpec } from "../natscluster.ts";
import type { NatsServiceRole } from "../natsservicerole.ts";
import type { MetaView, ServerObservation } from "../reload-rollout.ts";
import { defaultServerVersion, type ServerVersion, serverVersion } from "../server-version.ts";
import { keyToken } from "../service-account-token.ts";

/** Everything a reconcile looks at: the cluster and what it owns or names, read from the caches. */
export interface ClusterView {
  cluster: NatsCluster;
  /** Pods labelled with the cluster's name; only those it controls are acted on. */
  pods: Pod[];
  services: Service[];
  /** JetStream servers' claims (jetstream-<pod>). */
  claims?: PersistentVolumeClaim[];
  /** The PodDisruptionBudget `<name>`, where it exists. */
  disruptionBudget?: PodDisruptionBudget | null;
  configSecret: Secret | null;
  routesConfigMap: ConfigMap | null;
  /** The Secrets the spec names (referencedSecrets), as the API server has them (base64). */
  secrets: Record<string, Secret | undefined>;
  /** The reloader's ServiceAccount, Role and RoleBinding `<name>-reloader`, where they exist. */
  reloaderRbac?: { serviceAccount?: ServiceAccount; role?: Role; roleBinding?: RoleBinding };
  /** satellite's own image, the default reloader sidecar. */
  controllerImage: string;
  now: string;
  /** configReload.mode operator and JetStream: what each server said, by pod name. */
  servers?: Record<string, ServerObservation | undefined>;
  /** Fresh random text from the runtime, for a password the first time one is needed. */
  entropy?: string;
  /** The operator's -site: server names "<site>-<namespace>-<pod>", unique in a fleet. */
  site?: string;
  /**
   * spec.auth.enableServiceAccounts: the NatsServiceRoles labelled with the cluster's name in its
   * namespace, the ServiceAccounts of their names in every namespace the operator watches, and
   * the token Secrets `<role>-<cluster>-bound-token` beside them or labelled as this cluster's.
   */
  serviceRoles?: { roles: NatsServiceRole[]; accounts: ServiceAccount[]; tokenSecrets: Secret[] };
  /** What the runtime read in the TLS files (certificatesToCheck), by stem; none where it could not read them. */
  certificates?: Record<string, CertificateFacts | undefined>;
}

/** A Secret's data as text, by key. */
export type SecretText = Record<string, string>;
/** The Secrets the spec names, decoded; undefined where one does not exist. */
export type SecretTexts = Record<string, SecretText | undefined>;
export type Stream = NonNullable<MetaView["streams"]>[number];

export interface Observed {
  view: ClusterView;
  /** The cluster with older manifests' fields folded into today's. */
  cluster: NatsCluster;
  spec: NatsClusterSpec;
  name: string;
  namespace: string;
  size: number;
  /** What the spec's nats-server version takes and serves. */
  version: ServerVersion;
  /** Pods this cluster controls, those being deleted included. */
  owned: Pod[];
  /** Owned pods not being deleted. */
  live: Pod[];
  ready: number;
  secrets: SecretTexts;
  /** The config Secret `<name>` as the API server has it, and its data decoded. */
  configSecret: Secret | null;
  configText: SecretText;
  /** The routes file (config API), when it exists and reads. */
  routesFile?: RoutesConfig;
  routesRevision?: string;
  operatorMode: boolean;
  jetstream: boolean;
  /** The streams the servers hold (JetStream clusters): what renames and scale-downs must not lose. */
  streams: Stream[];
  servers: Record<string, ServerObservation | undefined>;
  /** The name nats-server knows a pod's server by (with -site: "<site>-<namespace>-<pod>"). */
  serverName: (pod: string) => string;
  /** The view's serviceRoles, each token Secret's token decoded. */
  serviceRoles?: { roles: NatsServiceRole[]; accounts: ServiceAccount[]; tokenSecrets: { secret: Secret; token?: string }[] };
}

export const defaultSize = 1;

export function observe(v: ClusterView): Observed {
  const cluster = withLegacyFields(v.cluster);
  const spec = cluster.spec ?? {};
  const name = cluster.metadata.name!;
  const namespace = cluster.metadata.namespace!;
  const owned = v.pods.filter((p) => isOwnedBy(p, cluster));
  const live = owned.filter((p) => !p.metadata?.deletionTimestamp);
  const routes = v.routesConfigMap
    ? loadRoutesConfig({ cluster: name, namespace, configMap: routesConfigMapName(name), key: "routes.json" }, v.routesConfigMap)
    : undefined;
  const jetstream = jetstreamEnabled(cluster);
  const servers = v.servers ?? {};
  return {
    view: v,
    cluster,
    spec,
    name,
    namespace,
    size: spec.size ?? defaultSize,
    version: serverVersion(spec.version || defaultServerVersion),
    owned,
    live,
    ready: live.filter(isPodReady).length,
    secrets: Object.fromEntries(Object.entries(v.secrets).map(([k, s]) => [k, s ? decodeData(s) : undefined])),
    configSecret: v.configSecret,
    configText: v.configSecret ? decodeData(v.configSecret) : {},
    ...(routes && "config" in routes ? { routesFile: routes.config } : {}),
    ...(v.routesConfigMap?.metadata?.resourceVersion ? { routesRevision: v.routesConfigMap.metadata.resourceVersion } : {}),
    operatorMode: spec.configReload?.mode === "operator",
    jetstream,
    streams: jetstream ? streamsSeen(servers) : [],
    servers,
    serverName: (pod) => (v.site ? fleetServerName(v.site, namespace, pod) : pod),
    ...(v.serviceRoles
      ? {
          serviceRoles: {
            ...v.serviceRoles,
            tokenSecrets: v.serviceRoles.tokenSecrets.map((secret) => {
              const token = decodeData(secret)[keyToken];
              return { secret, ...(token ? { token } : {}) };
            }),
          },
        }
      : {}),
  };
}

/** A Secret's values as text; a value that is not base64 (the API server lets none through) is left out. */
export function decodeData(s: Secret): SecretText {
  const out: SecretText = {};
  for (const [k, b64] of Object.entries(s.data ?? {})) {
    try {
      out[k] = decodeBase64(b64);
    } catch {
      // left out
    }
  }
  return out;
}

/** Fields with two spellings, folded into one: `spec.logging` (older manifests) into `spec.natsConfig`, `configReload.mode: sidecar` into `pod.enableConfigReload`. */
function withLegacyFields(c: NatsCluster): NatsCluster {
  let spec = c.spec ?? {};
  const logging = spec.logging;
  if (logging) spec = { ...spec, natsConfig: { debug: logging.debug, trace: logging.trace, ...spec.natsConfig } };
  // configReload.mode sidecar is what pod.enableConfigReload says.
  if (spec.configReload?.mode === "sidecar" && !spec.pod?.enableConfigReload)
    spec = { ...spec, pod: { ...spec.pod, enableConfigReload: true } };
  return spec === c.spec ? c : { ...c, spec };
}
