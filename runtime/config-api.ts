import type { NatsConnection } from "@nats-io/nats-core";
import { type Service, type ServiceMsg, Svcm } from "@nats-io/services";
import {
  type ApiView,
  type ConfigMap,
  configApi,
  type Failure,
  type Instance,
  kinds,
  type Learned,
  type NatsCluster,
  type NatsRoute,
  natsRoutes,
  type Pod,
  type Reply,
  type Result,
  type Target,
} from "../handlers/index.ts";
import { applyChanges } from "./effects.ts";
import { keyedLock } from "./keyed-lock.ts";
import type { KubeClient } from "./kube/client.ts";
import { isConflict, isNotFound, KubeError } from "./kube/errors.ts";
import type { Reflector } from "./kube/reflector.ts";
import type { Logger } from "./log.ts";
import { counter, histogram } from "./metrics.ts";
import { followReloadReports, type ReloadReports } from "./reload-reports.ts";

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
  /** The namespace's NatsClusters, where the API serves them: their status tracks the operator's own reloads. */
  clusterCache?: Reflector<NatsCluster>;
}

const maxConflictRetries = 20;
const served = counter("satellite_nats_requests_total", "Config API requests over NATS, by endpoint and reply code.");
const servedSeconds = histogram(
  "satellite_config_api_request_duration_seconds",
  "How long config API requests over NATS took to answer (a put's wait for reloads included), by endpoint and reply code.",
);

/** Registers the routing table's endpoints as a NATS service (visible to `nats micro ls`). */
export async function startConfigApi(d: ConfigApiDeps): Promise<Service> {
  const svc = await new Svcm(d.nc).add({
    name: "satellite",
    version: d.instance.version,
    description: `satellite config API for NATS cluster ${d.target.cluster} in namespace ${d.target.namespace}`,
    // No service-wide queue: the library would put discover in it too (it ignores an endpoint's "").
    queue: "",
    metadata: {
      ...(d.target.site ? { site: d.target.site } : {}),
      cluster: d.target.cluster,
      namespace: d.target.namespace,
      configMap: d.target.configMap,
    },
  });
  const withLock = keyedLock();
  const reports = followReloadReports(d.nc, { namespace: d.target.namespace, name: d.target.cluster }, d.log);
  for (const route of natsRoutes) {
    svc.addEndpoint(route.name, {
      subject: route.subject(d.target),
      queue: route.queued ? (d.queue ?? "q") : "",
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

/** NATS message → view → handler → changes → (reload reports) → the handler's reply. */
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
    const { result, learned } = await serialized(() => runWithRetries(d, route, msg, reports, () => attempts++));
    if (result.wait) await waitForReloads(d, reports, result.wait, learned);
    reply = result.reply(learned);
  } catch (e) {
    reply = configApi.failed(e instanceof RetriesExhausted ? { kind: "conflicts", attempts: e.attempts } : apiFailure(e), d.target);
  }
  const fields: Record<string, unknown> = {
    subject: msg.subject,
    ms: Math.round((performance.now() - started) * 100) / 100,
    attempts,
  };
  const outcome = { endpoint: route.name, code: reply.error ? String(reply.error.code) : "200" };
  served.inc(outcome);
  servedSeconds.observe(outcome, (performance.now() - started) / 1000);
  if (reply.error) {
    msg.respondError(reply.error.code, reply.error.message, JSON.stringify(reply));
    d.log.warn("request failed", { ...fields, code: reply.error.code, error: reply.error.message });
  } else {
    msg.respond(JSON.stringify(reply));
    d.log.info("request served", { ...fields, revision: reply.revision, changed: reply.changed });
  }
}

class RetriesExhausted extends Error {
  constructor(readonly attempts: number) {
    super(`${attempts} conflicting writes`);
  }
}

/** Runs the handler on the current state and applies its changes; a conflicting write runs it again on fresh state. */
async function runWithRetries(
  d: ConfigApiDeps,
  route: NatsRoute,
  msg: ServiceMsg,
  reports: ReloadReports,
  count: () => void,
): Promise<{ result: Result; learned: Learned }> {
  for (let attempt = 0; ; attempt++) {
    count();
    const cache = attempt === 0 && d.configMapCache?.isSynced() ? d.configMapCache : undefined;
    const cached = cache?.get(d.target.configMap);
    // Reads answer from the watch cache (absent there is absent): the ground cannot turn requests
    // into API-server load. A write from it is re-checked on fresh state below unless it is clean.
    const view = await loadView(d, route, route.writes ? cached : cache ? (cached ?? null) : undefined, reports);
    const result = route.handle({ subject: msg.subject, data: msg.data, info: msg.headers?.get("Nats-Request-Info") || undefined }, view);
    if (!result.changes.length) {
      // An answer from a cached view that changes nothing (or refuses) is re-checked on fresh state.
      if (route.writes && cached) continue;
      return { result, learned: {} };
    }
    try {
      // The reply waits for the writes, not for the Events they leave (best effort, recorded after).
      const isEvent = (c: Result["changes"][number]) => c.op === "create" && c.kind === "Event";
      const written = await applyChanges(
        d.kube,
        result.changes.filter((c) => !isEvent(c)),
        d.log,
      );
      void applyChanges(d.kube, result.changes.filter(isEvent), d.log);
      for (const w of written) if (w?.metadata?.name === d.target.configMap) d.configMapCache?.observe(w as ConfigMap);
      return { result, learned: { revision: written.at(-1)?.metadata?.resourceVersion } };
    } catch (e) {
      if (!isConflict(e)) throw e;
      if (attempt >= maxConflictRetries) throw new RetriesExhausted(attempt + 1);
      d.log.debug("write conflict; retrying on fresh state", { subject: msg.subject, attempt });
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
  }
}

/** How often a wait asks again for the reports it lacks (one lost while a route forms, or sent before a reloader listened). */
const askAgainMs = 1_000;

/** Follows the servers' reload reports (and NatsCluster status) into `learned` until the handler says it is done, or the time is up. */
async function waitForReloads(
  d: ConfigApiDeps,
  reports: ReloadReports,
  wait: NonNullable<Result["wait"]>,
  learned: Learned,
): Promise<void> {
  const started = Date.now();
  let asked = started;
  reports.ask();
  for (;;) {
    learned.reloads = reports.latest();
    learned.clusters = d.clusterCache?.list() ?? [];
    learned.waitedMs = Date.now() - started;
    if (wait.done(learned) || learned.waitedMs >= wait.ms) return;
    if (Date.now() - asked >= askAgainMs) {
      reports.ask();
      asked = Date.now();
    }
    const until = Math.min(wait.ms - learned.waitedMs, askAgainMs);
    await Promise.race([reports.next(until), d.clusterCache ? nextChange(d.clusterCache, until) : new Promise(() => {})]);
  }
}

/** Resolves at the cache's next change, or after `ms`. */
function nextChange(cache: Reflector<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const off = cache.onChange(() => done());
    function done() {
      clearTimeout(timer);
      off();
      resolve();
    }
  });
}

/** `cached`: the ConfigMap from the watch cache, null when the cache knows it is absent, undefined to GET it. */
async function loadView(
  d: ConfigApiDeps,
  route: NatsRoute,
  cached: ConfigMap | null | undefined,
  reports: ReloadReports,
): Promise<ApiView> {
  const { namespace, configMap } = d.target;
  const [cm] = await Promise.all([
    cached !== undefined
      ? cached
      : route.needs.configMap
        ? d.kube.get(kinds.ConfigMap, { namespace, name: configMap }).catch((e) => (isNotFound(e) ? null : Promise.reject(e)))
        : null,
    route.needs.pods ? d.podCache.synced : undefined,
  ]);
  const servers = route.needs.pods ? d.podCache.list() : [];
  return {
    target: d.target,
    instance: d.instance,
    podSelector: d.podSelector,
    configMap: cm,
    pods: servers,
    reloads: route.needs.reloads ? reports.latest() : {},
    clusters: route.needs.clusters ? (d.clusterCache?.list() ?? []) : [],
    now: new Date().toISOString(),
  };
}

function apiFailure(e: unknown): Failure {
  return { kind: "api", status: e instanceof KubeError ? e.status : undefined, message: (e as Error).message };
}
