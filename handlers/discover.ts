import type { Instance } from "./status.ts";
import { ok, type Result, type Target } from "./types.ts";

export interface DiscoverView {
  target: Target;
  instance: Instance;
}

/** `_SAT.discover`: every controller answers, so a ground server can list all satellites. */
export function discover(view: DiscoverView): Result {
  const { cluster, namespace } = view.target;
  return ok({ cluster, namespace, ...view.instance, subjects: subjectsFor(cluster) });
}

export function subjectsFor(cluster: string) {
  return {
    get: `_SAT.${cluster}.config.get`,
    put: `_SAT.${cluster}.config.put`,
    rollback: `_SAT.${cluster}.config.rollback`,
    status: `_SAT.${cluster}.status`,
  };
}
