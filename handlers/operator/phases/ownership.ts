// Phase 5, ownership: objects the cluster would write that something else already holds, and
// what taking over another operator's pods would break.
import { hostPortTakeoverProblems } from "../adopt.ts";
import { desiredServices } from "../desired-objects.ts";
import { checkedPodTemplate } from "../desired-pod.ts";
import { configSecretName, isOwnedBy } from "../names.ts";
import type { Observed } from "./observe.ts";

/** A sentence for each object of the cluster's names that it does not control. */
export function foreignObjects(seen: Observed): string[] {
  const problems: string[] = [];
  const foreign = (kind: string, obj: Parameters<typeof isOwnedBy>[0] | null | undefined, objName: string) => {
    if (obj && !isOwnedBy(obj, seen.cluster))
      problems.push(`${kind} "${objName}" already exists and is not controlled by this NatsCluster: rename or delete it`);
  };
  foreign("secret", seen.configSecret, configSecretName(seen.name));
  foreign("poddisruptionbudget", seen.view.disruptionBudget, seen.name);
  for (const s of desiredServices(seen.cluster)) {
    const name = s.metadata!.name!;
    foreign(
      "service",
      seen.view.services.find((x) => x.metadata?.name === name),
      name,
    );
  }
  return problems;
}

/** Sentences for what taking over the live pods of another operator would break (host ports). */
export function takeoverProblems(seen: Observed): string[] {
  return hostPortTakeoverProblems(seen.live, seen.name, seen.spec.pod);
}

/** What of spec.template and spec.pod.volumeMounts the pods cannot have (nothing to check without them). */
export function templateProblems(seen: Observed): string[] {
  if (!seen.spec.template && !seen.spec.pod?.volumeMounts?.length) return [];
  return checkedPodTemplate(seen.cluster, seen.view.controllerImage, undefined, seen.view.site).problems;
}
