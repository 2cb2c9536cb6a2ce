import type { ServerReport } from "./config/reload-wait.ts";
import { loadRoutesConfig } from "./config/routes-file.ts";
import { where } from "./config.get.ts";
import { naturalOrder } from "./natural-order.ts";
import { isPodReady } from "./pod-state.ts";
import { type ConfigMap, ok, type Pod, type Result, type Target } from "./types.ts";

/** What the server's reloader last said: the config revision it runs, and whether that went well. */
function configOf(r: ServerReport | undefined) {
  return r
    ? { revision: r.configRevision, state: r.action, ok: r.ok, ...(r.error ? { error: r.error } : {}), loadedAt: r.configLoadTime ?? null }
    : null;
}

export interface Instance {
  id: string;
  version: string;
  startedAt: string;
}

export interface StatusView {
  target: Target;
  instance: Instance;
  configMap: ConfigMap | null;
  pods: Pod[];
  podSelector: string;
  /** The latest report of each server's reloader, by pod name (empty without reloaders). */
  reloads?: Record<string, ServerReport | undefined>;
}

/** `_SAT.<cluster>.status`: the config's revision and health, and every server pod with its readiness. */
export function status(view: StatusView): Result {
  const loaded = loadRoutesConfig(view.target, view.configMap);
  const servers = view.pods
    .map((p) => {
      const ready = isPodReady(p);
      const restarts = (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
      return {
        name: p.metadata?.name ?? "",
        phase: p.status?.phase ?? "Unknown",
        ready,
        ip: p.status?.podIP ?? null,
        node: p.spec?.nodeName ?? null,
        restarts,
        deleting: Boolean(p.metadata?.deletionTimestamp),
        config: configOf(view.reloads?.[p.metadata?.name ?? ""]),
      };
    })
    .sort((a, b) => naturalOrder(a.name, b.name));
  return ok({
    ...where(view.target),
    instance: view.instance,
    revision: view.configMap?.metadata?.resourceVersion ?? null,
    config: "config" in loaded ? { name: loaded.config.name ?? null, routes: loaded.config.routes } : null,
    configError: "error" in loaded ? loaded.error.message : null,
    podSelector: view.podSelector,
    servers,
    ready: servers.filter((s) => s.ready).length,
    total: servers.length,
  });
}
