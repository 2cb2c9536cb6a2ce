import { callerOf } from "./config/caller.ts";
import { annotationHistory, historyLimit, historyOf, parseRollbackRequest, withEntry } from "./config/history.ts";
import { type PutRequest, parsePutRequest } from "./config/put-request.ts";
import { reloadOutcomes, reportsFromStatus } from "./config/reload-wait.ts";
import { loadRoutesConfig, type RoutesConfig, renderRoutesConfig } from "./config/routes-file.ts";
import { managedBy, where } from "./config.get.ts";
import { eventChange } from "./events.ts";
import type { NatsCluster } from "./operator/natscluster.ts";
import { annotationConfigStrategy, putStrategy } from "./operator/reload-rollout.ts";
import { isPodFinished } from "./pod-state.ts";
import type { Instance } from "./status.ts";
import { type Change, type ConfigMap, fail, type Learned, type Pod, type Request, type Result, type Target } from "./types.ts";

export interface ConfigPutView {
  target: Target;
  configMap: ConfigMap | null;
  /** The cluster's server pods: whose reloads a put with `wait` waits for. */
  pods?: Pod[];
  /** The namespace's NatsClusters (a routes file the operator reloads itself is waited for by its status). */
  clusters?: NatsCluster[];
  /** For the history's "replacedAt" and the Event; without it neither is written. */
  now?: string;
  /** Who records the Event. */
  instance?: Instance;
}

/**
 * `_SAT.<cluster>.config.put`: validates, then replaces name and routes in the ConfigMap, based
 * on the revision it read. With `revision` in the request it is a compare-and-swap; with `wait`,
 * the reply also says which servers loaded the new config.
 */
export function configPut(req: Request, view: ConfigPutView): Result {
  const parsed = parsePutRequest(req.data);
  if ("error" in parsed) return fail(parsed.error.code, parsed.error.message);
  return writeRoutes(parsed.value, view, callerOf(req.info));
}

/**
 * `_SAT.<cluster>.config.rollback`: returns the routes file to a config of its history (config.get
 * lists it), as a put of that config would: staged, confirmed with `wait`, itself in the history.
 */
export function configRollback(req: Request, view: ConfigPutView): Result {
  const parsed = parseRollbackRequest(req.data);
  if ("error" in parsed) return fail(parsed.error.code, parsed.error.message);
  const { revision, rest } = parsed.value;
  const entry = historyOf(view.configMap).find((h) => h.revision === revision);
  if (!entry) {
    const known = historyOf(view.configMap).map((h) => h.revision);
    return fail(
      404,
      `revision ${revision} is not in the history (it keeps the last ${historyLimit}: ${known.join(", ") || "none yet"}); config.get lists them`,
    );
  }
  const put = parsePutRequest(
    new TextEncoder().encode(JSON.stringify({ ...(entry.name ? { name: entry.name } : {}), routes: entry.routes, ...rest })),
  );
  if ("error" in put) return fail(put.error.code, put.error.message);
  return writeRoutes(put.value, view, callerOf(req.info), `config.rollback to revision ${revision}`);
}

function writeRoutes(put: PutRequest, view: ConfigPutView, caller: string | undefined, what = "config.put"): Result {
  const cm = view.configMap;
  if (!cm)
    return fail(404, `configmap "${view.target.configMap}" not found in namespace "${view.target.namespace}": create it, or pass -cm`);
  const current = cm.metadata?.resourceVersion ?? "";
  if (put.revision !== undefined && put.revision !== current) {
    return fail(
      409,
      `revision ${put.revision} is stale: the config is at revision ${current} now; read it again with config.get and retry`,
    );
  }
  const loaded = loadRoutesConfig(view.target, cm);
  const missingKey = "error" in loaded && loaded.error.code === 404;
  if ("error" in loaded && !missingKey) {
    if (put.name === undefined) return fail(loaded.error.code, `${loaded.error.message}; or send "name" too`);
  }
  const before: RoutesConfig | undefined = "config" in loaded ? loaded.config : undefined;
  const after: RoutesConfig = { name: put.name ?? before?.name, routes: put.routes, rest: before?.rest ?? {} };
  const text = renderRoutesConfig(after);
  const unchanged = cm.data?.[view.target.key] === text;
  const body = {
    ...where(view.target),
    ...managedBy(cm),
    name: after.name ?? null,
    routes: after.routes,
    ...(unchanged ? {} : { previousRevision: current }),
    changed: !unchanged,
    changes: describeChange(before, after),
  };
  const servers = (view.pods ?? []).filter((p) => !p.metadata?.deletionTimestamp && !isPodFinished(p)).map((p) => p.metadata!.name!);
  const owner = cm.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "NatsCluster")?.name;
  const reloadedByOperator = (cs: NatsCluster[] | undefined) =>
    cs?.find((x) => x.metadata.name === owner && x.spec?.configReload?.mode === "operator");
  if (put.strategy && !reloadedByOperator(view.clusters)) {
    return fail(
      400,
      `"strategy" needs a NatsCluster in configReload.mode operator behind configmap "${view.target.configMap}" (${owner ? `NatsCluster/${owner} reloads otherwise` : "no NatsCluster manages it"}): leave it out`,
    );
  }
  const annotations = { ...cm.metadata?.annotations };
  if (put.strategy)
    annotations[annotationConfigStrategy] = putStrategy(put.strategy, text, reloadedByOperator(view.clusters)?.metadata.generation);
  else delete annotations[annotationConfigStrategy];
  if (before && view.now) {
    annotations[annotationHistory] = withEntry(historyOf(cm), {
      revision: current,
      name: before.name ?? null,
      routes: before.routes,
      replacedAt: view.now,
      ...(caller ? { replacedBy: caller } : {}),
    });
  }
  const outcome = (l: Learned) => {
    const byOperator = reloadedByOperator(l.clusters ?? view.clusters);
    if (!byOperator) return reloadOutcomes(servers, l.reloads ?? {}, l.revision ?? current);
    const reports = reportsFromStatus(byOperator, view.target.site);
    return reloadOutcomes(Object.keys(reports), reports, l.revision ?? current);
  };
  return {
    changes: unchanged
      ? []
      : [
          {
            op: "replace",
            kind: "ConfigMap",
            object: { ...cm, metadata: { ...cm.metadata, annotations }, data: { ...cm.data, [view.target.key]: text } },
          },
          ...(view.now ? [putEvent(cm, what, body.changes, caller, view)] : []),
        ],
    ...(put.waitMs !== undefined ? { wait: { ms: put.waitMs, done: (l: Learned) => outcome(l).done } } : {}),
    reply: (l) => {
      const revision = l.revision ?? current;
      if (l.waitedMs === undefined) return { ok: true, ...body, revision };
      const o = outcome(l);
      return { ok: true, ...body, revision, reload: { complete: o.done, ok: o.done && o.ok, waitedMs: l.waitedMs, servers: o.servers } };
    },
  };
}

/** The Event a change leaves on the routes file: what changed, and who asked (where nats-server says). */
function putEvent(
  cm: ConfigMap,
  what: string,
  c: ReturnType<typeof describeChange>,
  caller: string | undefined,
  view: ConfigPutView,
): Change {
  const parts = [
    c.name ? `name ${c.name.from ?? "(none)"} → ${c.name.to ?? "(none)"}` : "",
    c.routesAdded.length ? `routes added ${c.routesAdded.join(", ")}` : "",
    c.routesRemoved.length ? `routes removed ${c.routesRemoved.join(", ")}` : "",
  ].filter(Boolean);
  const message = `${what} by ${caller ?? "a caller nats-server did not name"}: ${parts.join("; ") || "routes reordered"}`;
  const by = { component: "satellite", instance: view.instance?.id ?? "satellite" };
  return eventChange(
    { apiVersion: "v1", kind: "ConfigMap", metadata: cm.metadata },
    { type: "Normal", reason: "ConfigChanged", message },
    by,
    view.now!,
  );
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
