// configReload.mode operator: the next step of getting a new nats.conf into every running server,
// without a sidecar. The config Secret holds the config the servers should run (`nats.conf`) and
// the last one every server ran (`last-good.conf`). For each server to move: the pod gets an
// annotation with the digest it should reach (a pod update makes the kubelet refresh the Secret
// volume at once instead of within its sync period), the server is reloaded over NATS as the
// system user, and its /varz config_digest confirms the new file. A config nats-server refuses,
// or one that leaves the canary unhealthy, is recorded as refused: the Secret goes back to the
// last good config, which every server that left it reloads again.
import type { EventNote } from "../events.ts";
import { configDigest } from "../reloader/digest.ts";
import { restartKey, routeCredentialsChanged } from "../reloader/reloadable.ts";
import { sha256Hex } from "../reloader/sha256.ts";
import type { Change, Pod, ServerReload } from "../types.ts";
import { zoneLabel, zoneTagEnv } from "./jetstream.ts";
import { fleetServerName, podIndex } from "./names.ts";
import type { Condition, ConfigStatus, NatsCluster, ServerConfigState } from "./natscluster.ts";
import { convergedStep, type Rollout, type RolloutTarget, refuse, step } from "./reload-rollout-step.ts";

export const systemUser = "satellite";
export const annotationConfigDigest = "nats.io/config-digest";
export const annotationNudge = "nats.io/config-nudge";
export const annotationLastGoodRevision = "nats.io/last-good-revision";
/**
 * On the routes file: the strategy the config.put that wrote it asked for, for that change only:
 * while the routes file and the NatsCluster's spec (its generation) are still as the put left them.
 */
export const annotationConfigStrategy = "nats.io/config-strategy";

export function putStrategy(strategy: "all" | "canary", routesText: string, generation: number | undefined): string {
  return JSON.stringify({ strategy, routes: configHash(routesText), generation: generation ?? null });
}

/** The put's strategy, if the routes file and the spec are still as that put left them. */
export function strategyOfPut(annotation: string | undefined, routesText: string | undefined, generation: number | undefined) {
  try {
    const a = JSON.parse(annotation ?? "null") as { strategy?: unknown; routes?: unknown; generation?: unknown } | null;
    const current = a && a.routes === configHash(routesText ?? "") && a.generation === (generation ?? null);
    return current && (a.strategy === "all" || a.strategy === "canary") ? a.strategy : undefined;
  } catch {
    return undefined;
  }
}
export const keyLastGood = "last-good.conf";
export const keySystemPassword = "system-password";
const defaultCanaryTimeoutSeconds = 15;
/** How long the canary runs a reloaded config before it is judged healthy or not. */
const canarySettleMs = 2_000;
/**
 * The kubelet refreshes a nudged pod's volume in 129 ms at the median, within a second nearly
 * always (bench/RESULTS.md): the first reload waits this long after the nudge, and one that found
 * the old file (or got no answer) is tried again as often, a reload of an unchanged file being
 * harmless; the pod is nudged again if the file has not come after `renudgeMs`.
 */
const retryMs = 150;
const renudgeMs = 3_000;

/** What the runtime saw of one server: its /varz, /healthz and /routez, and the operator's last reload of it. */
export interface ServerObservation {
  serverId: string;
  digest?: string;
  healthy: boolean;
  /** Why /healthz failed, in nats-server's words. */
  healthError?: string;
  /** JetStream clusters: the meta group as this server sees it (/jsz). */
  jetstream?: MetaView;
  /** Distinct servers it has routes to. */
  routes: number;
  /** Leafnode connections (its links to a ground, for one). */
  leafnodes: number;
  /** refused: nats-server's own error reply; failed: no answer (the request is tried again). */
  lastReload?: { digest: string; outcome: "reloaded" | "refused" | "failed"; error?: string; at: string };
}

export interface MetaView {
  /** JetStream runs on this server (its /jsz is not "disabled"). */
  enabled: boolean;
  leader?: string;
  /** The other peers of the meta group (the leader's view is the one that knows their lag). */
  peers: { name: string; current: boolean; lag?: number; offline?: boolean }[];
  /** The streams with a replica on this server: their replica count and the servers holding them. */
  streams?: { account: string; name: string; replicas: number; servers: string[] }[];
}

export interface RolloutInput {
  cluster: NatsCluster;
  /** The cluster's own pods, not being deleted. */
  pods: Pod[];
  size: number;
  /** nats.conf as the spec and the routes file make it now, and the routes file's revision. */
  rendered: string;
  renderedRevision?: string;
  /** The strategy the routes file's last put asked for, if any. */
  renderedStrategy?: "all" | "canary";
  lastGood: string;
  lastGoodRevision?: string;
  /** By pod name; only servers the runtime could reach. */
  servers: Record<string, ServerObservation | undefined>;
  /** The operator's -site: server names are then "<site>-<namespace>-<pod>". */
  site?: string;
  /** nats-server's version: what it can reload. */
  version: string;
  /** How the runtime reaches the servers' system account. */
  connect: ServerReload["connect"];
  now: string;
}

export interface RolloutStep {
  /** What `nats.conf` should hold, and its revision. */
  target: string;
  targetRevision?: string;
  /** What `last-good.conf` should hold, and its revision. */
  lastGood: string;
  lastGoodRevision?: string;
  /** Pod nudges and server reloads. */
  changes: Change[];
  status: ConfigStatus;
  condition: Omit<Condition, "lastTransitionTime">;
  events: EventNote[];
  /** Look again this soon while servers are moving. */
  requeueAfterMs?: number;
}

export const configHash = (text: string) => sha256Hex(text).slice(0, 16);

/**
 * The digest `pod` reports for config `text`; its env as the pod has it (SERVER_NAME in a fleet,
 * HOSTNAME on adopted pods, its zone tag from its node's zone label).
 */
const digestFor = (text: string, pod: string, serverName: string, zone: string) => {
  const env = { POD_NAME: pod, HOSTNAME: pod, SERVER_NAME: serverName, [zoneTagEnv]: `zone:${zone}` };
  const d = configDigest({ "nats.conf": text }, "nats.conf", env);
  return "digest" in d ? d.digest : undefined;
};

export function rolloutStep(i: RolloutInput): RolloutStep {
  const r = rolloutOf(i);
  if (!r.pending.length) return convergedStep(r);
  const refusal = serverRefusal(r);
  if (refusal) return refusal;

  // Only a restart applies this change: the pod template carries restartKey, so the pods are
  // replaced one at a time and start with the new config; reloading would be refused.
  if (restartKey(i.lastGood, i.version) !== restartKey(r.target, i.version)) {
    for (const s of r.servers) if (s.state !== "current") s.error = "this change needs a restart: the pods are replaced one at a time";
    return step(r, { requeueAfterMs: 2_000 });
  }

  const work = canaryWork(r);
  if (!Array.isArray(work)) return work;
  const changes = reloadChanges(r, work);
  // A reload is answered once done: look at once whether the server runs the new config.
  return step(r, { changes, requeueAfterMs: changes.some((c) => c.op === "reload") ? 0 : retryMs });
}

/** The config to roll out (the rendered one, or the last good one if the rendered one was refused), and each server's state with it. */
function rolloutOf(i: RolloutInput): Rollout {
  const c = i.cluster;
  const name = c.metadata.name!;
  const before = c.status?.config;
  const renderedHash = configHash(i.rendered);
  const refused = before?.refused?.hash === renderedHash ? before.refused : undefined;
  const forward = !refused;
  const target = forward ? i.rendered : i.lastGood;
  const zones = new Map(i.pods.map((p) => [p.metadata?.name, p.metadata?.labels?.[zoneLabel] ?? ""]));
  const t: RolloutTarget = {
    i,
    name,
    renderedHash,
    refused,
    forward,
    target,
    targetRevision: forward ? i.renderedRevision : i.lastGoodRevision,
    targetHash: configHash(target),
    lastGoodHash: configHash(i.lastGood),
    pods: [...i.pods].sort((a, b) => (podIndex(name, a.metadata?.name) ?? 0) - (podIndex(name, b.metadata?.name) ?? 0)),
    nowMs: Date.parse(i.now),
    digestOf: (text: string, pod: string) =>
      digestFor(text, pod, i.site ? fleetServerName(i.site, c.metadata.namespace!, pod) : pod, zones.get(pod) ?? ""),
  };
  return { ...t, ...serverStates(t), reachable: t.pods.filter((p) => i.servers[p.metadata!.name!]) };
}

/** Each server's state with the target, and the reachable ones still to move. */
function serverStates(t: RolloutTarget): { servers: ServerConfigState[]; pending: Pod[] } {
  const { i, target, targetHash, targetRevision, digestOf } = t;
  const servers: ServerConfigState[] = [];
  const pending: Pod[] = [];
  for (const p of t.pods) {
    const pod = p.metadata!.name!;
    const o = i.servers[pod];
    const want = digestOf(target, pod);
    if (!o) {
      servers.push({ pod, state: "unknown" });
      continue;
    }
    if (o.digest && o.digest === want) {
      servers.push({ pod, serverId: o.serverId, hash: targetHash, revision: targetRevision, state: "current" });
      continue;
    }
    const onLastGood = o.digest && o.digest === digestOf(i.lastGood, pod);
    const tried = o.lastReload?.digest === want ? o.lastReload : undefined;
    servers.push({
      pod,
      serverId: o.serverId,
      ...(onLastGood ? { hash: t.lastGoodHash, revision: i.lastGoodRevision } : {}),
      state: tried ? "reloading" : "outdated",
      ...(tried?.outcome === "reloaded"
        ? { error: "reloaded, but the kubelet has not refreshed the config volume yet: trying again" }
        : {}),
      ...(tried?.outcome === "failed" ? { error: `no answer to the reload: ${tried.error}` } : {}),
    });
    pending.push(p);
  }
  return { servers, pending };
}

/** nats-server's own refusal of the config, from a reload of it. */
function serverRefusal(r: Rollout): RolloutStep | undefined {
  for (const p of r.pending) {
    const pod = p.metadata!.name!;
    const last = r.i.servers[pod]?.lastReload;
    if (r.forward && last?.outcome === "refused" && last.digest === r.digestOf(r.target, pod))
      return refuse(r, `${pod}: ${last.error}`, "ConfigRefused");
  }
  return undefined;
}

/**
 * The servers to move now: all pending ones, or under the canary strategy the canary alone until it
 * runs the config healthily. A step instead while the canary settles, or its refusal once it timed out.
 */
function canaryWork(r: Rollout): Pod[] | RolloutStep {
  const { i, pending, reachable, pods, nowMs } = r;
  const strategy = i.renderedStrategy ?? i.cluster.spec?.configReload?.strategy ?? "all";
  if (strategy !== "canary" || !r.forward || routeCredentialsChanged(i.lastGood, r.target)) return pending;
  const canary = reachable[0];
  if (!canary) return pending;
  if (pending.includes(canary)) return [canary];
  const o = i.servers[canary.metadata!.name!]!;
  const peers = Math.max(0, Math.min(i.size, pods.length) - 1);
  // As linked as the servers still on the old config: a lost ground link is a broken canary.
  const others = reachable.slice(1).map((p) => i.servers[p.metadata!.name!]!.leafnodes);
  const leafnodes = others.length ? Math.min(...others) : 0;
  // Loaded by a reload of ours: judged once it has run the config for a moment (a link the new
  // config breaks takes nats-server a little while to close). Started with it: judged now.
  const lr = o.lastReload;
  const loadedAt = lr && lr.digest === o.digest && lr.outcome === "reloaded" ? Date.parse(lr.at) : undefined;
  const settling = loadedAt !== undefined && nowMs - loadedAt < canarySettleMs;
  if (!settling && o.healthy && o.routes >= peers && o.leafnodes >= leafnodes) return pending;
  const since = loadedAt ?? (o.lastReload ? Date.parse(o.lastReload.at) : nowMs);
  const timeout = (i.cluster.spec?.configReload?.canaryTimeoutSeconds ?? defaultCanaryTimeoutSeconds) * 1000;
  const why = `${o.healthy ? "/healthz ok" : "/healthz failing"}, routes to ${o.routes} of ${peers} servers, ${o.leafnodes} of ${leafnodes} leafnode links`;
  if (!settling && nowMs - since >= timeout) {
    return refuse(
      r,
      `the canary ${canary.metadata!.name} loaded the config but was not healthy within ${timeout / 1000} s (${why})`,
      "CanaryUnhealthy",
    );
  }
  return step(r, { requeueAfterMs: retryMs });
}

/** For each server of `work`: a nudge of its pod until the kubelet has the file, then its reload. */
function reloadChanges(r: Rollout, work: Pod[]): Change[] {
  const { i, nowMs } = r;
  const changes: Change[] = [];
  for (const p of work) {
    const pod = p.metadata!.name!;
    const want = r.digestOf(r.target, pod);
    const o = i.servers[pod];
    if (!want || !o) continue;
    const a = p.metadata?.annotations ?? {};
    const nudgedAt = Date.parse(a[annotationNudge] ?? "") || 0;
    const last = o.lastReload?.digest === want ? o.lastReload : undefined;
    if (a[annotationConfigDigest] !== want || nowMs - nudgedAt >= renudgeMs) {
      const annotations = { ...a, [annotationConfigDigest]: want, [annotationNudge]: i.now };
      changes.push({ op: "replace", kind: "Pod", object: { ...p, metadata: { ...p.metadata, annotations } } });
      if (a[annotationConfigDigest] !== want) continue;
    }
    if (nowMs - nudgedAt >= retryMs && (!last || nowMs - Date.parse(last.at) >= retryMs)) {
      changes.push({
        op: "reload",
        namespace: p.metadata!.namespace!,
        cluster: r.name,
        pod,
        serverId: o.serverId,
        digest: want,
        connect: i.connect,
      });
    }
  }
  return changes;
}
