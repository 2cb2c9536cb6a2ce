import { managedBy, where } from "./config.get.ts";
import { parsePutRequest } from "./config/put-request.ts";
import { loadRoutesConfig, renderRoutesConfig, type RoutesConfig } from "./config/routes-file.ts";
import { fail, ok, type ConfigMap, type Request, type Result, type Target } from "./types.ts";

export interface ConfigPutView {
  target: Target;
  configMap: ConfigMap | null;
}

/**
 * `_SAT.<cluster>.config.put`: validates, then replaces name and routes in the
 * ConfigMap, based on the revision it read. With `revision` in the request it
 * is a compare-and-swap. The runtime adds the written revision to the reply.
 */
export function configPut(req: Request, view: ConfigPutView): Result {
  const parsed = parsePutRequest(req.data);
  if ("error" in parsed) return fail(parsed.error.code, parsed.error.message);
  const put = parsed.value;
  const cm = view.configMap;
  if (!cm) return fail(404, `configmap "${view.target.configMap}" not found in namespace "${view.target.namespace}": create it, or pass -cm`);
  const current = cm.metadata?.resourceVersion ?? "";
  if (put.revision !== undefined && put.revision !== current) {
    return fail(409, `revision ${put.revision} is stale: the config is at revision ${current} now; read it again with config.get and retry`);
  }
  const loaded = loadRoutesConfig(view.target, cm);
  const missingKey = "error" in loaded && loaded.error.code === 404;
  if ("error" in loaded && !missingKey) {
    if (put.name === undefined) return fail(loaded.error.code, `${loaded.error.message}; or send "name" too`);
  }
  const before: RoutesConfig | undefined = "config" in loaded ? loaded.config : undefined;
  const after: RoutesConfig = { name: put.name ?? before?.name, routes: put.routes, rest: before?.rest ?? {} };
  const text = renderRoutesConfig(after);
  const changes = describeChange(before, after);
  const body = { ...where(view.target), ...managedBy(cm), name: after.name ?? null, routes: after.routes };
  const wait = put.waitMs !== undefined ? { waitForReloadMs: put.waitMs } : {};
  if (cm.data?.[view.target.key] === text) {
    return { ...ok({ ...body, revision: current, changed: false, changes }), ...wait };
  }
  const object: ConfigMap = { ...cm, data: { ...cm.data, [view.target.key]: text } };
  return { ...ok({ ...body, previousRevision: current, changed: true, changes }, [{ op: "replace", kind: "ConfigMap", object }]), ...wait };
}

function describeChange(before: RoutesConfig | undefined, after: RoutesConfig) {
  const old = new Set(before?.routes ?? []);
  const now = new Set(after.routes);
  const out: { name?: { from: string | null; to: string | null }; routesAdded: string[]; routesRemoved: string[] } = {
    routesAdded: after.routes.filter((r) => !old.has(r)),
    routesRemoved: [...old].filter((r) => !now.has(r)),
  };
  if ((before?.name ?? null) !== (after.name ?? null)) out.name = { from: before?.name ?? null, to: after.name ?? null };
  return out;
}
