// Pods another operator made (nats-operator 0.8.3) that this NatsCluster controls: the same names,
// labels and owner, but none of satellite's annotations. satellite takes them over as they run:
// they count as current until the next change that replaces pods, so adopting restarts nothing.
import type { EventNote } from "../events.ts";
import type { Change, Pod } from "../types.ts";
import { annotationAdopted, annotationTemplateHash } from "./names.ts";

/** A pod without satellite's env (nats-operator's): it cannot resolve $POD_NAME in the config. */
export const lacksOurEnv = (p: Pod) => !p.spec?.containers?.[0]?.env?.some((e) => e.name === "POD_NAME");

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
