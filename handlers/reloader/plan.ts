import { changesNeedingRestart } from "./reloadable.ts";

export interface ReloadInput {
  /** The files as the watched ConfigMap/Secret has them now. */
  desired: Record<string, string>;
  /** The files as they are in the shared directory (undefined: absent). */
  onDisk: Record<string, string | undefined>;
  /** The files of the config nats-server last loaded. */
  lastGood: Record<string, string>;
  /** The file nats-server is started with (e.g. nats.conf). */
  entry: string;
  /** nats-server's version, from /varz. */
  version: string;
}

export type ReloadPlan =
  | { action: "none" }
  | { action: "reload"; write: Record<string, string> }
  | { action: "restart-needed"; write: Record<string, string>; reasons: string[] }
  | { action: "refuse"; error: string };

/**
 * What the reloader does with a new version of the config object: nothing when no file
 * changed (no SIGHUP storms); write and reload; or, when nats-server could not reload the
 * change, write it for the next restart and say why instead of sending a doomed reload.
 */
export function planReload(i: ReloadInput): ReloadPlan {
  if (i.desired[i.entry] === undefined) {
    return {
      action: "refuse",
      error: `the config object has no key "${i.entry}" (it has ${
        Object.keys(i.desired)
          .map((k) => `"${k}"`)
          .join(", ") || "none"
      }): nothing is written`,
    };
  }
  const write: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.desired)) if (i.onDisk[k] !== v) write[k] = v;
  if (!Object.keys(write).length) return { action: "none" };
  const reasons = changesNeedingRestart({ ...i.lastGood }, { ...i.lastGood, ...i.desired }, i.entry, i.version);
  return reasons.length ? { action: "restart-needed", write, reasons } : { action: "reload", write };
}
