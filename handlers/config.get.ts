import { loadRoutesConfig } from "./config/routes-file.ts";
import { fail, ok, type ConfigMap, type Result, type Target } from "./types.ts";

export interface ConfigGetView {
  target: Target;
  configMap: ConfigMap | null;
}

/** `_SAT.<cluster>.config.get`: the cluster's name and routes, with the revision to pass back to config.put. */
export function configGet(view: ConfigGetView): Result {
  const loaded = loadRoutesConfig(view.target, view.configMap);
  if ("error" in loaded) return fail(loaded.error.code, loaded.error.message);
  const { name, routes } = loaded.config;
  return ok({ ...where(view.target), revision: loaded.revision, name: name ?? null, routes });
}

export function where(t: Target) {
  return { cluster: t.cluster, namespace: t.namespace, configMap: t.configMap };
}
