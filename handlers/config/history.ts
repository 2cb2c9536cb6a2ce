import type { ConfigMap } from "../types.ts";

/** On the routes file: the configs it held before, newest first. */
export const annotationHistory = "nats.io/config-history";
export const historyLimit = 10;
const historyMaxBytes = 64 * 1024;

export interface HistoryEntry {
  /** The routes file's revision while it held this config. */
  revision: string;
  name: string | null;
  routes: string[];
  /** When a put replaced it, and who sent that put (where nats-server says). */
  replacedAt: string;
  replacedBy?: string;
}

export function historyOf(cm: ConfigMap | null): HistoryEntry[] {
  try {
    const h = JSON.parse(cm?.metadata?.annotations?.[annotationHistory] ?? "[]");
    return Array.isArray(h) ? h.filter((e) => e && typeof e.revision === "string" && Array.isArray(e.routes)) : [];
  } catch {
    return [];
  }
}

/** `entry` first, then the older ones, at most `historyLimit` and 64 KiB of them. */
export function withEntry(history: HistoryEntry[], entry: HistoryEntry): string {
  const out = [entry, ...history.filter((h) => h.revision !== entry.revision)].slice(0, historyLimit);
  while (out.length > 1 && JSON.stringify(out).length > historyMaxBytes) out.pop();
  return JSON.stringify(out);
}

/** A config.rollback request: which revision of the history to return to, and how. */
export function parseRollbackRequest(
  data: Uint8Array,
): { value: { revision: string; rest: Record<string, unknown> } } | { error: { code: number; message: string } } {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch (e) {
    return {
      error: {
        code: 400,
        message: `request is not valid JSON: ${(e as Error).message}; send {"revision": "..."} from config.get's history`,
      },
    };
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return { error: { code: 400, message: `request must be a JSON object like {"revision": "...", "wait": "10s"}` } };
  }
  const { revision, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest).filter((k) => k !== "wait" && k !== "strategy");
  if (unknown.length)
    return { error: { code: 400, message: `unknown field ${JSON.stringify(unknown[0])}: allowed fields are revision, wait, strategy` } };
  if (typeof revision !== "string" || !revision) {
    return { error: { code: 400, message: `field "revision" is required: one of the revisions config.get lists in "history"` } };
  }
  return { value: { revision, rest } };
}
