// The operator's metrics: its reconciles and work queue, and each NatsCluster as its status says
// (read from the watch cache at each scrape, so a deleted cluster's series go with it).
import { type NatsCluster, operatorRoutes } from "../handlers/index.ts";
import type { Reflector } from "./kube/reflector.ts";
import { counter, forgetSeries, gaugeFrom, histogram, type Labels } from "./metrics.ts";
import type { WorkQueue } from "./workqueue.ts";

export type ReconcileResult = "changed" | "unchanged" | "error";

const reconciles = counter("satellite_reconciles_total", "NatsCluster reconciles, by result.");
const reconcileSeconds = histogram("satellite_reconcile_duration_seconds", "How long NatsCluster reconciles took, by result.");
const retries = counter("satellite_workqueue_retries_total", "NatsClusters queued again, with backoff, after a failed reconcile.");

export function recordReconcile(result: ReconcileResult, ms: number): void {
  reconciles.inc({ result });
  reconcileSeconds.observe({ result }, ms / 1000);
  if (result === "error") retries.inc();
}

const statuses = ["True", "False", "Unknown"];

/** Registers the gauges read from the queue and the NatsCluster cache; the function returned takes them away. */
export function startOperatorGauges(clusters: Reflector<NatsCluster>, queue: WorkQueue): () => void {
  // At 0 from the start, so that rate() over them works before the first error.
  for (const result of ["changed", "unchanged", "error"]) reconciles.inc({ result }, 0);
  retries.inc({}, 0);
  const each = (value: (c: NatsCluster) => number) => () => clusters.list().map((c): [Labels, number] => [clusterLabels(c), value(c)]);
  const stops = [
    gaugeFrom("satellite_workqueue_depth", "NatsClusters waiting to be reconciled.", () => [[{}, queue.length]]),
    gaugeFrom(
      "satellite_workqueue_oldest_item_age_seconds",
      "How long the NatsCluster longest in the queue has waited for a reconcile.",
      () => [[{}, queue.ages().oldestWaitingMs / 1000]],
    ),
    gaugeFrom("satellite_workqueue_longest_running_seconds", "How long the reconcile running longest has run so far.", () => [
      [{}, queue.ages().longestRunningMs / 1000],
    ]),
    gaugeFrom("satellite_cluster_servers_desired", "Servers a NatsCluster asks for (spec.size).", each(operatorRoutes.desiredServers)),
    gaugeFrom(
      "satellite_cluster_servers_ready",
      "Servers of a NatsCluster that are ready, as its status says (status.readyReplicas).",
      each((c) => c.status?.readyReplicas ?? 0),
    ),
    gaugeFrom(
      "satellite_cluster_condition",
      "A NatsCluster's status conditions: 1 for the status each condition type has, 0 for the others.",
      () =>
        clusters
          .list()
          .flatMap((c) =>
            latestOfEachType(c.status?.conditions ?? []).flatMap((cond) =>
              statuses.map((status): [Labels, number] => [
                { ...clusterLabels(c), type: cond.type, status },
                cond.status === status ? 1 : 0,
              ]),
            ),
          ),
    ),
  ];
  // Counters kept per cluster (its reloads) go with it too.
  const off = clusters.onChange((type, c) => {
    if (type === "DELETED") forgetSeries(clusterLabels(c));
  });
  return () => {
    off();
    for (const stop of stops) stop();
  };
}

const clusterLabels = (c: NatsCluster): Labels => ({ namespace: c.metadata.namespace ?? "", natscluster: c.metadata.name ?? "" });

/** A status written by hand may name a condition type twice: the last one counts, as in a merge. */
function latestOfEachType<T extends { type: string }>(conditions: T[]): T[] {
  return [...new Map(conditions.map((c) => [c.type, c])).values()];
}
