import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm, type Service, type ServiceMsg } from "@nats-io/services";
import { natsRoutes, type ApiView, type NatsRoute } from "../handlers/index.ts";
import type { Instance } from "../handlers/status.ts";
import type { Reply, Result, Target } from "../handlers/types.ts";
import { applyChanges } from "./effects.ts";
import type { KubeClient } from "./kube/client.ts";
import { KubeError, isConflict, isNotFound } from "./kube/errors.ts";
import { configMaps } from "./kube/resources.ts";
import type { Reflector } from "./kube/reflector.ts";
import type { ConfigMap } from "../handlers/types.ts";
import { keyedLock } from "./keyed-lock.ts";
import type { Logger } from "./log.ts";
import { counter } from "./metrics.ts";
import { reloadOutcomes } from "../handlers/config/reload-wait.ts";
import { followReloadReports, type ReloadReports } from "./reload-reports.ts";
import { isPodFinished } from "../handlers/pod-state.ts";
import type { Pod } from "../handlers/types.ts";

export interface ConfigApiDeps {
  nc: NatsConnection;
  kube: KubeClient;
  target: Target;
  podSelector: string;
  instance: Instance;
  log: Logger;
  /** Queue group shared by replicas. */
  queue?: string;
  /** A watch-fed cache of the ConfigMap: lets a put skip its GET; conflicts fall back to a fresh read. */
  configMapCache?: Reflector<ConfigMap>;
  /**
   * A watch-fed cache of the cluster's server pods (`podSelector`): status and a put's wait read it,
   * so requests from the ground cost the API server nothing. (A consistent LIST took ~95 ms here:
   * the API server first waits for its watch cache to catch up with etcd.)
   */
  podCache: Reflector<Pod>;
}

const maxConflictRetries = 20;
const served = counter("satellite_nats_requests_total", "Config API requests over NATS, by endpoint and reply code.");

/** Registers the routing table's endpoints as a NATS service (visible to `nats micro ls`). */
export async function startConfigApi(d: ConfigApiDeps): Promise<Service> {
  const svc = await new Svcm(d.nc).add({
    name: "satellite",
    version: d.instance.version,
    description: `satellite config API for NATS cluster ${d.target.cluster} in namespace ${d.target.namespace}`,
    // No service-wide queue: the library would put discover in it too (it ignores an endpoint's "").
    queue: "",
    metadata: { cluster: d.target.cluster, namespace: d.target.namespace, configMap: d.target.configMap },
  });
  const withLock = keyedLock();
  const reports = followReloadReports(d.nc, d.target.cluster, d.log);
  for (const route of natsRoutes) {
    svc.addEndpoint(route.name, {
      subject: route.subject(d.target.cluster),
      queue: route.queued ? d.queue ?? "q" : "",
      metadata: { cluster: d.target.cluster },
      handler: (err, msg) => {
        if (err) {
          d.log.error("endpoint stopped", { endpoint: route.name, error: err.message });
          return;
        }
        void serveRequest(d, route, msg, (fn) => (route.writes ? withLock(d.target.cluster, fn) : fn()), reports);
      },
    });
  }
  // Once the server has every subscription: a request sent right after "serving" could otherwise
  // still meet "no responders" (the bench did, once).
  await d.nc.flush();
  return svc;
}

async function serveRequest(
  d: ConfigApiDeps,
  route: NatsRoute,
  msg: ServiceMsg,
  serialized: <T>(fn: () => Promise<T>) => Promise<T>,
  reports: ReloadReports,
): Promise<void> {
  const started = performance.now();
  let attempts = 0;
  let reply: Reply;
  try {
    const { reply: written, waitForReloadMs } = await serialized(() => runWithRetries(d, route, msg, reports, () => attempts++));
    reply = written;
    if (waitForReloadMs !== undefined && !written.error) {
      reply = { ...written, reload: await waitForReload(d, reports, String(written.revision), waitForReloadMs) };
    }
  } catch (e) {
    reply = { error: infrastructureError(e, d.target) };
  }
  const fields: Record<string, unknown> = {
    subject: msg.subject,
    ms: Math.round((performance.now() - started) * 100) / 100,
    attempts,
  };
  served.inc({ endpoint: route.name, code: reply.error ? String(reply.error.code) : "200" });
  if (reply.error) {
    msg.respondError(reply.error.code, reply.error.message, JSON.stringify(reply));
    d.log.warn("request failed", { ...fields, code: reply.error.code, error: reply.error.message });
  } else {
    msg.respond(JSON.stringify(reply));
    d.log.info("request served", { ...fields, revision: reply.revision, changed: reply.changed });
  }
}

async function runWithRetries(
  d: ConfigApiDeps,
  route: NatsRoute,
  msg: ServiceMsg,
  reports: ReloadReports,
  count: () => void,
): Promise<{ reply: Reply; waitForReloadMs?: number }> {
  for (let attempt = 0; ; attempt++) {
    count();
    const cache = attempt === 0 && d.configMapCache?.isSynced() ? d.configMapCache : undefined;
    const cached = cache?.get(d.target.configMap);
    // Reads answer from the watch cache (absent there is absent): the ground cannot turn requests
    // into API-server load. A write from it is re-checked on fresh state below unless it is clean.
    const view = await loadView(d, route, route.writes ? cached : cache ? cached ?? null : undefined, reports);
    const result: Result = route.handle({ subject: msg.subject, data: msg.data }, view);
    // An answer from a cached view that is not a clean write is re-checked on fresh state.
    if (route.writes && cached && (result.reply.error || !result.changes.length)) continue;
    if (!result.changes.length || result.reply.error) return result;
    try {
      const written = await applyChanges(d.kube, result.changes);
      for (const w of written) if (w?.metadata?.name === d.target.configMap) d.configMapCache?.observe(w);
      return { ...result, reply: { ...result.reply, revision: written.at(-1)?.metadata?.resourceVersion } as Reply };
    } catch (e) {
      if (!isConflict(e)) throw e;
      if (attempt >= maxConflictRetries) {
        return { reply: { error: { code: 409, message: `the config kept changing under this request (${attempt + 1} conflicting writes): try again` } } };
      }
      d.log.debug("write conflict; retrying on fresh state", { subject: msg.subject, attempt });
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
  }
}

/** Waits until every server pod reports the config of `revision` (or later) loaded or refused, or the time is up. */
async function waitForReload(d: ConfigApiDeps, reports: ReloadReports, revision: string, ms: number) {
  const started = Date.now();
  await d.podCache.synced;
  const expected = d.podCache.list()
    .filter((p) => !p.metadata?.deletionTimestamp && !isPodFinished(p))
    .map((p) => p.metadata!.name!);
  if (expected.some((pod) => !reports.has(pod))) reports.ask();
  for (;;) {
    const outcome = reloadOutcomes(expected, reports.latest(), revision);
    const waitedMs = Date.now() - started;
    if (outcome.done || waitedMs >= ms) return { complete: outcome.done, ok: outcome.done && outcome.ok, waitedMs, servers: outcome.servers };
    await reports.next(ms - waitedMs);
  }
}

/** `cached`: the ConfigMap from the watch cache, null when the cache knows it is absent, undefined to GET it. */
async function loadView(d: ConfigApiDeps, route: NatsRoute, cached: ConfigMap | null | undefined, reports: ReloadReports): Promise<ApiView> {
  const { namespace, configMap } = d.target;
  const [cm] = await Promise.all([
    cached !== undefined ? cached : route.needs.configMap ? d.kube.get(configMaps, { namespace, name: configMap }).catch((e) => (isNotFound(e) ? null : Promise.reject(e))) : null,
    route.needs.pods ? d.podCache.synced : undefined,
  ]);
  const servers = route.needs.pods ? d.podCache.list() : [];
  return { target: d.target, instance: d.instance, podSelector: d.podSelector, configMap: cm, pods: servers, reloads: route.needs.reloads ? reports.latest() : {} };
}

function infrastructureError(e: unknown, t: Target): { code: number; message: string } {
  if (e instanceof KubeError) {
    if (e.status === 403) {
      return { code: 500, message: `the controller is not allowed to do this in namespace "${t.namespace}" (${e.message}): grant it with the Role in manifests/` };
    }
    if (e.status === 429 || e.status >= 500) return { code: 503, message: `the Kubernetes API is busy or failing (${e.message}): try again` };
    return { code: 500, message: `the Kubernetes API refused the request: ${e.message}` };
  }
  return { code: 503, message: `the Kubernetes API cannot be reached: ${(e as Error).message}` };
}
