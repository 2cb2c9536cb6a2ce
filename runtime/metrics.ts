// Metrics in the Prometheus text format (version 0.0.4), served at /metrics next to the health
// endpoints. Counters and histograms are kept here; gauges are read when scraped, from the state
// they describe, so a gauge has no series for something that is gone.

import type { MetricFamily } from "../handlers/index.ts";

export type Labels = Record<string, string>;

export interface Counter {
  inc(labels?: Labels, by?: number): void;
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
}

type Series = { labels: Labels; value: number };
type Family =
  | { type: "counter"; help: string; series: Map<string, Series> }
  | {
      type: "histogram";
      help: string;
      buckets: number[];
      series: Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>;
    }
  | { type: "gauge"; help: string; read: () => Iterable<[Labels, number]> };

const families = new Map<string, Family>();
const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function register<F extends Family>(name: string, family: F): F {
  if (!metricName.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not a Prometheus metric name`);
  const had = families.get(name);
  if (had && had.type !== family.type) throw new Error(`metric ${name} is registered as a ${had.type} already`);
  // Counters and histograms keep their values when registered again (a module loaded twice, a restarted part).
  if (had && had.type !== "gauge") return had as F;
  families.set(name, family);
  return family;
}

/** A stable key for a label set, checking the label names once. */
function keyOf(name: string, labels: Labels): string {
  const names = Object.keys(labels).sort();
  for (const n of names) {
    if (!labelName.test(n) || n.startsWith("__")) throw new Error(`metric ${name}: ${JSON.stringify(n)} is not a label name`);
  }
  return names.map((n) => `${n}\u0000${labels[n]}`).join("\u0001");
}

export function counter(name: string, help: string): Counter {
  const f = register(name, { type: "counter", help, series: new Map() });
  return {
    inc(labels = {}, by = 1) {
      if (!(by >= 0)) throw new Error(`metric ${name}: a counter cannot change by ${by}`);
      const key = keyOf(name, labels);
      const s = f.series.get(key);
      if (s) s.value += by;
      else f.series.set(key, { labels: { ...labels }, value: by });
    },
  };
}

/** Upper bounds of the buckets, in seconds: from 5 ms to a minute. */
export const secondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function histogram(name: string, help: string, buckets = secondsBuckets): Histogram {
  if (!buckets.length || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!)))
    throw new Error(`metric ${name}: buckets must be finite and increasing, got ${buckets.join(", ")}`);
  const f = register(name, { type: "histogram", help, buckets, series: new Map() });
  return {
    observe(labels, value) {
      if ("le" in labels) throw new Error(`metric ${name}: "le" is the bucket label of a histogram`);
      if (!Number.isFinite(value)) throw new Error(`metric ${name}: cannot observe ${value}`);
      const key = keyOf(name, labels);
      let s = f.series.get(key);
      if (!s) {
        s = { labels: { ...labels }, counts: f.buckets.map(() => 0), sum: 0, count: 0 };
        f.series.set(key, s);
      }
      const i = f.buckets.findIndex((b) => value <= b);
      if (i >= 0) s.counts[i]!++;
      s.sum += value;
      s.count++;
    },
  };
}

/**
 * A gauge whose series are what `read` returns at each scrape. Registering the name again replaces
 * the reader; the function returned takes this reader away (and only this one).
 */
export function gaugeFrom(name: string, help: string, read: () => Iterable<[Labels, number]>): () => void {
  const f = register(name, { type: "gauge", help, read });
  return () => {
    if (families.get(name) === f) families.delete(name);
  };
}

/** Takes away every counter and histogram series whose labels include all of `match` (what they count is gone). */
export function forgetSeries(match: Labels): void {
  const matches = (labels: Labels) => Object.entries(match).every(([k, v]) => labels[k] === v);
  for (const f of families.values()) {
    if (f.type === "gauge") continue;
    for (const [key, s] of f.series) if (matches(s.labels)) f.series.delete(key);
  }
}

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeValue = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const number = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v));

function sample(name: string, labels: Labels, value: number, extra?: [string, string]): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}="${escapeValue(v)}"`);
  if (extra) pairs.push(`${extra[0]}="${extra[1]}"`);
  return `${name}${pairs.length ? `{${pairs.join(",")}}` : ""} ${number(value)}`;
}

/** Families computed at a scrape (the exporter's), in the same format; a series given twice is written once. */
export function renderFamilies(list: MetricFamily[]): string {
  const out: string[] = [];
  for (const f of list) {
    if (!metricName.test(f.name)) throw new Error(`metric name ${JSON.stringify(f.name)} is not a Prometheus metric name`);
    const seen = new Set<string>();
    const lines = f.samples.filter((s) => !seen.has(keyOf(f.name, s.labels)) && seen.add(keyOf(f.name, s.labels)));
    out.push(
      `# HELP ${f.name} ${escapeHelp(f.help)}`,
      `# TYPE ${f.name} ${f.type}`,
      ...lines.map((s) => sample(f.name, s.labels, s.value)),
    );
  }
  return `${out.join("\n")}\n`;
}

/** Every family, or those `only` keeps. */
export function renderMetrics(only?: (name: string) => boolean): string {
  const out: string[] = [];
  for (const [name, f] of families) {
    if (only && !only(name)) continue;
    const lines: string[] = [];
    if (f.type === "counter") {
      for (const s of f.series.values()) lines.push(sample(name, s.labels, s.value));
    } else if (f.type === "gauge") {
      const seen = new Set<string>();
      for (const [labels, value] of f.read()) {
        const key = keyOf(name, labels);
        if (seen.has(key)) throw new Error(`metric ${name}: the series ${JSON.stringify(labels)} was read twice`);
        seen.add(key);
        lines.push(sample(name, labels, value));
      }
    } else {
      for (const s of f.series.values()) {
        let cumulative = 0;
        f.buckets.forEach((b, i) => {
          cumulative += s.counts[i]!;
          lines.push(sample(`${name}_bucket`, s.labels, cumulative, ["le", number(b)]));
        });
        lines.push(sample(`${name}_bucket`, s.labels, s.count, ["le", "+Inf"]));
        lines.push(sample(`${name}_sum`, s.labels, s.sum), sample(`${name}_count`, s.labels, s.count));
      }
    }
    out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...lines);
  }
  return `${out.join("\n")}\n`;
}
