import { naturalOrder } from "../natural-order.ts";
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
