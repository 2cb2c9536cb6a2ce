// Leader election for operator replicas, by a coordination.k8s.io Lease as client-go's
// leaderelection does it: the holder renews the lease; the others take it once it has not been
// renewed for its duration; the holder that stops gives it up for a quick handover.
import type { V1Lease } from "@kubernetes/client-node";

export const leaseDurationSeconds = 15;

export type LeaseStep =
  /** Write this lease (create when there is none): it makes `me` the holder, or renews it. */
  | { action: "create" | "update"; lease: V1Lease; leading: true; tookOver: boolean }
  /** Another replica holds a live lease. */
  | { action: "wait"; leading: false; holder: string; expiresInMs: number };

const ms = (t: unknown) => (t ? Date.parse(String(t)) : Number.NaN);
/** A Lease's times are MicroTime: RFC 3339 with exactly six fractional digits. */
const micro = (iso: string) => iso.replace(/\.(\d{3})Z$/, ".$1000Z");

/**
 * What `me` does next with the lease `name` as it is now (null: absent). `seenAt`: when this
 * replica first saw the lease's current renewal, by its own clock (as client-go does, so clocks
 * that differ between nodes do not matter); else the renewTime written in it.
 */
export function leaseStep(lease: V1Lease | null, me: string, name: string, namespace: string, now: string, seenAt?: string): LeaseStep {
  const spec = lease?.spec ?? {};
  const holder = spec.holderIdentity ?? "";
  const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
  const renewed = ms(seenAt ?? spec.renewTime ?? spec.acquireTime);
  const expiresInMs = Number.isNaN(renewed) ? 0 : renewed + duration - Date.parse(now);
  if (lease && holder && holder !== me && expiresInMs > 0) return { action: "wait", leading: false, holder, expiresInMs };
  const mine = holder === me;
  const next: V1Lease = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: lease?.metadata ?? { name, namespace },
    spec: {
      holderIdentity: me,
      leaseDurationSeconds,
      acquireTime: (mine ? spec.acquireTime : micro(now)) as unknown as Date,
      renewTime: micro(now) as unknown as Date,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine || !lease ? 0 : 1),
    },
  };
  return { action: lease ? "update" : "create", lease: next, leading: true, tookOver: !mine };
}

/** The lease given up by its holder `me`: expired at once, so another replica takes it at its next try. */
export function releasedLease(lease: V1Lease, me: string): V1Lease | undefined {
  if (lease.spec?.holderIdentity !== me) return undefined;
  return { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 } };
}
