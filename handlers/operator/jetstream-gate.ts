// Rollouts of a JetStream cluster wait for JetStream, not for pod readiness: a server may be
// stopped only while every server's full /healthz is ok (its streams and consumers caught up) and
// the meta group has a leader with every peer current. The meta leader goes last.
import type { Pod } from "../types.ts";
import type { JetStreamStatus } from "./natscluster.ts";
import type { MetaView, ServerObservation } from "./reload-rollout.ts";

/**
 * Why no server may be stopped now (undefined: one may), and what the status shows. While not every
 * server runs JetStream yet (it is being turned on), there is no meta group to wait for: no gate.
 */
export function jetstreamGate(
  pods: Pod[],
  servers: Record<string, ServerObservation | undefined>,
  serverName: (pod: string) => string,
): { wait?: string; status: JetStreamStatus } {
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
  const seen = live.map((pod) => [pod, servers[pod]] as const);
  const notCurrent = seen
    .filter(([, o]) => o && !o.healthy)
    .map(([pod, o]) => ({ server: serverName(pod), error: o!.healthError ?? "/healthz failed" }));
  const leaderName = seen.map(([, o]) => o?.jetstream?.leader).find(Boolean);
  const leaderView = metaOfLeader(pods, servers, serverName);
  // Lag only where a peer is behind: at rest it would change the status with every meta write.
  const peers = (leaderView?.peers ?? []).map(({ lag, ...p }) => (p.current || !lag ? p : { ...p, lag }));
  const status: JetStreamStatus = {
    ...(leaderName ? { metaLeader: leaderName } : {}),
    ...(peers.length ? { peers } : {}),
    ...(notCurrent.length ? { notCurrent } : {}),
  };
  const unseen = seen.filter(([, o]) => !o).map(([pod]) => pod);
  if (unseen.length) return { wait: `no answer from the monitoring port of ${unseen.join(", ")}`, status };
  if (seen.some(([, o]) => !o!.jetstream?.enabled)) return { status };
  if (notCurrent.length) return { wait: `not current: ${notCurrent.map((n) => `${n.server} (${n.error})`).join("; ")}`, status };
  if (!leaderName) return { wait: "the JetStream meta group has no leader", status };
  // Peers no pod backs (stale) are reported, not waited for: they may never come back.
  const backed = new Set(pods.map((p) => serverName(p.metadata!.name!)));
  const behind = peers.filter((p) => backed.has(p.name) && (!p.current || p.offline)).map((p) => p.name);
  if (behind.length) return { wait: `meta group peers not current: ${behind.join(", ")}`, status };
  return { status };
}

/** The meta group as its leader sees it (only the leader knows the others' lag). */
export function metaOfLeader(
  pods: Pod[],
  servers: Record<string, ServerObservation | undefined>,
  serverName: (pod: string) => string,
): MetaView | undefined {
  const leader = Object.values(servers)
    .map((o) => o?.jetstream?.leader)
    .find(Boolean);
  const pod = pods.find((p) => serverName(p.metadata!.name!) === leader);
  return pod ? servers[pod.metadata!.name!]?.jetstream : undefined;
}

/** The order to replace pods in: highest index first, the meta leader last. */
export function leaderLast(pods: Pod[], metaLeader: string | undefined, serverName: (pod: string) => string): Pod[] {
  return [...pods].sort(
    (a, b) => Number(serverName(a.metadata!.name!) === metaLeader) - Number(serverName(b.metadata!.name!) === metaLeader),
  );
}

type Stream = NonNullable<MetaView["streams"]>[number];

/** Every stream any server reports, once, with the servers all of them name for it. */
export function streamsSeen(servers: Record<string, ServerObservation | undefined>): Stream[] {
  const byName = new Map<string, Stream>();
  for (const o of Object.values(servers))
    for (const st of o?.jetstream?.streams ?? []) {
      const key = `${st.account}/${st.name}`;
      const had = byName.get(key);
      byName.set(key, { ...st, servers: [...new Set([...(had?.servers ?? []), ...st.servers])] });
    }
  return [...byName.values()];
}

/** Why shrinking to `size`, removing the servers `removing`, would lose data (undefined: it would not). */
export function scaleDownRefusal(streams: Stream[], size: number, removing: string[]): string | undefined {
  const why: string[] = [];
  for (const st of streams) {
    const name = `stream ${st.name} (account ${st.account})`;
    if (st.replicas > size)
      why.push(
        `${name} has ${st.replicas} replicas, more than ${size} servers can hold: lower them first (nats stream edit ${st.name} --replicas ${size})`,
      );
    else if (st.servers.length && st.servers.every((s) => removing.includes(s)))
      why.push(`${name} is kept only on ${st.servers.join(", ")}, which would be removed: move it to another server first`);
  }
  return why.length ? why.join("; ") : undefined;
}

/**
 * Meta group peers no pod backs: those of servers this operator removed in a scale-down that
 * passed its check (`removed`) leave the group (their streams' replicas go to the servers that
 * remain); any other is only reported (a server restarting, one gone by itself, another cluster's).
 */
export function stalePeers(pods: Pod[], meta: MetaView | undefined, serverName: (pod: string) => string, removed: string[]) {
  const backed = new Set(pods.map((p) => serverName(p.metadata!.name!)));
  const gone = (meta?.peers ?? []).filter((p) => p.offline && !backed.has(p.name)).map((p) => p.name);
  return { remove: gone.filter((s) => removed.includes(s)), stale: gone.filter((s) => !removed.includes(s)) };
}
