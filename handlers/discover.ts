import { isPodReady } from "./pod-state.ts";
import type { Instance } from "./status.ts";
import { type ConfigMap, type NatsClusterRef, ok, type Pod, type Result, subjectPrefix, type Target } from "./types.ts";

export interface DiscoverView {
  target: Target;
  instance: Instance;
  configMap?: ConfigMap | null;
  pods?: Pod[];
  clusters?: NatsClusterRef[];
}

/**
 * `_SAT.discover`: every config API answers, so a ground server lists every cluster of every site
 * (collect them all: `nats req _SAT.discover '' --replies=0 --timeout=2s`).
 */
export function discover(view: DiscoverView): Result {
  const { site, cluster, namespace } = view.target;
  const pods = (view.pods ?? []).filter((p) => !p.metadata?.deletionTimestamp);
  const owner = view.clusters?.find((c) => c.metadata.name === cluster && c.metadata.namespace === namespace);
  return ok({
    ...(site ? { site } : {}),
    cluster,
    namespace,
    /** nats-server's, where a NatsCluster says (the instance's `version` is satellite's). */
    natsVersion: owner?.status?.currentVersion ?? null,
    servers: { ready: pods.filter(isPodReady).length, total: pods.length },
    revision: view.configMap?.metadata?.resourceVersion ?? null,
    ...view.instance,
    subjects: subjectsFor(view.target),
  });
}

export function subjectsFor(t: Pick<Target, "cluster" | "site">) {
  const p = subjectPrefix(t);
  return { get: `${p}.config.get`, put: `${p}.config.put`, rollback: `${p}.config.rollback`, status: `${p}.status` };
}
