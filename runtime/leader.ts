// Leader election by a Lease (the decisions are handlers/operator/lease.ts): one replica of the
// operator reconciles, the others stand by and take over once the holder stops renewing.
import { kinds, leaseStep, type ObjectOf, releasedLease } from "../handlers/index.ts";
import type { KubeClient } from "./kube/client.ts";
import { startReflector } from "./kube/reflector.ts";
import type { Logger } from "./log.ts";

/** How often the holder renews and the others look; a holder that cannot renew this long steps down. */
const retryMs = 2_000;
const renewDeadlineMs = 10_000;

export interface LeaderElection {
  /** Gives the lease up when leading, for a quick handover. */
  stop(): Promise<void>;
}

export function startLeaderElection(d: {
  kube: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  log: Logger;
  onLead(): void;
  onLost(): void;
}): LeaderElection {
  let leading = false;
  let lastRenew = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waitingFor: string | undefined;
  /** The lease's last renewal as seen here: its holder and renewTime, and when this replica first saw it. */
  let seen: { key: string; at: string } | undefined;

  // The lease through a watch: each renewal is seen when it happens, by this replica's clock.
  const cache = startReflector(d.kube, kinds.Lease, { namespace: d.namespace, fieldSelector: `metadata.name=${d.name}`, log: d.log });
  const observe = (lease: ObjectOf<"Lease"> | undefined) => {
    const key = `${lease?.spec?.holderIdentity}/${lease?.spec?.renewTime}`;
    if (seen?.key !== key) seen = { key, at: new Date().toISOString() };
  };
  cache.onChange((_t, lease) => {
    observe(lease);
    // Given up by its holder: take it now rather than at the next look.
    if (!leading && !stopped && !ticking && !lease.spec?.holderIdentity) {
      clearTimeout(timer);
      void tick();
    }
  });

  let nextMs = retryMs;
  let ticking = false;
  async function tick() {
    ticking = true;
    try {
      await cache.synced;
      const lease = cache.get(d.name, d.namespace) ?? null;
      observe(lease ?? undefined);
      const now = new Date().toISOString();
      const step = leaseStep(lease, d.identity, d.name, d.namespace, now, seen!.at);
      if (step.action === "wait") {
        if (leading) return lose(`the lease is held by ${step.holder} now`);
        if (waitingFor !== step.holder) d.log.info("standing by: another replica leads", { lease: d.name, holder: step.holder });
        waitingFor = step.holder;
        // Look again when it would expire, if that is before the next regular look.
        nextMs = Math.min(retryMs, step.expiresInMs + 10);
        return;
      }
      // Taking over: write on the lease as the API server has it now, not as the watch last showed it.
      const fresh =
        !leading && step.action === "update" ? await d.kube.get(kinds.Lease, { namespace: d.namespace, name: d.name }) : undefined;
      const write = fresh ? leaseStep(fresh, d.identity, d.name, d.namespace, now, seen!.at) : step;
      if (write.action === "wait") return;
      const written = await (write.action === "create"
        ? d.kube.create(kinds.Lease, write.lease)
        : d.kube.replace(kinds.Lease, write.lease));
      cache.observe(written);
      lastRenew = Date.now();
      if (!leading) {
        leading = true;
        d.log.info("leading: this replica reconciles", { lease: d.name, identity: d.identity, tookOver: step.tookOver });
        d.onLead();
      }
    } catch (e) {
      // A conflict is another replica's write in between: look again at the next tick.
      if (leading && Date.now() - lastRenew > renewDeadlineMs)
        return lose(`the lease could not be renewed for ${renewDeadlineMs / 1000} s: ${(e as Error).message}`);
      (leading ? d.log.debug : d.log.info)("lease not written; trying again", { lease: d.name, error: (e as Error).message });
    } finally {
      ticking = false;
      if (!stopped) timer = setTimeout(() => void tick(), nextMs);
      nextMs = retryMs;
    }
  }

  function lose(why: string) {
    leading = false;
    stopped = true;
    d.log.error("lost the lead; stopping so that one replica reconciles at a time", { lease: d.name, why });
    d.onLost();
  }

  void tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      cache.stop();
      if (!leading) return;
      const lease = await d.kube.get(kinds.Lease, { namespace: d.namespace, name: d.name }).catch(() => null);
      const released = lease && releasedLease(lease, d.identity);
      if (released) await d.kube.replace(kinds.Lease, released).catch(() => undefined);
    },
  };
}
