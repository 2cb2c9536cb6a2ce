// nats-server's monitoring JSON → Prometheus metric families, named as prometheus-nats-exporter
// names them when run with -prefix=nats -use_internal_server_id (so its dashboards and alerts
// work unchanged), plus nats_up and nats_endpoint_up, which say whether the server answered.
//
// As the exporter: /varz, /routez and /subsz are flattened, every number a gauge named after its
// path (nats_varz_jetstream_stats_memory), the few identifying strings a gauge of 1 with a `value`
// label (nats_varz_version{value="2.14.9"}), times in ms since the epoch; /connz gives totals,
// /healthz a status, /jsz JetStream (jsz-metrics.ts). Every series is labelled `server_id`.

import { jszMetrics } from "./jsz-metrics.ts";
import { type FamilyList, familyList, type MetricFamily } from "./metric-family.ts";
import { epochMs, isTime } from "./rfc3339.ts";

export type MonitorEndpoint = "varz" | "connz" | "routez" | "subz" | "healthz" | "jsz";
export const monitorEndpoints: readonly MonitorEndpoint[] = ["varz", "connz", "routez", "subz", "healthz", "jsz"];

/** How much of JetStream /jsz is asked for: the server's totals, and each account, stream, consumer. */
export type JszDetail = "server" | "accounts" | "streams" | "consumers";
export const jszDetails: readonly JszDetail[] = ["server", "accounts", "streams", "consumers"];

const prefix = "nats";

/** The path and query the exporter asks the server for an endpoint. */
export function monitorPath(e: MonitorEndpoint, jsz: JszDetail = "server"): string {
  if (e === "subz") return "subsz";
  if (e !== "jsz") return e;
  return {
    server: "jsz",
    accounts: "jsz?accounts=true",
    streams: "jsz?streams=true&config=true",
    consumers: "jsz?consumers=true&config=true",
  }[jsz];
}

/** An endpoint's answer: its JSON, or why there is none. */
export type MonitorAnswer = { json: unknown } | { error: string };

export interface ServerScrape {
  /** The endpoints asked for; /varz is always asked too (it names the server). */
  endpoints: readonly MonitorEndpoint[];
  answers: Partial<Record<MonitorEndpoint, MonitorAnswer>>;
  /** The server_id an earlier scrape learnt, for series when the server does not answer now. */
  lastServerId?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const jsonOf = (a: MonitorAnswer | undefined): Json | undefined => (a && "json" in a && isObject(a.json) ? a.json : undefined);

/** The server's own ID, from whichever answer has it. */
export function serverIdOf(answers: ServerScrape["answers"]): string | undefined {
  for (const e of ["varz", "connz", "routez", "jsz", "subz"] as const) {
    const id = jsonOf(answers[e])?.server_id;
    if (typeof id === "string" && id) return id;
  }
  return undefined;
}

export function natsServerMetrics(s: ServerScrape): MetricFamily[] {
  const out = familyList();
  const varz = jsonOf(s.answers.varz);
  out.add(`${prefix}_up`, "gauge", "1 when nats-server answered /varz at this scrape, 0 when it did not", {}, varz ? 1 : 0);
  for (const e of s.endpoints)
    out.add(
      `${prefix}_endpoint_up`,
      "gauge",
      "1 when nats-server answered this endpoint at this scrape, 0 when it did not",
      { endpoint: e },
      jsonOf(s.answers[e]) ? 1 : 0,
    );
  const id = serverIdOf(s.answers) ?? s.lastServerId ?? "";
  for (const e of s.endpoints) {
    const json = jsonOf(s.answers[e]);
    if (e === "healthz") healthz(out, id, json);
    else if (!json) continue;
    else if (e === "connz") connz(out, id, json);
    else if (e === "jsz") jszMetrics(out, prefix, id, json, varz);
    else flatten(out, `${prefix}_${monitorPath(e)}`, id, json, []);
  }
  return out.families();
}

// ── /varz, /routez, /subsz: every number, flattened ─────────────────────────────────────────

/** The exporter leaves these out (settings, not state, or the leafnode section). */
const skipped = new Set([
  "leaf",
  "trusted_operators_claim",
  "cluster_tls_timeout",
  "cluster_cluster_port",
  "cluster_auth_timeout",
  "gateway_port",
  "gateway_auth_timeout",
  "gateway_tls_timeout",
  "gateway_connect_retries",
]);
/** Strings the exporter keeps: times as their ms since the epoch, the others as a `value` label. */
const stringKeys = new Set(["server_id", "server_name", "version", "domain", "leader", "name", "start", "config_load_time"]);
const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** A path as the exporter names it: joined by "_", "/" as "_", no leading, trailing or double "_". */
const fqn = (path: string[]) =>
  path
    .join("_")
    .replace(/\//g, "_")
    .replace(/_{2,}/g, "_")
    .replace(/^_+|_+$/g, "");

function flatten(out: FamilyList, base: string, id: string, obj: Json, path: string[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const p = [...path, k];
    const short = fqn(p);
    const name = `${base}_${short}`;
    if (skipped.has(short) || out.has(name) || !metricName.test(name)) continue;
    if (typeof v === "number") out.add(name, "gauge", short, { server_id: id }, v);
    else if (typeof v === "string" && stringKeys.has(k))
      if (isTime(v)) out.add(name, "gauge", short, { server_id: id }, epochMs(v));
      else out.add(name, "gauge", short, { server_id: id, value: v }, 1);
    else if (isObject(v)) flatten(out, base, id, v, p);
  }
}

// ── /connz: the totals ──────────────────────────────────────────────────────────────────────

function connz(out: FamilyList, id: string, json: Json): void {
  const conns = Array.isArray(json.connections) ? json.connections.filter(isObject) : [];
  const sum = (k: string) => conns.reduce((n, c) => n + (typeof c[k] === "number" ? c[k] : 0), 0);
  const num = (k: string) => (typeof json[k] === "number" ? json[k] : 0);
  const labels = { server_id: id };
  for (const k of ["num_connections", "total", "offset", "limit"]) out.add(`${prefix}_connz_${k}`, "gauge", k, labels, num(k));
  for (const k of ["pending_bytes", "subscriptions"]) out.add(`${prefix}_connz_${k}`, "gauge", k, labels, sum(k));
  for (const k of ["in_bytes", "out_bytes", "in_msgs", "out_msgs"]) out.add(`${prefix}_connz_${k}`, "counter", k, labels, sum(k));
}

// ── /healthz ────────────────────────────────────────────────────────────────────────────────

/** nats_healthz_status: 0 ok, 1 not (only when it answered); _status_value: 1 ok, with the status, "unreachable" when it did not answer. */
function healthz(out: FamilyList, id: string, json: Json | undefined): void {
  const status = typeof json?.status === "string" ? json.status : undefined;
  if (json) out.add(`${prefix}_healthz_status`, "gauge", "status", { server_id: id }, status === "ok" ? 0 : 1);
  out.add(
    `${prefix}_healthz_status_value`,
    "gauge",
    "status",
    { server_id: id, value: json ? (status ?? "") : "unreachable" },
    status === "ok" ? 1 : 0,
  );
}
