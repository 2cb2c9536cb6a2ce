// Reloads of nats-server's config in both modes: the operator's own (configReload.mode operator),
// and what reloader sidecars report to a config API this process serves.
import { counter, histogram } from "./metrics.ts";

export type ReloadMode = "operator" | "sidecar";

const reloads = counter(
  "satellite_reloads_total",
  "Reloads of nats-server's config, by NatsCluster, reload mode (operator: asked over NATS by the operator; sidecar: reported by a reloader sidecar) and outcome.",
);
const reloadSeconds = histogram(
  "satellite_reload_duration_seconds",
  "From asking nats-server to reload until it answered or the new config was confirmed, by reload mode.",
);

/** `cluster`: the NatsCluster's namespace and name. */
export function recordReload(cluster: { namespace: string; name: string }, mode: ReloadMode, outcome: string, ms?: number): void {
  reloads.inc({ namespace: cluster.namespace, natscluster: cluster.name, mode, outcome });
  if (ms !== undefined) reloadSeconds.observe({ mode }, ms / 1000);
}
