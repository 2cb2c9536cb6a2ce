import { loadRoutesConfig } from "../config/routes-file.ts";
import type { EventNote } from "../events.ts";
import { isPodReady } from "../pod-state.ts";
import { restartKey } from "../reloader/reloadable.ts";
import { configRevisionAnnotation } from "../reloader/report.ts";
import type {
  Change,
  ConfigMap,
  PersistentVolumeClaim,
  Pod,
  Role,
  RoleBinding,
  Secret,
  ServerReload,
  Service,
  ServiceAccount,
} from "../types.ts";
import { adoptPods, lacksOurEnv } from "./adopt.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { conditionStatus, withConditions } from "./conditions.ts";
import { configApiPassword, keyConfigApiPassword, withConfigApiUser } from "./config-api-user.ts";
import {
  desiredConfigSecret,
  desiredReloaderRbac,
  desiredServices,
  initialRoutesConfigMap,
  serviceDiffers,
  updatedService,
} from "./desired-objects.ts";
import { defaultServerVersion, fleetServerName, podTemplate, templateHash } from "./desired-pod.ts";
import { identityChange, jetstreamEnabled, jetstreamSettings } from "./jetstream.ts";
import { jetstreamGate, leaderLast, metaOfLeader, scaleDownRefusal, stalePeers, streamsSeen } from "./jetstream-gate.ts";
import { planClaims } from "./jetstream-volumes.ts";
import { annotationTemplateHash, configSecretName, isOwnedBy, labelVersion, podIndex, routesConfigMapName } from "./names.ts";
import type { Condition, NatsCluster, NatsClusterStatus } from "./natscluster.ts";
import { type PodPlan, planPods } from "./pods.ts";
import {
  annotationConfigStrategy,
  annotationLastGoodRevision,
  keyLastGood,
  keySystemPassword,
  type RolloutStep,
  rolloutStep,
  type ServerObservation,
  strategyOfPut,
  systemUser,
} from "./reload-rollout.ts";
import { ports, renderServerConfig } from "./server-config.ts";
import { type Secrets, validateCluster } from "./validate.ts";

export type ClusterEvent = EventNote;

/** Everything a reconcile looks at: the cluster and what it owns or names, read from the caches. */
export interface ClusterView {
  cluster: NatsCluster;
  /** Pods labelled with the cluster's name; only those it controls are acted on. */
  pods: Pod[];
  services: Service[];
  /** JetStream servers' claims (jetstream-<pod>). */
  claims?: PersistentVolumeClaim[];
  configSecret: Secret | null;
  routesConfigMap: ConfigMap | null;
  secrets: Secrets;
  /** The reloader's ServiceAccount, Role and RoleBinding `<name>-reloader`, where they exist. */
  reloaderRbac?: { serviceAccount?: ServiceAccount; role?: Role; roleBinding?: RoleBinding };
  /** satellite's own image, the default reloader sidecar. */
  controllerImage: string;
  now: string;
  /** configReload.mode operator: what each server said, by pod name. */
  servers?: Record<string, ServerObservation | undefined>;
  /** Fresh random text from the runtime, for a password the first time one is needed. */
  entropy?: string;
  /** The operator's -site: server names "<site>-<namespace>-<pod>", unique in a fleet. */
  site?: string;
}

export interface ReconcileResult {
  changes: Change[];
  /** The status the cluster should have; the runtime writes it when it differs. */
  status: NatsClusterStatus;
  events: ClusterEvent[];
  /** Look at the cluster again this soon (a config is moving through the servers). */
  requeueAfterMs?: number;
}

export const defaultSize = 1;
/** A rollout waiting this long for JetStream is reported paused (a condition and a Warning Event). */
const jetstreamStallMs = 60_000;
const jetstreamPollMs = 2_000;
/** Not rolling, but a server is not current: how often to look again, for the status. */
const jetstreamRestPollMs = 10_000;

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

  const { problems, clientsAuth: usersAuth } = validateCluster(c, v.secrets);
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

  const operatorMode = spec.configReload?.mode === "operator";
  // The operator's own system-account user: reloads (operator mode), meta peer removals (JetStream).
  const needsSystemUser = operatorMode || jetstreamEnabled(c);
  // The streams the servers hold (JetStream clusters): what renames and scale-downs must not lose.
  const streams = jetstreamEnabled(c) ? streamsSeen(v.servers ?? {}) : [];
  const systemPassword = needsSystemUser ? (decodeOr(v.configSecret?.data?.[keySystemPassword]) ?? v.entropy) : undefined;
  if (needsSystemUser && !systemPassword) problems.push("no password for the system user yet (the operator supplies one)");
  // Clients must authenticate: the operator's own user serves the config API (-config-api).
  const apiPassword = usersAuth
    ? (decodeOr(v.configSecret?.data?.[keyConfigApiPassword]) ?? (v.entropy ? configApiPassword(v.entropy) : undefined))
    : undefined;
  let clientsAuth = usersAuth;
  if (usersAuth && !apiPassword) problems.push("no password for the config API's user yet (the operator supplies one)");
  else if (usersAuth && apiPassword) {
    const withUser = withConfigApiUser(usersAuth, apiPassword);
    if ("problem" in withUser) problems.push(withUser.problem);
    else clientsAuth = withUser.auth;
  }
  const passwords: Record<string, string> = {
    ...(apiPassword ? { [keyConfigApiPassword]: encodeBase64(apiPassword) } : {}),
    ...(systemPassword && !operatorMode ? { [keySystemPassword]: encodeBase64(systemPassword) } : {}),
  };
  let conf: string | undefined;
  if (!problems.length) {
    const systemUserConf = systemPassword ? { systemUser: { user: systemUser, password: systemPassword } } : {};
    const rendered = renderServerConfig({
      cluster: c,
      clusterName,
      routes,
      clientsAuth,
      ...systemUserConf,
      fleetServerNames: Boolean(v.site),
      adoptedPods: owned.some((p) => !p.metadata?.deletionTimestamp && lacksOurEnv(p)),
      jetstream: jetstreamSettings(c).settings,
    });
    if ("error" in rendered) problems.push(`the server config cannot be rendered: ${rendered.error.message}`);
    else {
      const held = streams.length;
      const renamed = identityChange(decodeOr(v.configSecret?.data?.["nats.conf"]), rendered.text, held);
      if (renamed) problems.push(renamed);
      else conf = rendered.text;
    }
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
  const rendered = desiredConfigSecret(c, conf, configRevision);
  const secret = { ...rendered, data: { ...rendered.data, ...passwords } };
  let rollout: RolloutStep | undefined;
  if (operatorMode) {
    const r = operatorReload(c, v, owned, size, conf, configRevision, systemPassword!, passwords);
    rollout = r.rollout;
    if (r.secret) changes.push(r.secret);
  } else if (!v.configSecret) changes.push({ op: "create", kind: "Secret", object: secret });
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

  const restartOnly = operatorMode ? restartKey(rollout?.target ?? conf, spec.version || defaultServerVersion) : undefined;
  const template = podTemplate(c, v.controllerImage, restartOnly, v.site);
  const adoption = adoptPods(owned, templateHash(template), template.spec.containers[0]!.image!, v.now);
  changes.push(...adoption.changes);
  events.push(...adoption.events);
  const serverName = (pod: string) => (v.site ? fleetServerName(v.site, ns, pod) : pod);
  const js = jetstreamEnabled(c) ? jetstreamGate(adoption.pods, v.servers ?? {}, serverName) : undefined;
  const live = adoption.pods.filter((p) => !p.metadata?.deletionTimestamp);
  const above = (pod: string) => (podIndex(name, pod) ?? Number.POSITIVE_INFINITY) > size;
  const removing = live
    .map((p) => p.metadata!.name!)
    .filter(above)
    .map(serverName);
  const meta = js && metaOfLeader(live, v.servers ?? {}, serverName);
  const inGroup = (s: string) => !meta || meta.leader === s || meta.peers.some((p) => p.name === s);
  const leaving = (c.status?.jetstream?.removed ?? []).filter(inGroup);
  const gate = js && {
    wait: js.wait ?? (leaving.length ? `${leaving.join(", ")} to leave the meta group` : undefined),
    order: (pods: Pod[]) => leaderLast(pods, js.status.metaLeader, serverName),
    ...(removing.length ? { refuseScaleDown: scaleDownRefusal(streams, size, removing) } : {}),
  };
  const plan: PodPlan = planPods(c, adoption.pods, size, template, templateHash(template), gate);
  // Servers this operator removed in a scale-down that passed its check, until they left the meta
  // group: only their peers are removed, only their claims deleted (whenScaled: Delete).
  const scaledDown =
    plan.reason === "ScalingDown" ? plan.changes.flatMap((x) => (x.op === "delete" && x.kind === "Pod" ? [serverName(x.name)] : [])) : [];
  const removed = [...new Set([...leaving, ...scaledDown])];
  // A server's claim before its pod, which the scheduler would otherwise hold back.
  changes.push(...planClaims(c, v.claims ?? [], adoption.pods, size, (pod) => removed.includes(serverName(pod))));
  changes.push(...plan.changes);
  const peers = js && stalePeers(live, meta || undefined, serverName, removed);
  if (peers && systemPassword && live.length === adoption.pods.length)
    for (const server of peers.remove)
      changes.push({ op: "remove-peer", namespace: ns, cluster: name, server, connect: systemConnect(c, v, owned, systemPassword) });
  events.push(...plan.events);
  // Reloads wait while pods are created, replaced or removed: those start with the Secret's config.
  if (rollout && !plan.changes.length) {
    changes.push(...rollout.changes);
    events.push(...rollout.events);
  }

  const wantVersion = spec.version || defaultServerVersion;
  const outdatedVersions = adoption.pods
    .filter((p) => p.metadata?.annotations?.[annotationTemplateHash] !== templateHash(template))
    .map((p) => p.metadata?.labels?.[labelVersion]);
  const currentVersion = owned.length ? (outdatedVersions.find((x) => x && x !== wantVersion) ?? wantVersion) : c.status?.currentVersion;
  let progressing: Omit<Condition, "lastTransitionTime"> = plan.reason
    ? { type: "Progressing", status: "True", reason: plan.reason, message: plan.message }
    : { type: "Progressing", status: "False", reason: "Complete", message: `${size} servers at version ${wantVersion}` };
  const waiting = plan.reason === "WaitingForJetStream";
  const waitingSince = waiting ? (c.status?.jetstream?.waitingSince ?? v.now) : undefined;
  if (waitingSince && Date.parse(v.now) - Date.parse(waitingSince) >= jetstreamStallMs) {
    progressing = { type: "Progressing", status: "False", reason: "JetStreamNotCurrent", message: plan.message };
    if (c.status?.conditions?.find((x) => x.type === "Progressing")?.reason !== "JetStreamNotCurrent")
      events.push({ type: "Warning", reason: "JetStreamNotCurrent", message: `rollout paused: ${js!.wait}` });
  }
  if (plan.reason === "ScaleDownRefused") {
    progressing = { type: "Progressing", status: "False", reason: "ScaleDownRefused", message: plan.message };
    const before = c.status?.conditions?.find((x) => x.type === "Progressing");
    if (before?.reason !== "ScaleDownRefused" || before.message !== plan.message)
      events.push({ type: "Warning", reason: "ScaleDownRefused", message: `not scaling down to ${size}: ${plan.message}` });
  }
  const jetstream = js && {
    ...js.status,
    ...(peers?.stale.length ? { stalePeers: peers.stale } : {}),
    ...(removed.length ? { removed } : {}),
    ...(waitingSince ? { waitingSince } : {}),
  };
  // JetStream catching up changes no object the operator watches: look again.
  // A refused scale-down is looked at again too: it ends when the streams change, which no watch sees.
  const refused = plan.reason === "ScaleDownRefused";
  const requeue = [
    rollout?.requeueAfterMs,
    waiting || removed.length ? jetstreamPollMs : js?.wait || refused ? jetstreamRestPollMs : undefined,
  ].filter((x) => x !== undefined);
  return {
    changes,
    status: base({ currentVersion, ...(rollout ? { config: rollout.status } : {}), ...(jetstream ? { jetstream } : {}) }, [
      readyCondition(),
      progressing,
      { type: "Degraded", status: "False", reason: "Valid", message: "spec and referenced secrets are valid" },
      ...(rollout ? [rollout.condition] : []),
    ]),
    events,
    ...(requeue.length && !plan.changes.length ? { requeueAfterMs: Math.min(...(requeue as number[])) } : {}),
  };
}

/**
 * configReload.mode operator: the config Secret (the config to run, the last good one, the system
 * user's password) and the next step of moving the servers to it.
 */
function operatorReload(
  c: NatsCluster,
  v: ClusterView,
  owned: Pod[],
  size: number,
  conf: string,
  configRevision: string | undefined,
  password: string,
  passwords: Record<string, string>,
): { secret?: Change; rollout?: RolloutStep } {
  const have = v.configSecret;
  const data = (target: string, lastGood: string) => ({
    "nats.conf": encodeBase64(target),
    [keyLastGood]: encodeBase64(lastGood),
    [keySystemPassword]: encodeBase64(password),
    ...passwords,
  });
  const annotations = (targetRevision?: string, lastGoodRevision?: string) => ({
    ...(targetRevision ? { [configRevisionAnnotation]: targetRevision } : {}),
    ...(lastGoodRevision ? { [annotationLastGoodRevision]: lastGoodRevision } : {}),
  });
  if (!have) {
    const s = desiredConfigSecret(c, conf, configRevision);
    const object = { ...s, metadata: { ...s.metadata, annotations: annotations(configRevision, configRevision) }, data: data(conf, conf) };
    return { secret: { op: "create", kind: "Secret", object } };
  }
  const rollout = rolloutStep({
    cluster: c,
    pods: owned.filter((p) => !p.metadata?.deletionTimestamp),
    size,
    rendered: conf,
    renderedRevision: configRevision,
    renderedStrategy: strategyOfPut(
      v.routesConfigMap?.metadata?.annotations?.[annotationConfigStrategy],
      v.routesConfigMap?.data?.["routes.json"],
      c.metadata.generation,
    ),
    lastGood: decodeOr(have.data?.[keyLastGood]) ?? decodeOr(have.data?.["nats.conf"]) ?? conf,
    lastGoodRevision: have.metadata?.annotations?.[annotationLastGoodRevision],
    servers: v.servers ?? {},
    ...(v.site ? { site: v.site } : {}),
    version: c.spec?.version || defaultServerVersion,
    connect: systemConnect(c, v, owned, password),
    now: v.now,
  });
  const wantData = data(rollout.target, rollout.lastGood);
  const wantAnnotations = { ...have.metadata?.annotations, ...annotations(rollout.targetRevision, rollout.lastGoodRevision) };
  const same =
    Object.entries(wantData).every(([k, val]) => have.data?.[k] === val) &&
    Object.entries(wantAnnotations).every(([k, val]) => have.metadata?.annotations?.[k] === val);
  if (same) return { rollout };
  const object = { ...have, metadata: { ...have.metadata, annotations: wantAnnotations }, data: { ...have.data, ...wantData } };
  return { secret: { op: "replace", kind: "Secret", object }, rollout: { ...rollout, requeueAfterMs: rollout.requeueAfterMs ?? 0 } };
}

/** How the operator reaches the cluster's servers as its system-account user. */
function systemConnect(c: NatsCluster, v: ClusterView, owned: Pod[], password: string): ServerReload["connect"] {
  const running = owned.filter((p) => !p.metadata?.deletionTimestamp && p.status?.podIP);
  const tlsCa = c.spec?.tls?.serverSecret
    ? v.secrets[c.spec.tls.serverSecret]?.data?.[c.spec.tls.serverSecretCAFileName ?? "ca.pem"]
    : undefined;
  return {
    urls: running.map((p) => `${tlsCa ? "tls" : "nats"}://${p.status!.podIP}:${ports.client}`),
    user: systemUser,
    password,
    ...(tlsCa ? { ca: decodeOr(tlsCa) } : {}),
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
