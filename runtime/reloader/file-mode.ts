import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { Logger } from "../log.ts";
import { readFiles } from "./files.ts";

/**
 * The classic reloader (nats-server-config-reloader's flags): watch config files mounted from a
 * volume and signal nats-server when their content really changes. The kubelet swaps a volume's
 * files through symlinks, so directories are watched and contents compared, with a poll as backstop.
 */
const settleMs = 150;

export function startFileReloader(d: { files: string[]; reload: () => Promise<{ ok: boolean; error?: string }>; log: Logger; pollMs?: number }) {
  const read = () => d.files.map((f) => readFiles(dirname(f), [basename(f)])[basename(f)]);
  let last = JSON.stringify(read());
  let busy = false;
  let again = false;
  const check = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const now = JSON.stringify(read());
        if (now === last) continue;
        last = now;
        const r = await d.reload();
        if (r.ok) d.log.info("config files changed; nats-server reloaded", { files: d.files });
        else d.log.error("config files changed; reload failed", { files: d.files, error: r.error });
      } while (again);
    } catch (e) {
      d.log.error("reload failed", { error: (e as Error).message });
    } finally {
      busy = false;
    }
  };
  // A file written in place is empty for a moment: let a burst of events settle before reading.
  let settle: ReturnType<typeof setTimeout> | undefined;
  const soon = () => {
    clearTimeout(settle);
    settle = setTimeout(() => void check(), settleMs);
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(d.files.map((f) => dirname(f)))) {
    try {
      watchers.push(watch(dir, soon));
    } catch (e) {
      d.log.warn("cannot watch directory; polling only", { dir, error: (e as Error).message });
    }
  }
  const timer = setInterval(() => void check(), d.pollMs ?? 2_000);
  return {
    stop() {
      clearInterval(timer);
      clearTimeout(settle);
      for (const w of watchers) w.close();
    },
  };
}
