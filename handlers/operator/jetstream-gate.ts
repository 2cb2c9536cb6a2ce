// Rollouts of a JetStream cluster wait for JetStream, not for pod readiness: a server may be
// stopped only while every server's full /healthz is ok (its streams and consumers caught up) and
// the meta group has a leader with every peer current. The meta leader goes last.
import type { Pod } from "../types.ts";
import type { JetStreamStatus } from "./natscluster.ts";
import type { ServerObservation } from "./reload-rollout.ts";

/** Why no server may be stopped now (undefined: one may), and what the status shows. */
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
  const leaderView = seen.find(([pod]) => serverName(pod) === leaderName)?.[1]?.jetstream;
  const peers = leaderView?.peers ?? [];
  const status: JetStreamStatus = {
    ...(leaderName ? { metaLeader: leaderName } : {}),
    ...(peers.length ? { peers } : {}),
    ...(notCurrent.length ? { notCurrent } : {}),
  };
  const unseen = seen.filter(([, o]) => !o).map(([pod]) => pod);
  if (unseen.length) return { wait: `no answer from the monitoring port of ${unseen.join(", ")}`, status };
  if (notCurrent.length) return { wait: `not current: ${notCurrent.map((n) => `${n.server} (${n.error})`).join("; ")}`, status };
  if (!leaderName) return { wait: "the JetStream meta group has no leader", status };
  const behind = peers.filter((p) => !p.current || p.offline).map((p) => p.name);
  if (behind.length) return { wait: `meta group peers not current: ${behind.join(", ")}`, status };
  return { status };
}

/** The order to replace pods in: highest index first, the meta leader last. */
export function leaderLast(pods: Pod[], metaLeader: string | undefined, serverName: (pod: string) => string): Pod[] {
  return [...pods].sort(
    (a, b) => Number(serverName(a.metadata!.name!) === metaLeader) - Number(serverName(b.metadata!.name!) === metaLeader),
  );
}
