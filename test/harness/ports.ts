import { createServer } from "node:net";
import { inspect } from "node:util";

/** A TCP port that was free on `host` a moment ago. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function freePorts(n: number, host = "127.0.0.1"): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort(host));
  return [...ports];
}

/**
 * Polls `probe` every `everyMs` until it returns something truthy, and returns that. A probe that
 * throws is tried again (the thing may not be there yet). On time out it throws, naming what it
 * waited for, how many tries it made, what the last try gave (its error or its value) and the
 * last error seen, so a failure says why, not only that it took too long.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let tries = 0;
  let last: { error: unknown } | { value: unknown } = { value: undefined };
  let lastError: { error: unknown; try: number } | undefined;
  for (;;) {
    tries++;
    try {
      const v = await probe();
      if (v) return v;
      last = { value: v };
    } catch (e) {
      last = { error: e };
      lastError = { error: e, try: tries };
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await new Promise((r) => setTimeout(r, Math.min(everyMs, left)));
  }
  const gave = "error" in last ? `threw: ${errorText(last.error)}` : `returned ${shown(last.value)}`;
  const earlier = lastError && !("error" in last) ? `; last error (try ${lastError.try}): ${errorText(lastError.error)}` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${tries} tries); the last try ${gave}${earlier}`, {
    cause: lastError?.error,
  });
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const shown = (v: unknown) => {
  const text = inspect(v, { depth: 2, breakLength: Infinity, maxStringLength: 200 });
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/** Whether `port` on 127.0.0.1 can be listened on right now. */
export async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
      .once("error", () => resolve(false))
      .listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}
