import { isPodFinished as isDone, isLostWithNode, isPodReady as isReady } from "../pod-state.ts";
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

/** JetStream clusters: why no server may be stopped now, and the order to stop them in. */
export interface PodGate {
  wait?: string;
  order(pods: Pod[]): Pod[];
  /** Why removing the servers above size would lose data. */
  refuseScaleDown?: string;
  /** Servers lost with their node whose claim the user deleted: their data is given up, so they are replaced. */
  givenUp?: string[];
}

const waitingForJetStream = (why: string): Pick<PodPlan, "reason" | "message"> => ({
  reason: "WaitingForJetStream",
  message: `no server is stopped until JetStream is current: ${why}`,
});

/**
 * pod.failed, scale and rollout in one pass over the cluster's pods `<name>-1 … <name>-<size>`:
 * failed pods are deleted (and come back under the same name once gone); missing pods are all
 * created at once; extra pods go one at a time, highest index first; outdated pods are replaced
 * one at a time, highest index first, only while every other pod is Ready. Never waits: the
 * next pod event brings the cluster back.
 */
export function planPods(c: NatsCluster, owned: Pod[], size: number, template: PodTemplate, hash: string, gate?: PodGate): PodPlan {
  const ns = c.metadata.namespace!;
  const p: Planning = {
    c,
    name: c.metadata.name!,
    size,
    del: (pod) => ({ op: "delete", kind: "Pod", namespace: ns, name: pod.metadata!.name!, uid: pod.metadata?.uid }),
    changes: [],
    events: [],
  };
  const { changes, events } = p;

  const terminating = owned.filter((pod) => pod.metadata?.deletionTimestamp);
  const failed = owned.filter((pod) => !pod.metadata?.deletionTimestamp && isDone(pod));
  const live = owned.filter((pod) => !pod.metadata?.deletionTimestamp && !isDone(pod));
  replaceFailed(p, failed);
  const lost = terminating.filter(isLostWithNode);
  const kept = gate ? lost.filter((pod) => !gate.givenUp?.includes(pod.metadata!.name!)) : [];
  replaceLost(
    p,
    lost.filter((pod) => !kept.includes(pod)),
  );

  const creating = createMissing(p, owned, template);
  if (creating) return creating;
  if (failed.length) return { changes, events, reason: "ReplacingFailedPods", message: `replacing ${failed.length} failed servers` };

  const scaling = scaleDown(p, live, terminating, gate);
  if (scaling) return scaling;
  if (kept.length) return { changes, events, ...keptOnLostNode(c, kept) };
  if (terminating.length)
    return {
      changes,
      events,
      reason: "WaitingForPods",
      message: `waiting for ${terminating.map((pod) => pod.metadata!.name).join(", ")} to terminate`,
    };
  return rollOrWait(p, live, template, hash, gate);
}

/** One pass of planPods: the cluster, and the changes and events planned so far. */
interface Planning {
  c: NatsCluster;
  name: string;
  size: number;
  del: (pod: Pod) => Change;
  changes: Change[];
  events: ClusterEvent[];
}

/** Failed pods are deleted (and come back under the same name once gone). */
function replaceFailed({ del, changes, events }: Planning, failed: Pod[]): void {
  for (const p of failed) {
    changes.push(del(p));
    const why = p.status?.reason ? ` (${p.status.reason}${p.status.message ? `: ${p.status.message}` : ""})` : "";
    events.push({ type: "Warning", reason: "PodFailed", message: `pod ${p.metadata!.name} is ${p.status!.phase}${why}; replacing it` });
  }
}

/**
 * Servers without JetStream keep nothing on their node (nor do those whose claim was given up): one
 * lost with its node is deleted at once, so that it comes back under its name on a node that answers.
 */
function replaceLost({ changes, events }: Planning, lost: Pod[]): void {
  for (const p of lost) {
    const { name, namespace, uid } = p.metadata!;
    changes.push({ op: "delete", kind: "Pod", namespace: namespace!, name: name!, uid, gracePeriodSeconds: 0 });
    events.push({
      type: "Warning",
      reason: "NodeLost",
      message: `node ${p.spec?.nodeName ?? "?"} of pod ${name} stopped answering: deleting the pod at once, to start it on another node`,
    });
  }
}

/** JetStream servers lost with their node are not replaced blindly: their streams are on that node's claim. */
function keptOnLostNode(c: NatsCluster, lost: Pod[]): Pick<PodPlan, "reason" | "message"> {
  const where = lost.map((p) => `${p.metadata!.name} (node ${p.spec?.nodeName ?? "?"})`).join(", ");
  return {
    reason: "NodeLost",
    message: `${where}: the node stopped answering; the server's JetStream data is on its claim there, so it is not replaced until the node is back. If the node is gone for good, give the data up: kubectl delete pvc jetstream-<pod> -n ${c.metadata.namespace} --wait=false (the server then starts empty on another node and its streams catch up from their other replicas)`,
  };
}

/** Missing pods `<name>-1 … <name>-<size>` are all created at once. */
function createMissing({ c, name, size, changes, events }: Planning, owned: Pod[], template: PodTemplate): PodPlan | undefined {
  const taken = new Set(owned.map((p) => p.metadata?.name));
  const missing: number[] = [];
  for (let i = 1; i <= size; i++) if (!taken.has(`${name}-${i}`)) missing.push(i);
  for (const i of missing) changes.push({ op: "create", kind: "Pod", object: desiredPod(c, i, template) });
  if (!missing.length) return undefined;
  events.push({ type: "Normal", reason: "CreatingPods", message: `creating ${missing.map((i) => `${name}-${i}`).join(", ")}` });
  return { changes, events, reason: "CreatingPods", message: `creating ${missing.length} of ${size} servers` };
}

/** Pods above size go one at a time, highest index first, once no other pod is terminating. */
function scaleDown(
  { name, size, del, changes, events }: Planning,
  live: Pod[],
  terminating: Pod[],
  gate: PodGate | undefined,
): PodPlan | undefined {
  const excess = live
    .filter((p) => {
      const i = podIndex(name, p.metadata?.name);
      return i === undefined || i > size;
    })
    .sort((a, b) => (podIndex(name, b.metadata?.name) ?? Infinity) - (podIndex(name, a.metadata?.name) ?? Infinity));
  if (!excess.length) return undefined;
  if (gate?.refuseScaleDown) return { changes, events, reason: "ScaleDownRefused", message: gate.refuseScaleDown };
  if (gate?.wait && !terminating.length) return { changes, events, ...waitingForJetStream(gate.wait) };
  if (!terminating.length) {
    changes.push(del(excess[0]!));
    events.push({ type: "Normal", reason: "ScalingDown", message: `deleting ${excess[0]!.metadata!.name} (size is ${size})` });
  }
  return { changes, events, reason: "ScalingDown", message: `removing ${excess.length} servers above size ${size}` };
}

/**
 * Outdated pods are replaced one at a time, highest index first (or in the gate's order), only
 * while every other pod is Ready; with none outdated, what is left is waiting for Ready.
 */
function rollOrWait(
  { name, del, changes, events }: Planning,
  live: Pod[],
  template: PodTemplate,
  hash: string,
  gate: PodGate | undefined,
): PodPlan {
  const byIndex = live
    .filter((p) => p.metadata?.annotations?.[annotationTemplateHash] !== hash)
    .sort((a, b) => podIndex(name, b.metadata?.name)! - podIndex(name, a.metadata?.name)!);
  const outdated = gate ? gate.order(byIndex) : byIndex;
  const notReady = live.filter((p) => !isReady(p));
  const waiting = notReady.map((p) => p.metadata!.name).join(", ");
  // A pod of an older spec that never started (Pending: unschedulable, its image missing …) runs no
  // server: replacing it takes nothing away, and is how a spec that kept it from starting is fixed.
  const neverStarted = outdated.find((p) => !isReady(p) && p.status?.phase === "Pending");
  if (neverStarted) {
    changes.push(del(neverStarted));
    events.push({
      type: "Normal",
      reason: "RollingUpdate",
      message: `replacing ${neverStarted.metadata!.name}, which never started under the spec before`,
    });
    return { changes, events, reason: "RollingUpdate", message: `updating ${outdated.length} servers, one at a time` };
  }
  // JetStream clusters wait for JetStream first, so a server that stays behind (one frozen, or
  // not catching up) is reported as such, and becomes JetStreamNotCurrent after a minute.
  if (outdated.length && gate?.wait) return { changes, events, ...waitingForJetStream(gate.wait) };
  if (outdated.length && notReady.length)
    return {
      changes,
      events,
      reason: "RollingUpdate",
      message: `${outdated.length} servers to update; waiting for ${waiting} to be Ready`,
    };
  if (outdated.length) {
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
  if (notReady.length) return { changes, events, reason: "WaitingForPods", message: `waiting for ${waiting} to be Ready` };
  return { changes, events };
}
