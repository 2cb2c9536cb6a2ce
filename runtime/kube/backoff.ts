/** Jittered exponential backoff: base·2^attempt, capped, each delay in [d/2, d]. */
export function backoffDelay(attempt: number, baseMs = 200, capMs = 30_000, random: () => number = Math.random): number {
  const d = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return d / 2 + random() * (d / 2);
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
