// A JetStream publisher that never gives up, and the check that follows it: one message at a time
// to an R3 stream, each with a Nats-Msg-Id; a publish without an ack within 500 ms is sent again
// under the same id (the stream's duplicate window drops the copy). Afterwards, every acknowledged id must be in
// the stream exactly once. Used by the real-node JetStream test and the bench.
import { headers, type NatsConnection } from "@nats-io/transport-node";

export const loadStream = "ORDERS";
/** A publish not acknowledged this soon is sent again: the resolution of the longest gap measured. */
const ackTimeoutMs = 500;

export async function createStream(nc: NatsConnection): Promise<void> {
  const r = (
    await nc.request(
      `$JS.API.STREAM.CREATE.${loadStream}`,
      JSON.stringify({ name: loadStream, subjects: ["orders.>"], num_replicas: 3, storage: "file", duplicate_window: 600_000_000_000 }),
      { timeout: 5_000 },
    )
  ).json<{ config?: unknown; error?: { description: string } }>();
  if (r.error) throw new Error(r.error.description);
}

const lastSeq = async (nc: NatsConnection) =>
  (await nc.request(`$JS.API.STREAM.INFO.${loadStream}`, "", { timeout: 5_000 })).json<{ state: { last_seq: number } }>().state.last_seq;

/** What the stream holds after sequence `after`: each sequence's id, or why it could not be read. */
async function stored(nc: NatsConnection, after: number): Promise<Map<number, string>> {
  const last = await lastSeq(nc);
  const bySeq = new Map<number, string>();
  for (let seq = after + 1; seq <= last; seq++) {
    let got = "";
    for (let attempt = 0; attempt < 3 && !got; attempt++) {
      const r = (await nc.request(`$JS.API.STREAM.MSG.GET.${loadStream}`, JSON.stringify({ seq }), { timeout: 5_000 })).json<{
        message?: { data: string };
        error?: { description: string };
      }>();
      if (r.message) got = Buffer.from(r.message.data, "base64").toString();
      else if (attempt === 2) got = `(${r.error?.description ?? "no message"})`;
      else await new Promise((res) => setTimeout(res, 500));
    }
    bySeq.set(seq, got);
  }
  return bySeq;
}

export interface LoadResult {
  acked: number;
  /** Acknowledged ids not in the stream, with the sequence their ack gave and what that sequence holds. */
  lost: { id: string; seq: number; holds?: string }[];
  duplicates: number;
  failures: number;
  /** The longest time between two acks, ms. */
  longestGapMs: number;
}

/** Starts publishing orders.<round>.<n>; `stop()` ends it and checks the stream. */
export async function startLoad(nc: NatsConnection, round: string) {
  const after = await lastSeq(nc);
  const acked = new Map<string, number>();
  let stopped = false;
  let longestGapMs = 0;
  let failures = 0;
  const done = (async () => {
    let n = 0;
    let lastAck = performance.now();
    while (!stopped) {
      const id = `${round}.${n}`;
      const h = headers();
      h.set("Nats-Msg-Id", id);
      try {
        // An error reply still carries "seq": 0 ({"error":{…},"stream":"ORDERS","seq":0}): not an ack.
        const ack = (await nc.request(`orders.${id}`, id, { timeout: ackTimeoutMs, headers: h })).json<{ seq?: number; error?: unknown }>();
        if (ack.error || !ack.seq) throw new Error(JSON.stringify(ack));
        acked.set(id, ack.seq);
        longestGapMs = Math.max(longestGapMs, performance.now() - lastAck);
        lastAck = performance.now();
        n++;
      } catch {
        failures++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  return {
    acked: () => acked.size,
    /** The longest time between two acks since the start or the last `forgetGaps()`, ms. */
    longestGapMs: () => longestGapMs,
    /** Measure the longest gap from now on (leaves the stream's start-up out of it). */
    forgetGaps: () => {
      longestGapMs = 0;
    },
    async stop(): Promise<LoadResult> {
      stopped = true;
      await done;
      const bySeq = await stored(nc, after);
      const ids = new Set([...bySeq.values()].filter((x) => !x.startsWith("(")));
      const lost = [...acked].filter(([id]) => !ids.has(id)).map(([id, seq]) => ({ id, seq, holds: bySeq.get(seq) }));
      const readable = [...bySeq.values()].filter((x) => !x.startsWith("(")).length;
      return { acked: acked.size, lost, duplicates: readable - ids.size, failures, longestGapMs };
    },
  };
}
