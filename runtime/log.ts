export type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  with(fields: Record<string, unknown>): Logger;
}

export interface LogOptions {
  level?: Level;
  /** "json" (one object a line) or "text"; default: text on a TTY, json otherwise. */
  format?: "json" | "text";
  write?: (line: string) => void;
}

/** Structured logs on stderr: JSON lines in a pod, readable text on a terminal. */
export function createLogger(opts: LogOptions = {}, base: Record<string, unknown> = {}): Logger {
  const min = order[opts.level ?? "info"];
  const format = opts.format ?? (process.stderr.isTTY ? "text" : "json");
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: Level, msg: string, fields: Record<string, unknown> = {}) => {
    if (order[level] < min) return;
    const all = { ...base, ...fields };
    if (format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }));
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ""}`);
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (f) => createLogger({ ...opts, format, write }, { ...base, ...f }),
  };
}
