import { type FSWatcher, readFileSync, watch } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { reloaderRoutes } from "../../handlers/index.ts";
import type { Logger } from "../log.ts";

/**
 * The classic reloader (nats-server-config-reloader's flags): watch config files mounted from a
 * volume, and what they `include`, and signal nats-server when their content really changes.
 * The kubelet swaps a volume's files through symlinks, so directories are watched and contents
 * compared, with a poll as backstop.
 */
/** Changes closer together than this are one burst; a file written in place settles within it. */
const burstMs = 150;

/**
 * The given files and, recursively, the files they include (relative to the including file),
 * each with its content (undefined: unreadable), read once.
 */
export function readConfigTree(files: string[]): Map<string, string | undefined> {
  const tree = new Map<string, string | undefined>();
  const visit = (f: string) => {
    if (tree.has(f)) return;
    let text: string | undefined;
    try {
      text = readFileSync(f, "utf8");
    } catch {
      text = undefined;
    }
    tree.set(f, text);
    for (const inc of text === undefined ? [] : reloaderRoutes.includedFiles(text)) visit(isAbsolute(inc) ? inc : join(dirname(f), inc));
  };
  files.forEach(visit);
  return tree;
}

/** The monitoring endpoint nats-server's own config (with its includes) sets, none, or why it cannot be read. */
export function monitorOfConfig(files: string[]) {
  const texts = Object.fromEntries(
    [...readConfigTree(files)].filter((e): e is [string, string] => e[1] !== undefined).map(([f, t]) => [basename(f), t]),
  );
  return reloaderRoutes.monitorOf(texts, basename(files[0]!));
}

export function startFileReloader(d: {
  files: string[];
  reload: () => Promise<{ ok: boolean; confirmed?: boolean; error?: string }>;
  log: Logger;
  pollMs?: number;
  /** Wait for this long a quiet moment after any change, so a burst loads only its last version. */
  settleMs?: number;
}) {
  const settleMs = d.settleMs || burstMs;
  let tree = readConfigTree(d.files);
  let files = [...tree.keys()];
  let last = JSON.stringify([...tree]);
  let busy = false;
  let again = false;
  let settledWanted = false;
  let lastChangeAt = -Infinity;
  const watchers = new Map<string, FSWatcher>();
  const watchDirs = () => {
    for (const dir of new Set(files.map((f) => dirname(f)))) {
      if (watchers.has(dir)) continue;
      try {
        watchers.set(
          dir,
          watch(dir, (event) => (event === "rename" && !d.settleMs ? void check("swap") : settleThenCheck())),
        );
      } catch (e) {
        d.log.warn("cannot watch directory; polling only", { dir, error: (e as Error).message });
      }
    }
  };
  /**
   * "swap": a rename in a watched directory. The kubelet swaps a volume's ..data symlink in one
   * rename, so the new files are whole when it is seen: reload at once, unless changes are coming
   * in a burst, which reloads once, with its last version, when it is over. "settled": after a
   * quiet moment (files written in place are empty for an instant), or the poll.
   */
  const check = async (kind: "swap" | "settled") => {
    if (kind === "settled") settledWanted = true;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        const settled = settledWanted;
        settledWanted = false;
        // A change may add or drop an include.
        tree = readConfigTree(d.files);
        files = [...tree.keys()];
        watchDirs();
        const now = JSON.stringify([...tree]);
        if (now === last) continue;
        const quiet = Date.now() - lastChangeAt >= burstMs;
        lastChangeAt = Date.now();
        if (!settled && !quiet) {
          settleThenCheck();
          continue;
        }
        last = now;
        const r = await d.reload();
        if (r.ok && r.confirmed === false)
          d.log.info("config files changed; nats-server signalled (not confirmed: no monitoring endpoint)", { files });
        else if (r.ok) d.log.info("config files changed; nats-server reloaded", { files });
        else d.log.error("config files changed; reload failed", { files, error: r.error });
      } while (again);
    } catch (e) {
      d.log.error("reload failed", { error: (e as Error).message });
    } finally {
      busy = false;
    }
  };
  let settle: ReturnType<typeof setTimeout> | undefined;
  function settleThenCheck() {
    clearTimeout(settle);
    settle = setTimeout(() => void check("settled"), settleMs);
  }
  watchDirs();
  d.log.debug("watching config files", { files });
  const timer = setInterval(() => void check("settled"), d.pollMs ?? 2_000);
  return {
    stop() {
      clearInterval(timer);
      clearTimeout(settle);
      for (const w of watchers.values()) w.close();
    },
  };
}
