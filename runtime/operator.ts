import type { Change, ConfigMap, Kind, Pod, Role, RoleBinding, Secret, Service, ServiceAccount } from "../handlers/types.ts";
import { reloaderAccountName } from "../handlers/operator/desired-objects.ts";
import { labelCluster, routesConfigMapName } from "../handlers/operator/names.ts";
import type { NatsCluster } from "../handlers/operator/natscluster.ts";
import { watchRoutes, type WatchedKind } from "../handlers/index.ts";
import type { ClusterEvent, ReconcileResult } from "../handlers/operator/reconcile.ts";
import { referencedSecrets } from "../handlers/operator/validate.ts";
import { stableJson } from "../handlers/operator/names.ts";
import { applyChanges } from "./effects.ts";
import type { KubeClient } from "./kube/client.ts";
import { configMaps, events as eventsType, natsClusters, pods, roleBindings, roles, secrets, serviceAccounts, services } from "./kube/resources.ts";
import { startReflector, type Reflector } from "./kube/reflector.ts";
import type { Logger } from "./log.ts";
import { createWorkQueue } from "./workqueue.ts";
import { counter } from "./metrics.ts";

const reconciles = counter("satellite_reconciles_total", "NatsCluster reconciles, by result.");

export interface OperatorDeps {
  kube: KubeClient;
  namespace: string;
  log: Logger;
  controllerImage: string;
  instance: string;
  workers?: number;
}

export interface Operator {
  /** Resolves once every cache has listed. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

type Meta = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };

/** Watches NatsClusters and what they own, and runs reconcileCluster for each cluster that changed. */
export function startOperator(d: OperatorDeps): Operator {
  const { kube, namespace, log } = d;
  const opts = { namespace, log };
  const clusters = startReflector<NatsCluster>(kube, natsClusters, opts);
  const podCache = startReflector<Pod>(kube, pods, { ...opts, labelSelector: `app=nats,${labelCluster}` });
  const serviceCache = startReflector<Service>(kube, services, { ...opts, labelSelector: `app=nats,${labelCluster}` });
  const secretCache = startReflector<Secret>(kube, secrets, opts);
  const configMapCache = startReflector<ConfigMap>(kube, configMaps, opts);
  const owned = { ...opts, labelSelector: `app=nats,${labelCluster}` };
  const accountCache = startReflector<ServiceAccount>(kube, serviceAccounts, owned);
  const roleCache = startReflector<Role>(kube, roles, owned);
  const bindingCache = startReflector<RoleBinding>(kube, roleBindings, owned);
  const caches: Record<Kind, Reflector<any>> = {
    Pod: podCache, Service: serviceCache, Secret: secretCache, ConfigMap: configMapCache, ServiceAccount: accountCache, Role: roleCache, RoleBinding: bindingCache,
  };
  const all = Object.values(caches).concat([clusters]);

  const queue = createWorkQueue({
    baseDelayMs: 50,
    maxDelayMs: 120_000,
    onError: (key, e, ms) => {
      reconciles.inc({ result: "error" });
      log.warn("reconcile failed; retrying", { cluster: key, error: (e as Error).message, retryInMs: Math.round(ms) });
    },
  });
  const watched: [WatchedKind, Reflector<any>][] = [["NatsCluster", clusters], ...(Object.entries(caches) as [WatchedKind, Reflector<any>][])];
  for (const [kind, cache] of watched) {
    cache.onChange((_t, o) => {
      for (const key of watchRoutes.triggers(kind, o, clusters.list())) queue.add(key);
    });
  }
  const synced = Promise.all(all.map((r) => r.synced)).then(() => undefined);
  void synced.then(() => {
    log.info("operator caches synced", { namespace, clusters: clusters.list().length });
    queue.run(d.workers ?? 2, (key) => reconcile(key));
  });

  async function reconcile(key: string): Promise<void> {
    const [ns, name] = key.split("/") as [string, string];
    const cluster = clusters.get(name, ns);
    if (!cluster) return;
    const started = performance.now();
    const inCluster = <T extends Meta>(list: T[]) => list.filter((o) => o.metadata?.namespace === ns && o.metadata?.labels?.[labelCluster] === name);
    const result: ReconcileResult = watchRoutes.reconcile({
      cluster,
      pods: inCluster(podCache.list()),
      services: inCluster(serviceCache.list()),
      configSecret: secretCache.get(name, ns) ?? null,
      routesConfigMap: configMapCache.get(routesConfigMapName(name), ns) ?? null,
      secrets: Object.fromEntries(referencedSecrets(cluster).map((s) => [s, secretCache.get(s, ns)])),
      reloaderRbac: {
        serviceAccount: accountCache.get(reloaderAccountName(name), ns),
        role: roleCache.get(reloaderAccountName(name), ns),
        roleBinding: bindingCache.get(reloaderAccountName(name), ns),
      },
      controllerImage: d.controllerImage,
      now: new Date().toISOString(),
    });
    for (const change of result.changes) await apply(change);
    for (const ev of result.events) await emitEvent(cluster, ev);
    if (stableJson(cluster.status ?? {}) !== stableJson(result.status)) {
      const written = await kube.replace<NatsCluster>(natsClusters, { ...cluster, status: result.status }, { subresource: "status" });
      clusters.observe(written);
    }
    reconciles.inc({ result: result.changes.length ? "changed" : "unchanged" });
    if (result.changes.length || result.events.length) {
      log.info("reconciled", { cluster: key, changes: result.changes.map(describe), ms: Math.round(performance.now() - started) });
    }
  }

  async function apply(change: Change): Promise<void> {
    const [written] = await applyChanges(kube, [change]);
    if (written) caches[change.kind].observe(written);
  }

  async function emitEvent(c: NatsCluster, ev: ClusterEvent): Promise<void> {
    const now = new Date().toISOString();
    try {
      await kube.create(eventsType, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { generateName: `${c.metadata.name}.`, namespace: c.metadata.namespace },
        involvedObject: { apiVersion: c.apiVersion, kind: "NatsCluster", name: c.metadata.name, namespace: c.metadata.namespace, uid: c.metadata.uid, resourceVersion: c.metadata.resourceVersion },
        type: ev.type,
        reason: ev.reason,
        message: ev.message,
        source: { component: "satellite" },
        reportingComponent: "satellite",
        reportingInstance: d.instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      });
    } catch (e) {
      log.warn("cannot record event", { cluster: c.metadata.name, reason: ev.reason, error: (e as Error).message });
    }
    (ev.type === "Warning" ? log.warn : log.info)(ev.message, { cluster: `${c.metadata.namespace}/${c.metadata.name}`, reason: ev.reason });
  }

  return {
    synced,
    async stop() {
      await queue.shutdown();
      for (const r of all) r.stop();
    },
  };
}

function describe(c: Change): string {
  return c.op === "delete" ? `delete ${c.kind} ${c.name}` : `${c.op} ${c.kind} ${c.object.metadata?.name}`;
}
