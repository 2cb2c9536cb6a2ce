import type { NatsConnection } from "@nats-io/nats-core";
import type { Logger } from "../log.ts";
import { connectNats, type NatsAuthOptions } from "../nats/connect.ts";

/**
 * The reloader's NATS side, best effort: reports out, asks in. The file and reload work never
 * waits for it: NATS down, refusing the credentials or asking for TLS the sidecar lacks only
 * means no reports until a later attempt connects.
 */
export interface ReportLink {
  publish(subject: string, data: string): void;
  /** Calls `fn` for each message on `subject`, on this and every later connection. */
  onMessage(subject: string, fn: () => void): void;
  close(): Promise<void>;
}

export function startReportLink(o: NatsAuthOptions, log: Logger, retryMs = 30_000): ReportLink {
  let nc: NatsConnection | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const handlers: [string, () => void][] = [];
  const attach = (c: NatsConnection, subject: string, fn: () => void) => c.subscribe(subject, { callback: () => fn() });

  void (async () => {
    while (!closed) {
      try {
        const c = await connectNats(o, log);
        if (closed) {
          await c.close();
          return;
        }
        nc = c;
        for (const [s, fn] of handlers) attach(c, s, fn);
        const err = await c.closed();
        nc = undefined;
        if (closed) return;
        log.warn("NATS connection for reload reports closed; the reloader goes on without reports and tries again", {
          error: err ? String(err) : undefined,
          retryInSeconds: retryMs / 1000,
        });
      } catch (e) {
        log.warn("no NATS connection for reload reports; the reloader goes on without reports and tries again", {
          error: (e as Error).message,
          retryInSeconds: retryMs / 1000,
        });
      }
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, retryMs).unref?.();
      });
    }
  })();

  return {
    publish(subject, data) {
      if (nc && !nc.isClosed()) nc.publish(subject, data);
    },
    onMessage(subject, fn) {
      handlers.push([subject, fn]);
      if (nc && !nc.isClosed()) attach(nc, subject, fn);
    },
    async close() {
      closed = true;
      wake?.();
      await nc?.drain().catch(() => undefined);
    },
  };
}
