/** What a reloader publishes on `_SAT.<cluster>.reload.<pod>` after each decision, and as a heartbeat. */
export interface ReloadReport {
  cluster: string;
  pod: string;
  server?: string;
  version?: string;
  /** resourceVersion of the watched object. */
  revision: string;
  /** The config API's revision this config carries (annotation nats.io/config-revision), else `revision`. */
  configRevision: string;
  action: "in-sync" | "reloaded" | "restart-needed" | "failed" | "refused";
  ok: boolean;
  error?: string;
  reasons?: string[];
  configLoadTime?: string;
  configDigest?: string;
  /** How long nats-server took to reload and confirm it (reloaded or failed), as the reloader measured it. */
  reloadMs?: number;
  at: string;
}

export const reportSubject = (cluster: string, pod: string) => `_SAT.${cluster}.reload.${pod}`;
export const reportWildcard = (cluster: string) => `_SAT.${cluster}.reload.*`;
/** On a config Secret: the routes file's revision the rendered config carries (the operator sets it). */
export const configRevisionAnnotation = "nats.io/config-revision";
/** Any message here makes every reloader of the cluster publish its latest report again. */
export const askSubject = (cluster: string) => `_SAT.${cluster}.reloads.ask`;
