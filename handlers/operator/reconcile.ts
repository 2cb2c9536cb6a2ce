import { loadRoutesConfig } from "../config/routes-file.ts";
import type { EventNote } from "../events.ts";
import { isPodReady } from "../pod-state.ts";
import { configRevisionAnnotation } from "../reloader/report.ts";
import type { Change, ConfigMap, Pod, Role, RoleBinding, Secret, Service, ServiceAccount } from "../types.ts";
import { decodeBase64 } from "./base64.ts";
import { conditionStatus, withConditions } from "./conditions.ts";
import {
  desiredConfigSecret,
  desiredReloaderRbac,
  desiredServices,
  initialRoutesConfigMap,
  serviceDiffers,
  updatedService,
} from "./desired-objects.ts";
import { defaultServerVersion, podTemplate, templateHash } from "./desired-pod.ts";
import { annotationTemplateHash, configSecretName, isOwnedBy, labelVersion, routesConfigMapName } from "./names.ts";
import type { Condition, NatsCluster, NatsClusterStatus } from "./natscluster.ts";
import { type PodPlan, planPods } from "./pods.ts";
import { ports, renderServerConfig } from "./server-config.ts";
import { type Secrets, validateCluster } from "./validate.ts";

export type ClusterEvent = EventNote;

/** Everything a reconcile looks at: the cluster and what it owns or names, read from the caches. */
export interface ClusterView {
  cluster: NatsCluster;
  /** Pods labelled with the cluster's name; only those it controls are acted on. */
  pods: Pod[];
  services: Service[];
  configSecret: Secret | null;
  routesConfigMap: ConfigMap | null;
  secrets: Secrets;
  /** The reloader's ServiceAccount, Role and RoleBinding `<name>-reloader`, where they exist. */
  reloaderRbac?: { serviceAccount?: ServiceAccount; role?: Role; roleBinding?: RoleBinding };
  /** satellite's own image, the default reloader sidecar. */
  controllerImage: string;
  now: string;
}

export interface ReconcileResult {
  changes: Change[];
  /** The status the cluster should have; the runtime writes it when it differs. */
  status: NatsClusterStatus;
  events: ClusterEvent[];
}

export const defaultSize = 1;

/**
 * cluster.create / cluster.update: from the whole observed state, the next changes that move
 * the cluster toward its spec. Running it twice on the same view gives the same result.
 */
export function reconcileCluster(v: ClusterView): ReconcileResult {
  const c = withLegacyFields(v.cluster);
  const spec = c.spec ?? {};
  const generation = c.metadata.generation;
  if (c.metadata.deletionTimestamp) return { changes: [], status: c.status ?? {}, events: [] };
  const size = spec.size ?? defaultSize;
  const owned = v.pods.filter((p) => isOwnedBy(p, c));
  const readyCount = owned.filter((p) => isPodReady(p) && !p.metadata?.deletionTimestamp).length;
  const base = (extra: Partial<NatsClusterStatus>, conditions: Omit<Condition, "lastTransitionTime">[]): NatsClusterStatus => ({
    size: owned.filter((p) => !p.metadata?.deletionTimestamp).length,
    readyReplicas: readyCount,
    currentVersion: c.status?.currentVersion,
    observedGeneration: generation,
    ...extra,
    conditions: withConditions(c.status?.conditions, conditions, v.now, generation),
  });
  const readyCondition = (): Omit<Condition, "lastTransitionTime"> =>
    readyCount >= size && owned.length >= size
      ? { type: "Ready", status: "True", reason: "ServersReady", message: `${readyCount}/${size} servers ready` }
      : { type: "Ready", status: "False", reason: "ServersNotReady", message: `${readyCount}/${size} servers ready` };

  const { problems, clientsAuth } = validateCluster(c, v.secrets);
  if (spec.paused) {
    const degraded = problemCondition(problems);
    return {
      changes: [],
      status: base({}, [
        readyCondition(),
        { type: "Progressing", status: "False", reason: "Paused", message: "spec.paused is true: no changes are made until it is cleared" },
        degraded,
      ]),
      events:
        conditionStatus(c.status?.conditions, "Progressing") === "False" &&
        c.status?.conditions?.find((x) => x.type === "Progressing")?.reason === "Paused"
          ? []
          : [{ type: "Normal", reason: "Paused", message: "reconciling is paused (spec.paused)" }],
    };
  }

  const name = c.metadata.name!;
  const ns = c.metadata.namespace!;
  const routesFile = v.routesConfigMap
    ? loadRoutesConfig({ cluster: name, namespace: ns, configMap: routesConfigMapName(name), key: "routes.json" }, v.routesConfigMap)
    : undefined;
  const fromApi = routesFile && "config" in routesFile ? routesFile.config : undefined;
  const clusterName = fromApi?.name || name;
  const podRoutes = Array.from({ length: Math.max(0, size) }, (_, i) => `nats://${name}-${i + 1}.${name}-mgmt.${ns}.svc:${ports.cluster}`);
  const extra = (spec.extraRoutes ?? [])
    .map((r) => r.route || (r.cluster ? `nats://${r.cluster}-mgmt.${ns}.svc:${ports.cluster}` : ""))
    .filter(Boolean);
  const routes = [...new Set([...podRoutes, ...extra, ...(fromApi?.routes ?? [])])];

  let conf: string | undefined;
  if (!problems.length) {
    const rendered = renderServerConfig({ cluster: c, clusterName, routes, clientsAuth });
    if ("error" in rendered) problems.push(`the server config cannot be rendered: ${rendered.error.message}`);
    else conf = rendered.text;
  }
  const foreign = (kind: string, obj: Parameters<typeof isOwnedBy>[0] | null | undefined, objName: string) => {
    if (obj && !isOwnedBy(obj, c))
      problems.push(`${kind} "${objName}" already exists and is not controlled by this NatsCluster: rename or delete it`);
  };
  foreign("secret", v.configSecret, configSecretName(name));
  const wantServices = desiredServices(c);
  for (const s of wantServices)
    foreign(
      "service",
      v.services.find((x) => x.metadata?.name === s.metadata?.name),
      s.metadata!.name!,
    );

  if (problems.length || conf === undefined) {
    const degraded = problemCondition(problems);
    const wasSame =
      conditionStatus(c.status?.conditions, "Degraded") === "True" &&
      c.status?.conditions?.find((x) => x.type === "Degraded")?.message === degraded.message;
    return {
      changes: [],
      status: base({}, [
        readyCondition(),
        { type: "Progressing", status: "False", reason: "InvalidSpec", message: "fix the problems in the Degraded condition" },
        degraded,
      ]),
      events: wasSame ? [] : [{ type: "Warning", reason: "InvalidSpec", message: degraded.message! }],
    };
  }

  const changes: Change[] = [];
  const events: ClusterEvent[] = [];
  if (!v.routesConfigMap) changes.push({ op: "create", kind: "ConfigMap", object: initialRoutesConfigMap(c) });
  const configRevision = v.routesConfigMap?.metadata?.resourceVersion;
  const secret = desiredConfigSecret(c, conf, configRevision);
  if (!v.configSecret) changes.push({ op: "create", kind: "Secret", object: secret });
  else {
    const confChanged = decodeOr(v.configSecret.data?.["nats.conf"]) !== conf;
    if (confChanged || v.configSecret.metadata?.annotations?.[configRevisionAnnotation] !== configRevision) {
      const annotations = { ...v.configSecret.metadata?.annotations, ...secret.metadata?.annotations };
      changes.push({
        op: "replace",
        kind: "Secret",
        object: {
          ...v.configSecret,
          metadata: { ...v.configSecret.metadata, annotations },
          data: { ...v.configSecret.data, ...secret.data },
        },
      });
    }
    if (confChanged)
      events.push({
        type: "Normal",
        reason: "ConfigUpdated",
        message: `server config changed (${routes.length} routes, cluster name ${clusterName}); servers reload it`,
      });
  }
  if (spec.pod?.enableConfigReload) {
    const want = desiredReloaderRbac(c);
    const have = v.reloaderRbac ?? {};
    if (!have.serviceAccount) changes.push({ op: "create", kind: "ServiceAccount", object: want.serviceAccount });
    if (!have.role) changes.push({ op: "create", kind: "Role", object: want.role });
    else if (JSON.stringify(have.role.rules) !== JSON.stringify(want.role.rules))
      changes.push({ op: "replace", kind: "Role", object: { ...have.role, rules: want.role.rules } });
    if (!have.roleBinding) changes.push({ op: "create", kind: "RoleBinding", object: want.roleBinding });
  }
  for (const want of wantServices) {
    const live = v.services.find((x) => x.metadata?.name === want.metadata?.name);
    if (!live) changes.push({ op: "create", kind: "Service", object: want });
    else if (serviceDiffers(live, want)) changes.push({ op: "replace", kind: "Service", object: updatedService(live, want) });
  }

  const template = podTemplate(c, v.controllerImage);
  const plan: PodPlan = planPods(c, owned, size, template, templateHash(template));
  changes.push(...plan.changes);
  events.push(...plan.events);

  const wantVersion = spec.version || defaultServerVersion;
  const outdatedVersions = owned
    .filter((p) => p.metadata?.annotations?.[annotationTemplateHash] !== templateHash(template))
    .map((p) => p.metadata?.labels?.[labelVersion]);
  const currentVersion = owned.length ? (outdatedVersions.find((x) => x && x !== wantVersion) ?? wantVersion) : c.status?.currentVersion;
  const progressing: Omit<Condition, "lastTransitionTime"> = plan.reason
    ? { type: "Progressing", status: "True", reason: plan.reason, message: plan.message }
    : { type: "Progressing", status: "False", reason: "Complete", message: `${size} servers at version ${wantVersion}` };
  return {
    changes,
    status: base({ currentVersion }, [
      readyCondition(),
      progressing,
      { type: "Degraded", status: "False", reason: "Valid", message: "spec and referenced secrets are valid" },
    ]),
    events,
  };
}

/** `spec.logging` (older manifests) folded into `spec.natsConfig`. */
function withLegacyFields(c: NatsCluster): NatsCluster {
  const logging = c.spec?.logging;
  if (!logging) return c;
  const natsConfig = { debug: logging.debug, trace: logging.trace, ...c.spec?.natsConfig };
  return { ...c, spec: { ...c.spec, natsConfig } };
}

function problemCondition(problems: string[]): Omit<Condition, "lastTransitionTime"> {
  return problems.length
    ? { type: "Degraded", status: "True", reason: "InvalidSpec", message: problems.join("; ") }
    : { type: "Degraded", status: "False", reason: "Valid", message: "spec and referenced secrets are valid" };
}

function decodeOr(b64: string | undefined): string | undefined {
  try {
    return b64 === undefined ? undefined : decodeBase64(b64);
  } catch {
    return undefined;
  }
}
