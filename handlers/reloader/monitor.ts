import { type ConfMap, parseNatsConf } from "./nats-conf.ts";

/**
 * nats-server's monitoring endpoint as its config sets it: `http`/`https` (a port, or host:port),
 * `http_port`/`https_port`/`monitor_port`. A wildcard host is reached on loopback. None: undefined.
 */
export function monitorUrlOf(conf: ConfMap): string | undefined {
  const str = (k: string) => (typeof conf[k] === "string" ? (conf[k] as string) : undefined);
  for (const [scheme, keys] of [
    ["https", ["https", "https_port"]],
    ["http", ["http", "http_port", "monitor_port"]],
  ] as const) {
    for (const k of keys) {
      const v = str(k);
      if (!v) continue;
      const m = /^(?:(.*):)?(\d+)$/.exec(v);
      if (!m || m[2] === "0" || m[2]!.startsWith("-")) continue;
      const host = !m[1] || m[1] === "0.0.0.0" || m[1] === "::" || m[1] === "[::]" ? "127.0.0.1" : m[1];
      return `${scheme}://${host}:${m[2]}`;
    }
  }
  return undefined;
}

/** The monitoring endpoint the config files set (`entry` and what it includes), none, or why it cannot be read. */
export function monitorOfConfigFiles(
  files: Record<string, string>,
  entry: string,
): { url?: string } | { error: { code: number; message: string } } {
  const read = parseNatsConf(files, entry);
  return "error" in read ? read : { url: monitorUrlOf(read.conf) };
}
