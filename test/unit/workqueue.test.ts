import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createWorkQueue } from "../../runtime/workqueue.ts";

// Fake timers: the queue's delays and the workers' sleeps run on a clock the tests move, so every
// test is exact about when things happen and takes no real time. advanceTimersByTimeAsync also
// lets the promises waiting on each fired timer (and the workers' loops) run.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Moves the clock 1 ms at a time until `cond` holds; throws, naming `what`, if `ms` pass first. */
async function until(what: string, cond: () => boolean, ms = 2_000) {
  for (let waited = 0; !cond(); waited++) {
    if (waited >= ms) throw new Error(`timed out after ${ms} ms (fake time) waiting for ${what}`);
    await advance(1);
  }
}

describe("work queue", () => {
  it("collapses duplicates waiting in the queue", async () => {
    const q = createWorkQueue();
    const seen: string[] = [];
    q.add("a");
    q.add("b");
    q.add("a");
    q.run(1, async (k) => void seen.push(k));
    await advance(0);
    expect(seen).toEqual(["a", "b"]);
    await advance(1_000);
    expect(seen).toEqual(["a", "b"]);
    await q.shutdown();
  });

  it("never processes one key twice at once, and runs it again if it was added meanwhile", async () => {
    const q = createWorkQueue();
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    q.run(4, async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      runs++;
      await sleep(10);
      inFlight--;
    });
    q.add("k");
    await advance(2);
    expect([runs, inFlight]).toEqual([1, 1]);
    // Added twice while it runs, with three idle workers: it runs once more, afterwards.
    q.add("k");
    q.add("k");
    await advance(7);
    expect([runs, inFlight]).toEqual([1, 1]);
    await advance(1);
    expect([runs, inFlight]).toEqual([2, 1]);
    await advance(10);
    expect([runs, inFlight]).toEqual([2, 0]);
    await advance(1_000);
    expect(maxInFlight).toBe(1);
    expect(runs).toBe(2);
    await q.shutdown();
  });

  it("retries failures with growing delays, and forgets them after a success", async () => {
    const errors: number[] = [];
    const q = createWorkQueue({ baseDelayMs: 4, onError: (_k, _e, ms) => errors.push(ms) });
    let attempts = 0;
    q.run(1, async () => {
      if (++attempts < 4) throw new Error("not yet");
    });
    q.add("k");
    await advance(0);
    expect(attempts).toBe(1);
    await until("the fourth attempt", () => attempts >= 4, 100);
    await advance(1_000);
    expect(attempts).toBe(4);
    expect(errors).toHaveLength(3);
    // Jittered doubling from 4 ms: each delay in [d/2, d] for d = 4, 8, 16.
    expect(errors[0]!).toBeGreaterThanOrEqual(2);
    expect(errors[0]!).toBeLessThanOrEqual(4);
    expect(errors[1]!).toBeGreaterThanOrEqual(4);
    expect(errors[1]!).toBeLessThanOrEqual(8);
    expect(errors[2]!).toBeGreaterThanOrEqual(8);
    expect(errors[2]!).toBeLessThanOrEqual(16);
    // Forgotten after the success: the next failure starts again from the base delay.
    attempts = 0;
    q.add("k");
    await advance(0);
    expect(attempts).toBe(1);
    expect(errors[3]!).toBeLessThanOrEqual(4);
    await q.shutdown();
  });

  it("requeues after the delay a run asks for; a sooner add wins", async () => {
    const q = createWorkQueue();
    const t0 = Date.now();
    const at: Record<string, number[]> = { waits: [], added: [] };
    q.run(1, async (k) => {
      at[k]!.push(Date.now() - t0);
      return at[k]!.length === 1 ? { requeueAfterMs: 1_000 } : undefined;
    });
    q.add("waits");
    q.add("added");
    await advance(0);
    expect(at).toEqual({ waits: [0], added: [0] });
    // "added" is added again long before its requeue is due: it runs now, and not again at 1 s.
    await advance(100);
    q.add("added");
    await advance(0);
    expect(at).toEqual({ waits: [0], added: [0, 100] });
    await advance(899);
    expect(at.waits).toEqual([0]);
    await advance(1);
    expect(at).toEqual({ waits: [0, 1_000], added: [0, 100] });
    await advance(5_000);
    expect(at).toEqual({ waits: [0, 1_000], added: [0, 100] });
    await q.shutdown();
  });

  it("tells how long the oldest key has waited and the longest reconcile has run", async () => {
    const q = createWorkQueue();
    expect(q.ages()).toEqual({ oldestWaitingMs: 0, longestRunningMs: 0 });
    q.add("a");
    await advance(300);
    q.add("b");
    await advance(200);
    expect([q.length, q.ages()]).toEqual([2, { oldestWaitingMs: 500, longestRunningMs: 0 }]);
    q.run(1, async () => void (await sleep(1_000)));
    await advance(400);
    // "a" runs since 400 ms; "b" still waits, since 600 ms.
    expect([q.length, q.ages()]).toEqual([1, { oldestWaitingMs: 600, longestRunningMs: 400 }]);
    await advance(600);
    expect([q.length, q.ages()]).toEqual([0, { oldestWaitingMs: 0, longestRunningMs: 0 }]);
    await advance(1_000);
    expect(q.ages()).toEqual({ oldestWaitingMs: 0, longestRunningMs: 0 });
    await q.shutdown();
  });

  it("shutdown waits for the work in progress", async () => {
    const q = createWorkQueue();
    let done = false;
    q.run(1, async () => {
      await sleep(20);
      done = true;
    });
    q.add("k");
    await advance(1);
    let shut = false;
    const shutdown = q.shutdown().then(() => (shut = true));
    await advance(18);
    expect([done, shut]).toEqual([false, false]);
    await advance(1);
    await shutdown;
    expect([done, shut]).toEqual([true, true]);
  });
});
