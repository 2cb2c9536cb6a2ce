// configReload.mode operator: the operator's own view of each server (its monitoring endpoint) and
// its reloads over NATS as the system user. One NATS connection per cluster, made on first use.
import type { NatsConnection } from "@nats-io/nats-core";
import type { MetaView, PeerRemove, ServerObservation, ServerReload } from "../handlers/index.ts";
import type { Logger } from "./log.ts";
import { connectNats } from "./nats/connect.ts";
import { recordReload } from "./reload-metrics.ts";
import { monitorGet, type Varz } from "./reloader/server.ts";

const monitorPort = 8222;
const reloadTimeoutMs = 5_000;

export interface Servers {
  /** /varz, /healthz and /routez of each server, with the last reload of it; unreachable ones are left out. */
  observe(namespace: string, targets: { pod: string; ip: string; jetstream?: boolean }[]): Promise<Record<string, ServerObservation>>;
  reload(r: ServerReload): Promise<void>;
  removePeer(r: PeerRemove): Promise<void>;
  close(): Promise<void>;
}

type Jsz = {
  disabled?: boolean;
  meta_cluster?: { leader?: string; replicas?: { name: string; current: boolean; lag?: number; offline?: boolean }[] };
  account_details?: {
    name: string;
    stream_detail?: { name: string; config?: { num_replicas?: number }; cluster?: { leader?: string; replicas?: { name: string }[] } }[];
  }[];
};
const metaOf = (j: Jsz): MetaView => ({
  enabled: !j.disabled,
  ...(j.meta_cluster?.leader ? { leader: j.meta_cluster.leader } : {}),
  peers: (j.meta_cluster?.replicas ?? []).map((r) => ({
    name: r.name,
    current: r.current,
    ...(r.lag ? { lag: r.lag } : {}),
    ...(r.offline ? { offline: true } : {}),
  })),
  streams: (j.account_details ?? []).flatMap((a) =>
    (a.stream_detail ?? []).map((st) => ({
      account: a.name,
      name: st.name,
      replicas: st.config?.num_replicas ?? 1,
      servers: [st.cluster?.leader, ...(st.cluster?.replicas ?? []).map((r) => r.name)].filter((x): x is string => Boolean(x)),
    })),
  ),
});

export function createServers(log: Logger): Servers {
  const lastReload = new Map<string, ServerObservation["lastReload"]>();
  const connections = new Map<string, { key: string; nc: Promise<NatsConnection> }>();

  async function observeOne(ip: string, jetstream: boolean): Promise<Omit<ServerObservation, "lastReload"> | undefined> {
    const url = `http://${ip.includes(":") ? `[${ip}]` : ip}:${monitorPort}`;
    try {
      const [varz, health, routez, jsz] = await Promise.all([
        monitorGet<Varz>(url, "varz"),
        monitorGet(url, "healthz").then(
          () => ({ healthy: true }),
          (e: Error) => ({ healthy: false, healthError: e.message }),
        ),
        monitorGet<{ routes?: { remote_name?: string; remote_id?: string }[] }>(url, "routez").catch(() => ({ routes: [] })),
        jetstream ? monitorGet<Jsz>(url, "jsz?accounts=true&streams=true&config=true").catch(() => undefined) : undefined,
      ]);
      const peers = new Set((routez.routes ?? []).map((r) => r.remote_name || r.remote_id));
      // Without its /jsz, nothing may be decided about a JetStream server's streams.
      const judged = jetstream && !jsz ? { healthy: false, healthError: "no answer from /jsz" } : health;
      return {
        serverId: varz.server_id,
        digest: varz.config_digest,
        ...judged,
        routes: peers.size,
        leafnodes: varz.leafnodes ?? 0,
        ...(jsz ? { jetstream: metaOf(jsz) } : {}),
      };
    } catch {
      return undefined;
    }
  }

  function connection(r: ServerReload | PeerRemove): Promise<NatsConnection> {
    const id = `${r.namespace}/${r.cluster}`;
    const key = JSON.stringify(r.connect);
    const have = connections.get(id);
    if (have?.key === key) return have.nc;
    if (have) void have.nc.then((nc) => nc.close()).catch(() => undefined);
    const nc = connectNats(
      {
        servers: r.connect.urls,
        name: `satellite operator ${id}`,
        user: r.connect.user,
        password: r.connect.password,
        ...(r.connect.creds ? { credsText: r.connect.creds } : {}),
        retryAuthErrors: true,
        ...(r.connect.ca ? { tlsCaPem: r.connect.ca, tlsNames: r.connect.tlsNames } : {}),
        ...(r.connect.cert && r.connect.key ? { tlsCertPem: r.connect.cert, tlsKeyPem: r.connect.key } : {}),
      },
      log,
    );
    nc.catch(() => connections.delete(id));
    connections.set(id, { key, nc });
    return nc;
  }

  return {
    async observe(namespace, targets) {
      const seen = await Promise.all(targets.map(async (t) => [t.pod, await observeOne(t.ip, Boolean(t.jetstream))] as const));
      const out: Record<string, ServerObservation> = {};
      for (const [pod, o] of seen) if (o) out[pod] = { ...o, lastReload: lastReload.get(`${namespace}/${pod}`) };
      return out;
    },
    async removePeer(r) {
      try {
        const nc = await withTimeout(connection(r), reloadTimeoutMs, "no connection to the cluster's NATS");
        const m = await nc.request("$JS.API.SERVER.REMOVE", JSON.stringify({ peer: r.server }), { timeout: reloadTimeoutMs });
        const reply = JSON.parse(m.string()) as { success?: boolean; error?: { description?: string } };
        if (reply.error) throw new Error(reply.error.description ?? "no reason given");
        log.info("removed a server that is gone from the JetStream meta group", {
          cluster: `${r.namespace}/${r.cluster}`,
          server: r.server,
        });
      } catch (e) {
        log.warn("cannot remove a JetStream peer", {
          cluster: `${r.namespace}/${r.cluster}`,
          server: r.server,
          error: (e as Error).message,
        });
      }
    },
    async reload(r) {
      const at = () => new Date().toISOString();
      let asked: number | undefined;
      const record = (outcome: "reloaded" | "refused" | "failed", error?: string) => {
        lastReload.set(`${r.namespace}/${r.pod}`, { digest: r.digest, outcome, ...(error ? { error } : {}), at: at() });
        recordReload({ namespace: r.namespace, name: r.cluster }, "operator", outcome, asked && performance.now() - asked);
      };
      try {
        const nc = await withTimeout(connection(r), reloadTimeoutMs, "no connection to the cluster's NATS");
        asked = performance.now();
        const m = await nc.request(`$SYS.REQ.SERVER.${r.serverId}.RELOAD`, "", { timeout: reloadTimeoutMs });
        const reply = JSON.parse(m.string()) as { error?: { description?: string } };
        if (reply.error) {
          record("refused", `nats-server refused the config: ${reply.error.description ?? "no reason given"}`);
          log.warn("nats-server refused the config", { pod: `${r.namespace}/${r.pod}`, error: reply.error.description });
        } else record("reloaded");
      } catch (e) {
        record("failed", (e as Error).message);
        log.warn("cannot reload a server over NATS", { pod: `${r.namespace}/${r.pod}`, error: (e as Error).message });
      }
    },
    async close() {
      await Promise.all([...connections.values()].map((c) => c.nc.then((nc) => nc.close()).catch(() => undefined)));
      connections.clear();
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
