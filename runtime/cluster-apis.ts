// -config-api: the operator serves the config API of every NatsCluster it runs on that cluster's
// own NATS, so a ground reaches each one through the cluster's leafnode links, with nothing else to
// deploy. Per cluster: one NATS connection and one NATS service; reads come from the operator's
// caches, so an idle cluster costs the API server nothing. Where clients must authenticate, it
// connects as the user the operator renders into the cluster's authorization for this.
import type { Service } from "@nats-io/services";
import { type ConfigMap, type Instance, type NatsCluster, operatorRoutes, type Pod, type Store } from "../handlers/index.ts";
import { startConfigApi } from "./config-api.ts";
import type { KubeClient } from "./kube/client.ts";
import type { Reflector } from "./kube/reflector.ts";
import { scoped } from "./kube/scoped.ts";
import type { Logger } from "./log.ts";
import { connectNats } from "./nats/connect.ts";

type Caches = { NatsCluster: Reflector<NatsCluster>; Pod: Reflector<Pod>; ConfigMap: Reflector<ConfigMap> };

export function startClusterApis(d: { kube: KubeClient; log: Logger; site?: string; instance: Instance; caches: Caches; store: Store }) {
  const running = new Map<string, { key: string; nc: Promise<unknown>; stop(): Promise<void> }>();
  const said = new Map<string, string>();
  let stopped = false;

  function start(id: string, api: Extract<ReturnType<typeof operatorRoutes.configApiOf>, { target: unknown }>) {
    const log = d.log.with({ cluster: id });
    let svc: Service | undefined;
    const { urls, ca, user, password, tlsNames, cert, key } = api.connect;
    // The password the operator made may not be loaded by the servers yet: keep trying.
    const nc = connectNats(
      {
        servers: urls,
        name: `satellite operator ${id} config API`,
        tlsCaPem: ca,
        tlsNames,
        tlsCertPem: cert,
        tlsKeyPem: key,
        user,
        password,
        retryAuthErrors: true,
      },
      log,
    );
    const ns = api.target.namespace;
    const ready = nc.then(async (c) => {
      svc = await startConfigApi({
        nc: c,
        kube: d.kube,
        target: api.target,
        podSelector: api.podSelector,
        instance: d.instance,
        log,
        configMapCache: scoped(d.caches.ConfigMap, ns, () => true),
        podCache: scoped(d.caches.Pod, ns, (p) => p.metadata?.labels?.nats_cluster === api.target.cluster),
        clusterCache: scoped(d.caches.NatsCluster, ns, () => true),
      });
      log.info("serving the cluster's config API on its NATS", {
        subjects: `${api.target.site ? `_SAT.${api.target.site}` : "_SAT"}.${api.target.cluster}.>`,
      });
    });
    ready.catch((e) => {
      log.warn("cannot serve the cluster's config API; trying again", { error: (e as Error).message });
      const r = running.get(id);
      if (r?.nc === nc) running.delete(id);
      setTimeout(soon, 5_000);
    });
    return {
      nc,
      stop: async () => {
        await ready.catch(() => undefined);
        await svc?.stop().catch(() => undefined);
        await nc.then((c) => c.close()).catch(() => undefined);
      },
    };
  }

  function sync() {
    if (stopped) return;
    const seen = new Set<string>();
    for (const cluster of d.caches.NatsCluster.list()) {
      const id = `${cluster.metadata.namespace}/${cluster.metadata.name}`;
      seen.add(id);
      const api = operatorRoutes.configApiOf(cluster, d.store, d.site);
      if ("skip" in api) {
        if (said.get(id) !== api.skip) d.log.info("not serving a cluster's config API", { cluster: id, why: api.skip });
        said.set(id, api.skip);
        const r = running.get(id);
        running.delete(id);
        void r?.stop();
        continue;
      }
      said.delete(id);
      // The NATS client follows the cluster's servers by itself; a new CA, password or certificate needs a new connection.
      const key = `${api.connect.ca ?? ""}\n${api.connect.password ?? ""}\n${api.connect.cert ?? ""}`;
      if (running.get(id)?.key === key) continue;
      void running.get(id)?.stop();
      running.set(id, { key, ...start(id, api) });
    }
    for (const [id, r] of running) {
      if (seen.has(id)) continue;
      running.delete(id);
      void r.stop();
    }
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(sync, 100);
  };
  for (const c of [d.caches.NatsCluster, d.caches.Pod]) c.onChange(soon);
  void Promise.all([d.caches.NatsCluster.synced, d.caches.Pod.synced]).then(soon);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...running.values()].map((r) => r.stop()));
      running.clear();
    },
  };
}
