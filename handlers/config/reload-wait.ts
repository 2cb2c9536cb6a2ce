import { naturalOrder } from "../natural-order.ts";
import { fleetServerName } from "../operator/names.ts";
import type { NatsCluster } from "../operator/natscluster.ts";
import type { ReloadReport } from "../reloader/report.ts";

/** What config.put's wait and status read of a reloader's report. */
export type ServerReport = Pick<ReloadReport, "pod" | "configRevision" | "action" | "ok"> &
  Partial<Pick<ReloadReport, "server" | "error" | "configLoadTime">>;

export interface ServerOutcome {
  pod: string;
  server: string | null;
  ok: boolean;
  state: "reloaded" | "failed" | "pending";
  configRevision: string | null;
  error?: string;
  configLoadTime?: string;
}

const newerOrSame = (a: string, b: string) => (/^\d+$/.test(a) && /^\d+$/.test(b) ? BigInt(a) >= BigInt(b) : a === b);

/**
 * Per server, whether it runs the config of `revision` (or a later one), refused it, or has not
 * said yet. `done` once no server is pending.
 */
export function reloadOutcomes(
  pods: string[],
  reports: Record<string, ServerReport | undefined>,
  revision: string,
): { done: boolean; ok: boolean; servers: ServerOutcome[] } {
  const servers = [...pods].sort(naturalOrder).map((pod): ServerOutcome => {
    const r = reports[pod];
    if (!r || !newerOrSame(r.configRevision, revision)) {
      return { pod, server: r?.server ?? null, ok: false, state: "pending", configRevision: r?.configRevision ?? null };
    }
    return r.ok
      ? { pod, server: r.server ?? null, ok: true, state: "reloaded", configRevision: r.configRevision, configLoadTime: r.configLoadTime }
      : { pod, server: r.server ?? null, ok: false, state: "failed", configRevision: r.configRevision, error: r.error };
  });
  return { done: servers.every((s) => s.state !== "pending"), ok: servers.every((s) => s.ok), servers };
}

/**
 * configReload.mode operator has no reloader reports: the NatsCluster's status says which routes
 * revision each server runs, confirmed by its config digest, and which revision was refused.
 * Servers are named as their config names them (and as a reloader's report does): by pod, or in a
 * fleet (`site`) "<site>-<namespace>-<pod>".
 */
export function reportsFromStatus(c: NatsCluster, site?: string): Record<string, ServerReport> {
  const cfg = c.status?.config;
  const refused = cfg?.refused;
  const serverName = (pod: string) => (site ? fleetServerName(site, c.metadata.namespace!, pod) : pod);
  return Object.fromEntries(
    (cfg?.servers ?? []).map((s): [string, ServerReport] => {
      if (refused?.revision)
        return [
          s.pod,
          { pod: s.pod, server: serverName(s.pod), configRevision: refused.revision, action: "failed", ok: false, error: refused.error },
        ];
      const current = s.state === "current";
      return [
        s.pod,
        { pod: s.pod, server: serverName(s.pod), configRevision: s.revision ?? "", action: current ? "reloaded" : "in-sync", ok: current },
      ];
    }),
  );
}
