import { backoffDelay } from "./kube/backoff.ts";

export interface WorkQueue {
  /** Queue a key; a key already waiting is not queued twice. */
  add(key: string): void;
  /** Queue a key after a delay (a sooner add wins). */
  addAfter(key: string, ms: number): void;
  /** Start `workers` loops calling `process`; a key is never processed twice at once. */
  /** `process` may ask for its key again after a while. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a process that returns nothing is the common case.
  run(workers: number, process: (key: string) => Promise<void | { requeueAfterMs?: number }>): void;
  /** Stop taking keys; resolves when the keys in progress are done. */
  shutdown(): Promise<void>;
  /** Keys waiting to be processed (not those waiting out a delay). */
  readonly length: number;
  /** How long the oldest waiting key has waited, and the longest a key in progress has run so far (0 when none). */
  ages(): { oldestWaitingMs: number; longestRunningMs: number };
}

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

/**
 * A deduplicating work queue, as controller-runtime's: keys wait in FIFO order, a key being
 * processed that is added again is processed once more afterwards, failures retry with
 * per-key exponential backoff, and a success forgets the key's failures.
 */
export function createWorkQueue(o: WorkQueueOptions = {}): WorkQueue {
  const queue: string[] = [];
  /** Waiting keys, by when they were queued. */
  const queued = new Map<string, number>();
  /** Keys in progress, by when they started. */
  const active = new Map<string, number>();
  const dirty = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  const waiters: (() => void)[] = [];
  const running: Promise<void>[] = [];
  let stopped = false;

  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const add = (key: string) => {
    if (stopped) return;
    const t = timers.get(key);
    if (t) {
      clearTimeout(t.timer);
      timers.delete(key);
    }
    if (active.has(key)) {
      dirty.add(key);
      return;
    }
    if (queued.has(key)) return;
    queued.set(key, Date.now());
    queue.push(key);
    wake();
  };
  const addAfter = (key: string, ms: number) => {
    if (stopped) return;
    if (ms <= 0) return add(key);
    const at = Date.now() + ms;
    const t = timers.get(key);
    if (t && t.at <= at) return;
    if (t) clearTimeout(t.timer);
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
    }, ms);
    timer.unref?.();
    timers.set(key, { at, timer });
  };
  const next = async (): Promise<string | undefined> => {
    while (!stopped) {
      const key = queue.shift();
      if (key !== undefined) {
        queued.delete(key);
        return key;
      }
      await new Promise<void>((r) => waiters.push(r));
    }
    return undefined;
  };

  return {
    add,
    addAfter,
    get length() {
      return queue.length;
    },
    ages() {
      const now = Date.now();
      const oldest = queue.length ? queued.get(queue[0]!)! : now;
      const longest = Math.min(now, ...active.values());
      return { oldestWaitingMs: now - oldest, longestRunningMs: now - longest };
    },
    run(workers, process) {
      for (let i = 0; i < workers; i++) {
        running.push(
          (async () => {
            for (let key = await next(); key !== undefined; key = await next()) {
              active.set(key, Date.now());
              try {
                const r = await process(key);
                failures.delete(key);
                if (r && r.requeueAfterMs !== undefined) addAfter(key, r.requeueAfterMs);
              } catch (e) {
                const n = failures.get(key) ?? 0;
                failures.set(key, n + 1);
                const delay = backoffDelay(n, o.baseDelayMs ?? 5, o.maxDelayMs ?? 60_000);
                o.onError?.(key, e, delay);
                addAfter(key, delay);
              } finally {
                active.delete(key);
                if (dirty.delete(key)) add(key);
              }
            }
          })(),
        );
      }
    },
    async shutdown() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t.timer);
      timers.clear();
      wake();
      await Promise.all(running);
    },
  };
}
