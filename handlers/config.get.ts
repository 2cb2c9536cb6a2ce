import { historyOf } from "./config/history.ts";
import { loadRoutesConfig } from "./config/routes-file.ts";
import { type ConfigMap, fail, ok, type Result, type Target } from "./types.ts";

export interface ConfigGetView {
  target: Target;
  configMap: ConfigMap | null;
}

/** `_SAT.<cluster>.config.get`: the cluster's name and routes, with the revision to pass back to config.put. */
export function configGet(view: ConfigGetView): Result {
  const loaded = loadRoutesConfig(view.target, view.configMap);
  if ("error" in loaded) return fail(loaded.error.code, loaded.error.message);
  const { name, routes } = loaded.config;
  return ok({
    ...where(view.target),
    ...managedBy(view.configMap),
    revision: loaded.revision,
    name: name ?? null,
    routes,
    history: historyOf(view.configMap),
  });
}

/** A routes file owned by a NatsCluster is an input of the operator, which renders it into the servers' config. */
export function managedBy(cm: ConfigMap | null): { managedBy?: string } {
  const owner = cm?.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "NatsCluster");
  return owner ? { managedBy: `NatsCluster/${owner.name}` } : {};
}

export function where(t: Target) {
  return { ...(t.site ? { site: t.site } : {}), cluster: t.cluster, namespace: t.namespace, configMap: t.configMap };
}
