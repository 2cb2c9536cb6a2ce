import type { Pod } from "./types.ts";

/** The kubelet reports the pod Ready. */
export const isPodReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** The pod has run to an end (Failed or Succeeded) and will not run again. */
export const isPodFinished = (p: Pod) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded";

/**
 * Deleted because its node stopped answering (the taint manager's eviction): no kubelet will ever
 * confirm it, so it stays, terminating, until someone deletes it at once or the node comes back.
 */
export const isLostWithNode = (p: Pod) =>
  Boolean(p.metadata?.deletionTimestamp) &&
  (p.status?.conditions?.some((c) => c.type === "DisruptionTarget" && c.status === "True" && c.reason === "DeletionByTaintManager") ??
    false);
