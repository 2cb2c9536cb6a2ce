import { configGet } from "./config.get.ts";
import { configPut } from "./config.put.ts";
import { discover } from "./discover.ts";
import { status, type Instance } from "./status.ts";
import type { ConfigMap, Pod, Request, Result, Target } from "./types.ts";
import type { ServerReport } from "./config/reload-wait.ts";
import { reconcileCluster } from "./operator/reconcile.ts";
import { clustersToReconcile } from "./operator/triggers.ts";
export type { WatchedKind } from "./operator/triggers.ts";

/** What the runtime loads before calling a config-API handler (only what the route `needs`). */
export interface ApiView {
  target: Target;
  instance: Instance;
  podSelector: string;
  configMap: ConfigMap | null;
  pods: Pod[];
  /** The latest report of each server's reloader, by pod name (when the route needs it). */
  reloads: Record<string, ServerReport | undefined>;
}

export interface NatsRoute {
  /** Endpoint name in the NATS services protocol. */
  name: string;
  subject(cluster: string): string;
  /** Shared by replicas through a queue group (false: every instance answers). */
  queued: boolean;
  /** Requests that write are run one at a time per cluster. */
  writes: boolean;
  needs: { configMap?: boolean; pods?: boolean; reloads?: boolean };
  handle(req: Request, view: ApiView): Result;
}

/** The routing table: every NATS subject the controller answers, and the handler behind it. */
export const natsRoutes: NatsRoute[] = [
  {
    name: "config-get", subject: (c) => `_SAT.${c}.config.get`, queued: true, writes: false,
    needs: { configMap: true }, handle: (_req, view) => configGet(view),
  },
  {
    name: "config-put", subject: (c) => `_SAT.${c}.config.put`, queued: true, writes: true,
    needs: { configMap: true }, handle: (req, view) => configPut(req, view),
  },
  {
    name: "status", subject: (c) => `_SAT.${c}.status`, queued: true, writes: false,
    needs: { configMap: true, pods: true, reloads: true }, handle: (_req, view) => status(view),
  },
  {
    name: "discover", subject: () => "_SAT.discover", queued: false, writes: false,
    needs: {}, handle: (_req, view) => discover(view),
  },
];

/**
 * The operator's routing: a change of any watched object (NatsCluster, Pod, Service, Secret,
 * ConfigMap, and the reloader's ServiceAccount/Role/RoleBinding) queues the clusters `triggers`
 * names; each is then reconciled from its whole observed state. cluster.create, cluster.update,
 * pod.failed, scaling and rollouts are all that one reconcile. cluster.delete needs no handler:
 * every owned object carries a controller ownerReference, so Kubernetes garbage collection
 * removes them with the NatsCluster.
 */
export const watchRoutes = {
  triggers: clustersToReconcile,
  reconcile: reconcileCluster,
};
