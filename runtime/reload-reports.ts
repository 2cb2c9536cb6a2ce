import type { NatsConnection } from "@nats-io/nats-core";
import { configApi, type ServerReport } from "../handlers/index.ts";
import type { Logger } from "./log.ts";

export interface ReloadReports {
  /** Every reloader's latest report, by pod name. */
  latest(): Record<string, ServerReport>;
  /** Asks every reloader of the cluster to publish its latest report again. */
  ask(): void;
  /** Resolves at the next report, or after `ms`. */
  next(ms: number): Promise<void>;
}

/** Follows `_SAT.<cluster>.reload.<pod>`; a controller that just started asks for the current reports. */
export function followReloadReports(nc: NatsConnection, cluster: string, log: Logger): ReloadReports {
  const reports = new Map<string, ServerReport>();
  const waiting = new Set<() => void>();
  nc.subscribe(configApi.reloadReports(cluster), {
    callback: (err, m) => {
      if (err) return;
      try {
        const r = JSON.parse(m.string()) as ServerReport;
        if (typeof r.pod !== "string" || typeof r.configRevision !== "string") return;
        reports.set(r.pod, r);
        for (const wake of waiting) wake();
      } catch {
        log.debug("ignoring a reload report that is not JSON", { subject: m.subject });
      }
    },
  });
  const ask = () => nc.publish(configApi.askForReports(cluster));
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
