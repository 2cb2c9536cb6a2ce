/** Counters in the Prometheus text format, served at /metrics next to the health endpoints. */
export interface Counter {
  inc(labels?: Record<string, string>, by?: number): void;
}

const counters = new Map<string, { help: string; values: Map<string, number> }>();

export function counter(name: string, help: string): Counter {
  let c = counters.get(name);
  if (!c) {
    c = { help, values: new Map() };
    counters.set(name, c);
  }
  const values = c.values;
  return {
    inc(labels = {}, by = 1) {
      const key = Object.entries(labels)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`)
        .join(",");
      values.set(key, (values.get(key) ?? 0) + by);
    },
  };
}

export function renderMetrics(): string {
  const out: string[] = [];
  const mem = process.memoryUsage();
  out.push(
    "# HELP process_resident_memory_bytes Resident memory size in bytes.",
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${mem.rss}`,
    "# HELP satellite_heap_used_bytes JavaScript heap in use, in bytes.",
    "# TYPE satellite_heap_used_bytes gauge",
    `satellite_heap_used_bytes ${mem.heapUsed}`,
    "# HELP satellite_heap_total_bytes JavaScript heap reserved, in bytes.",
    "# TYPE satellite_heap_total_bytes gauge",
    `satellite_heap_total_bytes ${mem.heapTotal}`,
    "# HELP satellite_external_memory_bytes Memory of objects outside the JavaScript heap (buffers), in bytes.",
    "# TYPE satellite_external_memory_bytes gauge",
    `satellite_external_memory_bytes ${mem.external}`,
  );
  for (const [name, c] of counters) {
    out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
    for (const [labels, v] of c.values) out.push(`${name}${labels ? `{${labels}}` : ""} ${v}`);
  }
  return `${out.join("\n")}\n`;
}
