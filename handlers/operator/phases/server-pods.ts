// Phase 8, the servers' pods: the pod template, taking over pods another operator made, the
// JetStream gate (when a server may be stopped, in which order), then one step of creating,
// replacing, scaling and removing pods, with the JetStream claims and meta group peers that go
// with them.
import type { EventNote } from "../../events.ts";
import { isLostWithNode } from "../../pod-state.ts";
import { restartKey } from "../../reloader/reloadable.ts";
import type { Change, PersistentVolumeClaim, Pod } from "../../types.ts";
import { adoptPods } from "../adopt.ts";
import { defaultServerVersion, type PodTemplate, podTemplate, sidecarImageUpdates, templateHash } from "../desired-pod.ts";
import { jetstreamGate, leaderLast, metaOfLeader, scaleDownRefusal, stalePeers } from "../jetstream-gate.ts";
import { claimName, planClaims } from "../jetstream-volumes.ts";
import { podIndex } from "../names.ts";
import type { JetStreamStatus } from "../natscluster.ts";
import { type PodGate, type PodPlan, planPods } from "../pods.ts";
import { type SystemLogin, systemConnect } from "./credentials.ts";
import type { Observed } from "./observe.ts";

export interface ServerPods {
  changes: Change[];
  events: EventNote[];
  plan: PodPlan;
  /** The pods as the reconcile sees them after adoption, and the template they should match. */
  pods: Pod[];
  template: PodTemplate;
  hash: string;
  /** JetStream clusters: what the gate found, why no server may be stopped now. */
  jetstream?: { status: JetStreamStatus; wait?: string; stalePeers: string[]; removed: string[] };
}

/** `target`: the config the servers are moved to (its restart key rolls the pods in operator mode). */
export function serverPods(seen: Observed, target: string, systemLogin: SystemLogin | undefined): ServerPods {
  const restartOnly = seen.operatorMode ? restartKey(target, seen.spec.version || defaultServerVersion) : undefined;
  const template = podTemplate(seen.cluster, seen.view.controllerImage, restartOnly, seen.view.site);
  const hash = templateHash(template);
  const adoption = adoptPods(seen.owned, hash, template.spec.containers[0]!.image!, seen.view.now);
  const pods = adoption.pods;
  const js = seen.jetstream ? jetstreamSide(seen, pods) : undefined;
  const plan = planPods(seen.cluster, pods, seen.size, template, hash, js?.gate);
  // Servers this operator removed in a scale-down that passed its check, until they left the meta
  // group: only their peers are removed, only their claims deleted (whenScaled: Delete).
  const scaledDown =
    plan.reason === "ScalingDown"
      ? plan.changes.flatMap((x) => (x.op === "delete" && x.kind === "Pod" ? [seen.serverName(x.name)] : []))
      : [];
  const removed = [...new Set([...(js?.leaving ?? []), ...scaledDown])];
  const changes: Change[] = [
    ...adoption.changes,
    // A server's claim before its pod, which the scheduler would otherwise hold back.
    ...planClaims(seen.cluster, seen.view.claims ?? [], pods, seen.size, (pod) => removed.includes(seen.serverName(pod))),
    ...plan.changes,
    ...sidecarImageUpdates(pods, template, hash),
  ];
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const peers = js && stalePeers(live, js.meta, seen.serverName, removed);
  if (peers && systemLogin && live.length === pods.length)
    for (const server of peers.remove)
      changes.push({
        op: "remove-peer",
        namespace: seen.namespace,
        cluster: seen.name,
        server,
        connect: systemConnect(seen, systemLogin),
      });
  return {
    changes,
    events: [...adoption.events, ...plan.events],
    plan,
    pods,
    template,
    hash,
    ...(js ? { jetstream: { status: js.status, ...(js.wait ? { wait: js.wait } : {}), stalePeers: peers?.stale ?? [], removed } } : {}),
  };
}

/** Servers lost with their node whose claim is deleted (or being deleted): the user gave their data up. */
function givenUp(pods: Pod[], claims: PersistentVolumeClaim[]): string[] {
  return pods.filter(isLostWithNode).flatMap((p) => {
    const claim = claims.find((x) => x.metadata?.name === claimName(p.metadata!.name!));
    return !claim || claim.metadata?.deletionTimestamp ? [p.metadata!.name!] : [];
  });
}

/** The JetStream gate over the pods, the meta group as its leader sees it, and the servers leaving it. */
function jetstreamSide(seen: Observed, pods: Pod[]) {
  const gate = jetstreamGate(pods, seen.servers, seen.serverName);
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  const above = (pod: string) => (podIndex(seen.name, pod) ?? Number.POSITIVE_INFINITY) > seen.size;
  const removing = live
    .map((p) => p.metadata!.name!)
    .filter(above)
    .map(seen.serverName);
  const meta = metaOfLeader(live, seen.servers, seen.serverName);
  const inGroup = (s: string) => !meta || meta.leader === s || meta.peers.some((p) => p.name === s);
  const leaving = (seen.cluster.status?.jetstream?.removed ?? []).filter(inGroup);
  const podGate: PodGate = {
    wait: gate.wait ?? (leaving.length ? `${leaving.join(", ")} to leave the meta group` : undefined),
    order: (ps: Pod[]) => leaderLast(ps, gate.status.metaLeader, seen.serverName),
    ...(removing.length ? { refuseScaleDown: scaleDownRefusal(seen.streams, seen.size, removing) } : {}),
    givenUp: givenUp(pods, seen.view.claims ?? []),
  };
  return { status: gate.status, wait: gate.wait, meta, leaving, gate: podGate };
}
