import { isPodFinished as isDone, isPodReady as isReady } from "../pod-state.ts";
import type { Change, Pod } from "../types.ts";
import { desiredPod, type PodTemplate } from "./desired-pod.ts";
import { annotationTemplateHash, labelVersion, podIndex } from "./names.ts";
import type { NatsCluster } from "./natscluster.ts";
import type { ClusterEvent } from "./reconcile.ts";

export interface PodPlan {
  changes: Change[];
  events: ClusterEvent[];
  /** Why the cluster is still progressing (undefined: converged). */
  reason?: string;
  message?: string;
}

/**
 * pod.failed, scale and rollout in one pass over the cluster's pods `<name>-1 … <name>-<size>`:
 * failed pods are deleted (and come back under the same name once gone); missing pods are all
 * created at once; extra pods go one at a time, highest index first; outdated pods are replaced
 * one at a time, highest index first, only while every other pod is Ready. Never waits: the
 * next pod event brings the cluster back.
 */
/** JetStream clusters: why no server may be stopped now, and the order to stop them in. */
export interface PodGate {
  wait?: string;
  order(pods: Pod[]): Pod[];
  /** Why removing the servers above size would lose data. */
  refuseScaleDown?: string;
}

const waitingForJetStream = (why: string): Pick<PodPlan, "reason" | "message"> => ({
  reason: "WaitingForJetStream",
  message: `no server is stopped until JetStream is current: ${why}`,
});

export function planPods(c: NatsCluster, owned: Pod[], size: number, template: PodTemplate, hash: string, gate?: PodGate): PodPlan {
  const name = c.metadata.name!;
  const ns = c.metadata.namespace!;
  const del = (p: Pod): Change => ({ op: "delete", kind: "Pod", namespace: ns, name: p.metadata!.name!, uid: p.metadata?.uid });
  const changes: Change[] = [];
  const events: ClusterEvent[] = [];

  const terminating = owned.filter((p) => p.metadata?.deletionTimestamp);
  const failed = owned.filter((p) => !p.metadata?.deletionTimestamp && isDone(p));
  const live = owned.filter((p) => !p.metadata?.deletionTimestamp && !isDone(p));
  for (const p of failed) {
    changes.push(del(p));
    const why = p.status?.reason ? ` (${p.status.reason}${p.status.message ? `: ${p.status.message}` : ""})` : "";
    events.push({ type: "Warning", reason: "PodFailed", message: `pod ${p.metadata!.name} is ${p.status!.phase}${why}; replacing it` });
  }

  const taken = new Set(owned.map((p) => p.metadata?.name));
  const missing: number[] = [];
  for (let i = 1; i <= size; i++) if (!taken.has(`${name}-${i}`)) missing.push(i);
  for (const i of missing) changes.push({ op: "create", kind: "Pod", object: desiredPod(c, i, template) });
  if (missing.length) {
    events.push({ type: "Normal", reason: "CreatingPods", message: `creating ${missing.map((i) => `${name}-${i}`).join(", ")}` });
    return { changes, events, reason: "CreatingPods", message: `creating ${missing.length} of ${size} servers` };
  }
  if (failed.length) return { changes, events, reason: "ReplacingFailedPods", message: `replacing ${failed.length} failed servers` };

  const excess = live
    .filter((p) => {
      const i = podIndex(name, p.metadata?.name);
      return i === undefined || i > size;
    })
    .sort((a, b) => (podIndex(name, b.metadata?.name) ?? Infinity) - (podIndex(name, a.metadata?.name) ?? Infinity));
  if (excess.length) {
    if (gate?.refuseScaleDown) return { changes, events, reason: "ScaleDownRefused", message: gate.refuseScaleDown };
    if (gate?.wait && !terminating.length) return { changes, events, ...waitingForJetStream(gate.wait) };
    if (!terminating.length) {
      changes.push(del(excess[0]!));
      events.push({ type: "Normal", reason: "ScalingDown", message: `deleting ${excess[0]!.metadata!.name} (size is ${size})` });
    }
    return { changes, events, reason: "ScalingDown", message: `removing ${excess.length} servers above size ${size}` };
  }
  if (terminating.length)
    return {
      changes,
      events,
      reason: "WaitingForPods",
      message: `waiting for ${terminating.map((p) => p.metadata!.name).join(", ")} to terminate`,
    };

  const byIndex = live
    .filter((p) => p.metadata?.annotations?.[annotationTemplateHash] !== hash)
    .sort((a, b) => podIndex(name, b.metadata?.name)! - podIndex(name, a.metadata?.name)!);
  const outdated = gate ? gate.order(byIndex) : byIndex;
  const notReady = live.filter((p) => !isReady(p));
  if (outdated.length) {
    if (notReady.length) {
      return {
        changes,
        events,
        reason: "RollingUpdate",
        message: `${outdated.length} servers to update; waiting for ${notReady.map((p) => p.metadata!.name).join(", ")} to be Ready`,
      };
    }
    if (gate?.wait) return { changes, events, ...waitingForJetStream(gate.wait) };
    const p = outdated[0]!;
    changes.push(del(p));
    const from = p.metadata?.labels?.[labelVersion];
    const to = template.labels[labelVersion];
    const what = from !== to ? `version ${from} → ${to}` : "pod spec changed";
    events.push({
      type: "Normal",
      reason: "RollingUpdate",
      message: `replacing ${p.metadata!.name} (${what}); ${outdated.length - 1} more after it`,
    });
    return { changes, events, reason: "RollingUpdate", message: `updating ${outdated.length} servers, one at a time` };
  }
  if (notReady.length)
    return {
      changes,
      events,
      reason: "WaitingForPods",
      message: `waiting for ${notReady.map((p) => p.metadata!.name).join(", ")} to be Ready`,
    };
  return { changes, events };
}
