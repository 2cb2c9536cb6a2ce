// Phase 9, the status: conditions, the Events that report a state (not an action), and when to
// look again — all from what the earlier phases found, in this one place.
import type { EventNote } from "../../events.ts";
import { conditionStatus, withConditions } from "../conditions.ts";
import { defaultServerVersion } from "../desired-pod.ts";
import { annotationTemplateHash, labelVersion } from "../names.ts";
import type { Condition, NatsClusterStatus } from "../natscluster.ts";
import type { RolloutStep } from "../reload-rollout.ts";
import type { Observed } from "./observe.ts";
import type { ServerPods } from "./server-pods.ts";

type NewCondition = Omit<Condition, "lastTransitionTime">;

export interface StatusOutcome {
  status: NatsClusterStatus;
  events: EventNote[];
  requeueAfterMs?: number;
}

/** A rollout waiting this long for JetStream is reported paused (a condition and a Warning Event). */
const jetstreamStallMs = 60_000;
const jetstreamPollMs = 2_000;
/** Not rolling, but a server is not current: how often to look again, for the status. */
const jetstreamRestPollMs = 10_000;

const valid: NewCondition = { type: "Degraded", status: "False", reason: "Valid", message: "spec and referenced secrets are valid" };

function statusOf(seen: Observed, conditions: NewCondition[], extra: Partial<NatsClusterStatus> = {}): NatsClusterStatus {
  const before = seen.cluster.status;
  const generation = seen.cluster.metadata.generation;
  return {
    size: seen.live.length,
    readyReplicas: seen.ready,
    currentVersion: before?.currentVersion,
    observedGeneration: generation,
    ...extra,
    conditions: withConditions(before?.conditions, conditions, seen.view.now, generation),
  };
}

function readyCondition(seen: Observed): NewCondition {
  const message = `${seen.ready}/${seen.size} servers ready`;
  return seen.ready >= seen.size && seen.owned.length >= seen.size
    ? { type: "Ready", status: "True", reason: "ServersReady", message }
    : { type: "Ready", status: "False", reason: "ServersNotReady", message };
}

const degradedCondition = (problems: string[]): NewCondition =>
  problems.length ? { type: "Degraded", status: "True", reason: "InvalidSpec", message: problems.join("; ") } : valid;

const stopped = (reason: string, message?: string): NewCondition => ({ type: "Progressing", status: "False", reason, message });

const before = (seen: Observed, type: string) => seen.cluster.status?.conditions?.find((x) => x.type === type);

/** spec.paused: nothing is changed; the status says so, and what is wrong with the spec. */
export function pausedStatus(seen: Observed, problems: string[]): StatusOutcome {
  const progressing = stopped("Paused", "spec.paused is true: no changes are made until it is cleared");
  const was =
    conditionStatus(seen.cluster.status?.conditions, "Progressing") === "False" && before(seen, "Progressing")?.reason === "Paused";
  return {
    status: statusOf(seen, [readyCondition(seen), progressing, degradedCondition(problems)]),
    events: was ? [] : [{ type: "Normal", reason: "Paused", message: "reconciling is paused (spec.paused)" }],
  };
}

/** A spec (or a Secret it names) that cannot be served: Degraded says why; nothing is changed. */
export function invalidStatus(seen: Observed, problems: string[]): StatusOutcome {
  const degraded = degradedCondition(problems);
  const progressing = stopped("InvalidSpec", "fix the problems in the Degraded condition");
  const wasSame =
    conditionStatus(seen.cluster.status?.conditions, "Degraded") === "True" && before(seen, "Degraded")?.message === degraded.message;
  return {
    status: statusOf(seen, [readyCondition(seen), progressing, degraded]),
    events: wasSame ? [] : [{ type: "Warning", reason: "InvalidSpec", message: degraded.message! }],
  };
}

/** A valid spec being served: where the pods and the config rollout stand. */
export function servingStatus(seen: Observed, pods: ServerPods, rollout: RolloutStep | undefined): StatusOutcome {
  const { plan } = pods;
  const wantVersion = seen.spec.version || defaultServerVersion;
  const progressing = progressingOf(seen, pods, wantVersion);
  const js = pods.jetstream;
  const jetstream = js && {
    ...js.status,
    ...(js.stalePeers.length ? { stalePeers: js.stalePeers } : {}),
    ...(js.removed.length ? { removed: js.removed } : {}),
    ...(progressing.waitingSince ? { waitingSince: progressing.waitingSince } : {}),
  };
  const extra = {
    currentVersion: currentVersion(seen, pods, wantVersion),
    ...(rollout ? { config: rollout.status } : {}),
    ...(jetstream ? { jetstream } : {}),
  };
  const conditions = [readyCondition(seen), progressing.condition, valid, ...(rollout ? [rollout.condition] : [])];
  // JetStream catching up changes no object the operator watches: look again.
  // A refused scale-down is looked at again too: it ends when the streams change, which no watch sees.
  const refused = plan.reason === "ScaleDownRefused";
  const waiting = Boolean(progressing.waitingSince);
  const requeue = [
    rollout?.requeueAfterMs,
    waiting || js?.removed.length ? jetstreamPollMs : js?.wait || refused ? jetstreamRestPollMs : undefined,
  ].filter((x) => x !== undefined);
  return {
    status: statusOf(seen, conditions, extra),
    events: progressing.events,
    ...(requeue.length && !plan.changes.length ? { requeueAfterMs: Math.min(...requeue) } : {}),
  };
}

/** The version the servers run: an outdated pod's own, while one is left; else the spec's. */
function currentVersion(seen: Observed, pods: ServerPods, wantVersion: string): string | undefined {
  if (!seen.owned.length) return seen.cluster.status?.currentVersion;
  const outdated = pods.pods
    .filter((p) => p.metadata?.annotations?.[annotationTemplateHash] !== pods.hash)
    .map((p) => p.metadata?.labels?.[labelVersion]);
  return outdated.find((x) => x && x !== wantVersion) ?? wantVersion;
}

function progressingOf(seen: Observed, pods: ServerPods, wantVersion: string) {
  const { plan } = pods;
  const events: EventNote[] = [];
  let condition: NewCondition = plan.reason
    ? { type: "Progressing", status: "True", reason: plan.reason, message: plan.message }
    : stopped("Complete", `${seen.size} servers at version ${wantVersion}`);
  const waitingSince = plan.reason === "WaitingForJetStream" ? (seen.cluster.status?.jetstream?.waitingSince ?? seen.view.now) : undefined;
  if (waitingSince && Date.parse(seen.view.now) - Date.parse(waitingSince) >= jetstreamStallMs) {
    condition = stopped("JetStreamNotCurrent", plan.message);
    if (before(seen, "Progressing")?.reason !== "JetStreamNotCurrent")
      events.push({ type: "Warning", reason: "JetStreamNotCurrent", message: `rollout paused: ${pods.jetstream!.wait}` });
  }
  if (plan.reason === "ScaleDownRefused") {
    condition = stopped("ScaleDownRefused", plan.message);
    const was = before(seen, "Progressing");
    if (was?.reason !== "ScaleDownRefused" || was.message !== plan.message)
      events.push({ type: "Warning", reason: "ScaleDownRefused", message: `not scaling down to ${seen.size}: ${plan.message}` });
  }
  return { condition, events, waitingSince };
}
