import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../runtime/log.ts";
import { startMemoryReducer } from "../../runtime/memory.ts";

const MB = 2 ** 20;
const log = createLogger({ level: "error" });
// Fake timers: the reducer's checks run on a clock the tests move, so the counts below are exact
// and no real time passes.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

/** A heap whose young generation a burst grew to `total` MB; a collection gives back `gives` MB. */
function fakeHeap(total: number, used: number, gives: number) {
  const h = { total: total * MB, used: used * MB, collections: 0 };
  return {
    h,
    heap: () => ({ total: h.total, used: h.used }),
    gc: (o: { flavor: string }) => {
      expect(o.flavor).toBe("last-resort");
      h.collections++;
      h.total -= gives * MB;
    },
  };
}

describe("memory reducer", () => {
  it("collects when it finds heap slack, then not while there is none", async () => {
    const f = fakeHeap(40, 10, 28);
    const r = startMemoryReducer({ log, everyMs: 10, gc: f.gc, heap: f.heap });
    await advance(9);
    expect(f.h.collections).toBe(0);
    await advance(1);
    expect(f.h.collections).toBe(1);
    expect(f.h.total).toBe(12 * MB);
    await advance(1_000);
    r.stop();
    expect(f.h.collections).toBe(1);
    expect(f.h.total).toBe(12 * MB);
  });

  it("collects once after a poke even with little slack, then waits for slack again", async () => {
    const f = fakeHeap(12, 10, 0);
    const r = startMemoryReducer({ log, everyMs: 10, gc: f.gc, heap: f.heap });
    r.poke(0);
    await advance(0);
    expect(f.h.collections).toBe(1);
    await advance(1_000);
    r.stop();
    expect(f.h.collections).toBe(1);
  });

  it("looks less often when a collection gives nothing back", async () => {
    const f = fakeHeap(40, 10, 0);
    const t0 = Date.now();
    const at: number[] = [];
    const gc: typeof f.gc = (o) => {
      at.push(Date.now() - t0);
      f.gc(o);
    };
    const r = startMemoryReducer({ log, everyMs: 10, gc, heap: f.heap });
    await advance(200);
    r.stop();
    // Gaps of 10, 20, 40, 80 ms …: 4 in 200 ms, where a fixed 10 ms would make 20.
    expect(at).toEqual([10, 30, 70, 150]);
    expect(f.h.collections).toBe(4);
  });

  it("does nothing after stop", async () => {
    const f = fakeHeap(40, 10, 28);
    const r = startMemoryReducer({ log, everyMs: 10, gc: f.gc, heap: f.heap });
    r.stop();
    r.poke(0);
    await advance(1_000);
    expect(f.h.collections).toBe(0);
  });

  /** Runs `fn` with `gc` as globalThis.gc (undefined: none), as `node --expose-gc` would have it. */
  async function withGlobalGc(gc: ((o: unknown) => void) | undefined, fn: () => Promise<void>) {
    const g = globalThis as { gc?: unknown };
    const had = Object.getOwnPropertyDescriptor(g, "gc");
    if (gc) g.gc = gc;
    else delete g.gc;
    try {
      await fn();
    } finally {
      if (had) Object.defineProperty(g, "gc", had);
      else delete g.gc;
    }
  }
  const debugLog = (lines: string[]) => createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) });

  it("gets the runtime's own gc() and runs it", async () => {
    // V8's real gc(), where --expose-gc puts it (vitest's workers are not started with the flag).
    setFlagsFromString("--expose-gc");
    const v8gc = runInNewContext("gc") as (o: unknown) => void;
    const calls: unknown[] = [];
    await withGlobalGc(
      (o) => {
        calls.push(o);
        v8gc(o);
      },
      async () => {
        const lines: string[] = [];
        const r = startMemoryReducer({ log: debugLog(lines), everyMs: 60_000, slackBytes: -1 });
        r.poke(0);
        await advance(50);
        r.stop();
        expect(calls).toEqual([{ type: "major", execution: "sync", flavor: "last-resort" }]);
        expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["heap compacted"]);
      },
    );
  });

  it("without a gc() says so once and never collects", async () => {
    await withGlobalGc(undefined, async () => {
      const lines: string[] = [];
      const r = startMemoryReducer({ log: debugLog(lines), everyMs: 10, slackBytes: -1 });
      r.poke(0);
      await advance(1_000);
      r.stop();
      const msgs = lines.map((l) => JSON.parse(l).msg as string);
      expect(msgs).toHaveLength(1);
      expect(msgs[0]).toMatch(/^no gc\(\)/);
    });
  });
});
