// The cluster's PodDisruptionBudget: how many of its servers a drain, an autoscaler or any other
// eviction may take at once. The operator's own rollouts delete pods, so the budget never stops them.
import type { PodDisruptionBudget } from "../types.ts";
import { jetstreamEnabled } from "./jetstream.ts";
import { ownerReference, selectorLabels } from "./names.ts";
import type { NatsCluster } from "./natscluster.ts";
import { defaultSize } from "./phases/observe.ts";

/**
 * One server at a time; with JetStream, never so many that the meta group loses its quorum
 * (a majority of the servers): none of 1 or 2 servers, one of 3 or more.
 */
export function defaultMaxUnavailable(c: NatsCluster): number {
  const size = c.spec?.size ?? defaultSize;
  if (!jetstreamEnabled(c)) return 1;
  const quorum = Math.floor(size / 2) + 1;
  return Math.max(0, Math.min(1, size - quorum));
}

/**
 * Said as minAvailable (size less maxUnavailable): Kubernetes computes a maxUnavailable only for
 * pods of a workload it can scale, and a NatsCluster's pods are the operator's own.
 */
export function desiredDisruptionBudget(c: NatsCluster): PodDisruptionBudget {
  const name = c.metadata.name!;
  const maxUnavailable = c.spec?.podDisruptionBudget?.maxUnavailable ?? defaultMaxUnavailable(c);
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace: c.metadata.namespace, labels: selectorLabels(name), ownerReferences: [ownerReference(c)] },
    spec: {
      minAvailable: Math.max(0, (c.spec?.size ?? defaultSize) - maxUnavailable),
      selector: { matchLabels: selectorLabels(name) },
    },
  };
}

/** `want`'s spec carried onto `live`, or undefined when live already has it. */
export function updatedDisruptionBudget(live: PodDisruptionBudget, want: PodDisruptionBudget): PodDisruptionBudget | undefined {
  const same =
    live.spec?.minAvailable === want.spec?.minAvailable &&
    live.spec?.maxUnavailable === undefined &&
    JSON.stringify(live.spec?.selector) === JSON.stringify(want.spec?.selector);
  return same ? undefined : { ...live, spec: { ...live.spec, ...want.spec, maxUnavailable: undefined } };
}
