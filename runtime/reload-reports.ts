import type { NatsConnection } from "@nats-io/nats-core";
import { configApi, type ReloadReport, type ServerReport } from "../handlers/index.ts";
import type { Logger } from "./log.ts";
import { recordReload } from "./reload-metrics.ts";

export interface ReloadReports {
  /** Every reloader's latest report, by pod name. */
  latest(): Record<string, ServerReport>;
  /** Asks every reloader of the cluster to publish its latest report again. */
  ask(): void;
  /** Resolves at the next report, or after `ms`. */
  next(ms: number): Promise<void>;
}

const reloadOutcomes = new Set<string>(["reloaded", "failed", "refused", "restart-needed"] satisfies ReloadReport["action"][]);

/**
 * Follows `_SAT.<cluster>.reload.<pod>`; a controller that just started asks for the current reports.
 * Each reload a report tells of is counted once: a report sent again (a heartbeat, an answer to an
 * ask) carries the time it was made, and the first report of each pod is what happened before.
 */
export function followReloadReports(nc: NatsConnection, cluster: { namespace: string; name: string }, log: Logger): ReloadReports {
  const reports = new Map<string, ServerReport>();
  const madeAt = new Map<string, string>();
  const waiting = new Set<() => void>();
  const count = (r: ReloadReport) => {
    const before = madeAt.get(r.pod);
    madeAt.set(r.pod, r.at);
    if (before === undefined || before === r.at || !reloadOutcomes.has(r.action)) return;
    recordReload(cluster, "sidecar", r.action, typeof r.reloadMs === "number" && r.reloadMs >= 0 ? r.reloadMs : undefined);
  };
  nc.subscribe(configApi.reloadReports(cluster.name), {
    callback: (err, m) => {
      if (err) return;
      try {
        const r = JSON.parse(m.string()) as ReloadReport;
        if (typeof r.pod !== "string" || typeof r.configRevision !== "string") return;
        reports.set(r.pod, r);
        count(r);
        for (const wake of waiting) wake();
      } catch {
        log.debug("ignoring a reload report that is not JSON", { subject: m.subject });
      }
    },
  });
  const ask = () => nc.publish(configApi.askForReports(cluster.name));
  ask();
  return {
    latest: () => Object.fromEntries(reports),
    ask,
    next: (ms) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waiting.add(done);
      }),
  };
}
