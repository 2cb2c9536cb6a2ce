// Times in nats-server's monitoring JSON (Go's RFC 3339 with nanoseconds) as the exporter gives them.

const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

export const isTime = (s: string) => rfc3339.test(s);

/** Milliseconds since the epoch (below a millisecond dropped), or -1, as the exporter, when `s` is not a time. */
export function epochMs(s: string): number {
  const ms = isTime(s) ? Date.parse(s) : Number.NaN;
  return Number.isNaN(ms) ? -1 : ms;
}
