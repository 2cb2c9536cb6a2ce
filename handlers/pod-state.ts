import type { Pod } from "./types.ts";

/** The kubelet reports the pod Ready. */
export const isPodReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** The pod has run to an end (Failed or Succeeded) and will not run again. */
export const isPodFinished = (p: Pod) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded";
