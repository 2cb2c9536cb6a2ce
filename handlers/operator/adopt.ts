// Pods another operator made (nats-operator 0.8.3) that this NatsCluster controls: the same names,
// labels and owner, but none of satellite's annotations. satellite takes them over as they run:
// they count as current until the next change that replaces pods, so adopting restarts nothing.
import type { EventNote } from "../events.ts";
import type { Change, Pod } from "../types.ts";
import { annotationAdopted, annotationTemplateHash, mgmtServiceName } from "./names.ts";
import type { PodPolicy } from "./natscluster.ts";

/** A pod without satellite's env (nats-operator's): it cannot resolve $POD_NAME in the config. */
export const lacksEnv = (name: string) => (p: Pod) => !p.spec?.containers?.[0]?.env?.some((e) => e.name === name);
export const lacksOurEnv = lacksEnv("POD_NAME");

/**
 * The pods as the rest of the reconcile should see them, the writes that record the adoption on
 * each, and one Event naming them. A pod that runs the image the spec wants counts as current for
 * `hash`; one that runs another is marked outdated, so it is replaced, one at a time.
 */
export function adoptPods(owned: Pod[], hash: string, image: string, now: string): { pods: Pod[]; changes: Change[]; events: EventNote[] } {
  const changes: Change[] = [];
  const kept: string[] = [];
  const outdated: string[] = [];
  const pods = owned.map((p) => {
    if (p.metadata?.deletionTimestamp || p.metadata?.annotations?.[annotationTemplateHash]) return p;
    const current = p.spec?.containers?.[0]?.image === image;
    const annotations = { ...p.metadata?.annotations, [annotationTemplateHash]: current ? hash : "adopted", [annotationAdopted]: now };
    const marked: Pod = { ...p, metadata: { ...p.metadata, annotations } };
    changes.push({ op: "replace", kind: "Pod", object: marked });
    (current ? kept : outdated).push(p.metadata!.name!);
    return marked;
  });
  const said = [
    kept.length
      ? `took over ${kept.join(", ")} as they run (made by another operator): no restart; they are replaced at the next change that needs new pods`
      : "",
    outdated.length
      ? `took over ${outdated.join(", ")} (made by another operator), which run another image than ${image}: replaced one at a time`
      : "",
  ].filter(Boolean);
  const events: EventNote[] = said.length ? [{ type: "Normal", reason: "Adopted", message: said.join("; ") }] : [];
  return { pods, changes, events };
}

/** nats-operator's names for the ports it bound on the node unless disabled, and the switch that says so. */
const boundByNatsOperator: Record<string, [string, keyof PodPolicy]> = {
  gateway: ["gateways", "disableGatewaysHostPort"],
  leaf: ["leafnodes", "disableLeafnodesHostPort"],
  websocket: ["websocket", "disableWebsocketsHostPort"],
};

/**
 * Taking over pods that bind a gateway, leafnode or websocket port on their node: satellite binds
 * none, so what reaches the servers at a node's address would lose them as the pods are replaced.
 * Refused until the spec says (the disable switch) that nothing relies on it.
 */
export function hostPortTakeoverProblems(live: Pod[], clusterName: string, pod: PodPolicy | undefined): string[] {
  const problems = new Map<string, string>();
  for (const p of live.filter(lacksOurEnv))
    for (const port of p.spec?.containers?.[0]?.ports ?? []) {
      const bound = port.name ? boundByNatsOperator[port.name] : undefined;
      if (!bound || !port.hostPort || pod?.[bound[1]] === true || problems.has(bound[1])) continue;
      problems.set(
        bound[1],
        `${p.metadata?.name} (made by another operator) binds the ${bound[0]} port ${port.hostPort} on its node; satellite binds no such host port, so whatever reaches the servers at a node's address would lose them as satellite replaces the pods: reach them through the Service ${mgmtServiceName(clusterName)} (port ${port.containerPort}) or a NodePort or LoadBalancer Service of your own, then set spec.pod.${bound[1]}: true to take this cluster over`,
      );
    }
  return [...problems.values()];
}
