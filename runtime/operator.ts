import { randomBytes } from "node:crypto";
import {
  type Change,
  type Instance,
  kinds,
  type ObjectOf,
  type OperatorEnv,
  operatorRoutes,
  type ResourceType,
  type Store,
  type WatchedKind,
} from "../handlers/index.ts";
import { certificateReader } from "./certificate-facts.ts";
import { startClusterApis } from "./cluster-apis.ts";
import { applyChanges } from "./effects.ts";
import type { KubeClient } from "./kube/client.ts";
import { type Reflector, startReflector } from "./kube/reflector.ts";
import type { Logger } from "./log.ts";
import { recordReconcile, startOperatorGauges } from "./operator-metrics.ts";
import { createServers } from "./servers.ts";
import { createWorkQueue } from "./workqueue.ts";

export interface OperatorDeps {
  kube: KubeClient;
  /** Undefined: every namespace (-all-namespaces). */
  namespace: string | undefined;
  log: Logger;
  controllerImage: string;
  instance: string;
  workers?: number;
  /** -config-api: serve each cluster's config API on its own NATS, under this site, as this instance. */
  configApi?: { site?: string; instance: Instance };
}

export interface Operator {
  /** Resolves once every cache has listed. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

type Meta = { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> } };
type Caches = { [K in WatchedKind]: Reflector<ObjectOf<K>> };

/** Watches what the routing table names, and runs the reconcile for each cluster a change concerns. */
export function startOperator(d: OperatorDeps): Operator {
  const { kube, namespace, log } = d;
  const caches = Object.fromEntries(
    operatorRoutes.watches.map((w) => [
      w.kind,
      startReflector(kube, kinds[w.kind] as ResourceType<Meta>, { namespace, log, labelSelector: w.labelSelector }),
    ]),
  ) as unknown as Caches;
  const all: Reflector<unknown>[] = Object.values(caches);
  const labelled = (m: Meta["metadata"], labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => m?.labels?.[k] === v);
  const store: Store = {
    get: (kind, ns, name) => caches[kind].get(name, ns),
    list: (kind, ns, labels) =>
      caches[kind].list().filter((o) => (o as Meta).metadata?.namespace === ns && labelled((o as Meta).metadata, labels)),
    everywhere: (kind, match) =>
      caches[kind]
        .list()
        .filter(
          (o) =>
            (match.name === undefined || (o as Meta).metadata?.name === match.name) && labelled((o as Meta).metadata, match.labels ?? {}),
        ),
  };
  const env = (): OperatorEnv => ({
    component: "satellite",
    instance: d.instance,
    controllerImage: d.controllerImage,
    now: new Date().toISOString(),
    entropy: randomBytes(18).toString("base64url"),
    ...(d.configApi?.site ? { site: d.configApi.site } : {}),
  });
  const servers = createServers(log);
  const readCertificates = certificateReader(log);
  const apis = d.configApi ? startClusterApis({ kube, log, ...d.configApi, caches, store }) : undefined;

  const queue = createWorkQueue({
    baseDelayMs: 50,
    maxDelayMs: 120_000,
    onError: (key, e, ms) => {
      log.warn("reconcile failed; retrying", { cluster: key, error: (e as Error).message, retryInMs: Math.round(ms) });
      void reportFailure(key, (e as Error).message);
    },
  });
  for (const [kind, cache] of Object.entries(caches) as [WatchedKind, Reflector<Meta>][]) {
    cache.onChange((_t, o) => {
      for (const key of operatorRoutes.triggers(kind, o, caches.NatsCluster.list())) queue.add(key);
    });
  }
  const synced = Promise.all(all.map((r) => r.synced)).then(() => undefined);
  void synced.then(() => {
    log.info("operator caches synced", { namespace: namespace ?? "(all)", clusters: caches.NatsCluster.list().length });
    queue.run(d.workers ?? 2, (key) => timed(key));
  });
  const stopGauges = startOperatorGauges(caches.NatsCluster, queue);

  const clusterOf = (key: string) => {
    const [ns, name] = key.split("/") as [string, string];
    return caches.NatsCluster.get(name, ns);
  };

  async function timed(key: string): Promise<{ requeueAfterMs?: number } | undefined> {
    const started = performance.now();
    try {
      const r = await reconcile(key, started);
      if (r) recordReconcile(r.changed ? "changed" : "unchanged", performance.now() - started);
      return r?.next;
    } catch (e) {
      recordReconcile("error", performance.now() - started);
      throw e;
    }
  }

  /** Undefined when the cluster is gone. */
  async function reconcile(key: string, started: number) {
    const cluster = clusterOf(key);
    if (!cluster) return;
    const targets = operatorRoutes.serversToObserve(cluster, store);
    const seen = targets.length ? await servers.observe(cluster.metadata.namespace!, targets) : undefined;
    const certificates = readCertificates(operatorRoutes.certificatesToCheck(cluster, store));
    const { changes, requeueAfterMs } = operatorRoutes.reconcile(cluster, store, env(), seen, certificates);
    await apply(changes);
    reported.delete(key);
    const made = changes.filter((c) => c.kind !== "Event" && c.op !== "status");
    if (made.length) log.info("reconciled", { cluster: key, changes: made.map(describe), ms: Math.round(performance.now() - started) });
    return { changed: made.length > 0, next: requeueAfterMs !== undefined ? { requeueAfterMs } : undefined };
  }

  /** The last failure recorded per cluster: a retry that fails alike before its status is back records nothing. */
  const reported = new Map<string, string>();
  /** Best effort: the condition and Event a user sees; the work queue retries the reconcile itself. */
  async function reportFailure(key: string, error: string): Promise<void> {
    const cluster = clusterOf(key);
    if (!cluster || reported.get(key) === error) return;
    reported.set(key, error);
    await apply(operatorRoutes.failed(cluster, error, env())).catch((e) =>
      log.debug("cannot record the failed reconcile on the NatsCluster", { cluster: key, error: (e as Error).message }),
    );
  }

  async function apply(changes: Change[]): Promise<void> {
    for (const change of changes) {
      const [written] = await applyChanges(kube, [change], log, servers);
      const kind = change.op === "token" ? "Secret" : (change.kind as WatchedKind);
      if (written) (caches[kind] as Reflector<unknown> | undefined)?.observe(written);
    }
  }

  return {
    synced,
    async stop() {
      await queue.shutdown();
      stopGauges();
      for (const r of all) r.stop();
      await servers.close();
      await apis?.stop();
    },
  };
}

function describe(c: Change): string {
  return c.op === "delete"
    ? `delete ${c.kind} ${c.name}`
    : c.op === "reload"
      ? `reload ${c.pod}`
      : c.op === "remove-peer"
        ? `remove JetStream peer ${c.server}`
        : c.op === "token"
          ? `token of ServiceAccount ${c.secret.metadata?.namespace}/${c.serviceAccount} into Secret ${c.secret.metadata?.name}`
          : `${c.op} ${c.kind} ${c.object.metadata?.name}`;
}
