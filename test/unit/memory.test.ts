import { describe, expect, it } from "vitest";
import { startMemoryReducer } from "../../runtime/memory.ts";
import { createLogger } from "../../runtime/log.ts";

const MB = 2 ** 20;
const log = createLogger({ level: "error" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    await sleep(80);
    r.stop();
    expect(f.h.collections).toBe(1);
    expect(f.h.total).toBe(12 * MB);
  });

  it("collects once after a poke even with little slack, then waits for slack again", async () => {
    const f = fakeHeap(12, 10, 0);
    const r = startMemoryReducer({ log, everyMs: 10, gc: f.gc, heap: f.heap });
    r.poke(0);
    await sleep(80);
    r.stop();
    expect(f.h.collections).toBe(1);
  });

  it("looks less often when a collection gives nothing back", async () => {
    const f = fakeHeap(40, 10, 0);
    const r = startMemoryReducer({ log, everyMs: 10, gc: f.gc, heap: f.heap });
    await sleep(200);
    r.stop();
    // 10, 20, 40, 80 ms …: about 4 in 200 ms, where a fixed 10 ms would make about 20.
    expect(f.h.collections).toBeGreaterThanOrEqual(2);
    expect(f.h.collections).toBeLessThanOrEqual(6);
  });

  it("does nothing after stop", async () => {
    const f = fakeHeap(40, 10, 28);
    const r = startMemoryReducer({ log, everyMs: 10, gc: f.gc, heap: f.heap });
    r.stop();
    r.poke(0);
    await sleep(50);
    expect(f.h.collections).toBe(0);
  });

  it("gets the runtime's own gc() and runs it", async () => {
    const lines: string[] = [];
    const r = startMemoryReducer({ log: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }), everyMs: 60_000, slackBytes: -1 });
    r.poke(0);
    await sleep(50);
    r.stop();
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["heap compacted"]);
  });
});
