// Pods another operator made (nats-operator 0.8.3) that this NatsCluster controls: the same names,
// labels and owner, but none of satellite's annotations. satellite takes them over as they run:
// they count as current until the next change that replaces pods, so adopting restarts nothing.
import type { EventNote } from "../events.ts";
import type { Change, Pod } from "../types.ts";
import { annotationAdopted, annotationTemplateHash } from "./names.ts";

/** A pod without satellite's env (nats-operator's): it cannot resolve $POD_NAME in the config. */
export const lacksOurEnv = (p: Pod) => !p.spec?.containers?.[0]?.env?.some((e) => e.name === "POD_NAME");

/**
 * The pods as the rest of the reconcile should see them (adopted ones marked current for
 * `hash`), the writes that record the adoption on each, and one Event naming them.
 */
export function adoptPods(owned: Pod[], hash: string, now: string): { pods: Pod[]; changes: Change[]; events: EventNote[] } {
  const changes: Change[] = [];
  const adopted: string[] = [];
  const pods = owned.map((p) => {
    if (p.metadata?.deletionTimestamp || p.metadata?.annotations?.[annotationTemplateHash]) return p;
    const annotations = { ...p.metadata?.annotations, [annotationTemplateHash]: hash, [annotationAdopted]: now };
    const marked: Pod = { ...p, metadata: { ...p.metadata, annotations } };
    changes.push({ op: "replace", kind: "Pod", object: marked });
    adopted.push(p.metadata!.name!);
    return marked;
  });
  const events: EventNote[] = adopted.length
    ? [
        {
          type: "Normal",
          reason: "Adopted",
          message: `took over ${adopted.join(", ")} as they run (made by another operator): no restart; they are replaced at the next change that needs new pods`,
        },
      ]
    : [];
  return { pods, changes, events };
}
