import { describe, expect, it } from "vitest";
import { createWorkQueue } from "../../runtime/workqueue.ts";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 2_000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await tick(2);
}

describe("work queue", () => {
  it("collapses duplicates waiting in the queue", async () => {
    const q = createWorkQueue();
    const seen: string[] = [];
    q.add("a");
    q.add("b");
    q.add("a");
    q.run(1, async (k) => void seen.push(k));
    await until(() => seen.length >= 2);
    await tick(20);
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
      await tick(10);
      inFlight--;
    });
    q.add("k");
    await tick(2);
    q.add("k");
    q.add("k");
    await until(() => runs >= 2 && inFlight === 0);
    await tick(20);
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
    await until(() => attempts >= 4);
    await tick(20);
    expect(attempts).toBe(4);
    expect(errors).toHaveLength(3);
    expect(errors[2]!).toBeGreaterThanOrEqual(8);
    await q.shutdown();
  });

  it("requeues after the delay a run asks for; a sooner add wins", async () => {
    const q = createWorkQueue();
    const at: number[] = [];
    const t0 = Date.now();
    q.run(1, async () => {
      at.push(Date.now() - t0);
      return at.length === 1 ? { requeueAfterMs: 1_000 } : undefined;
    });
    q.add("k");
    await until(() => at.length === 1);
    q.add("k");
    await until(() => at.length === 2);
    expect(at).toHaveLength(2);
    expect(at[1]!).toBeLessThan(500);
    await q.shutdown();
  });

  it("shutdown waits for the work in progress", async () => {
    const q = createWorkQueue();
    let done = false;
    q.run(1, async () => {
      await tick(20);
      done = true;
    });
    q.add("k");
    await tick(1);
    await q.shutdown();
    expect(done).toBe(true);
  });
});
