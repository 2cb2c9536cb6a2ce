// The exporter's conversion: real nats-server 2.14 monitoring JSON (captured by
// scripts/capture-monitor-fixtures.ts from two routed servers with JetStream, a replicated stream,
// a consumer and a client) → prometheus-nats-exporter's names (-prefix=nats), types and labels.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type MonitorAnswer, type MonitorEndpoint, monitorPath, natsServerMetrics, serverIdOf } from "../../handlers/index.ts";
import { epochMs } from "../../handlers/metrics/rfc3339.ts";
import { renderFamilies } from "../../runtime/metrics.ts";
import { lintBeyondExporterNames, promtoolCheck } from "../harness/promtool.ts";

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/nats-monitor/${name}.json`, import.meta.url), "utf8"));
const varz = fixture("varz");
const id = varz.server_id as string;
const all: MonitorEndpoint[] = ["varz", "connz", "routez", "subz", "healthz", "jsz"];
const answers = (jsz = "jsz-consumers"): Partial<Record<MonitorEndpoint, MonitorAnswer>> => ({
  varz: { json: varz },
  connz: { json: fixture("connz") },
  routez: { json: fixture("routez") },
  subz: { json: fixture("subsz") },
  healthz: { json: fixture("healthz") },
  jsz: { json: fixture(jsz) },
});

/** The exposition's samples as "name{labels}" → value, and each family's type. */
function parsed(text: string) {
  const values = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    else if (line && !line.startsWith("#")) values.set(line.slice(0, line.lastIndexOf(" ")), Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return { values, types };
}
const text = renderFamilies(natsServerMetrics({ endpoints: all, answers: answers() }));
const { values, types } = parsed(text);
const sid = `server_id="${id}"`;

describe("nats-server's monitoring JSON as prometheus-nats-exporter's metrics", () => {
  it("flattens /varz: numbers as gauges named by their path, the exporter's alert names among them", () => {
    expect(values.get(`nats_varz_slow_consumers{${sid}}`)).toBe(varz.slow_consumers);
    expect(values.get(`nats_varz_connections{${sid}}`)).toBe(1);
    expect(values.get(`nats_varz_in_msgs{${sid}}`)).toBe(varz.in_msgs);
    expect(values.get(`nats_varz_mem{${sid}}`)).toBe(varz.mem);
    expect(values.get(`nats_varz_jetstream_stats_storage{${sid}}`)).toBe(varz.jetstream.stats.storage);
    expect(values.get(`nats_varz_jetstream_stats_api_errors{${sid}}`)).toBe(0);
    expect(values.get(`nats_varz_slow_consumer_stats_clients{${sid}}`)).toBe(0);
    expect(values.get(`nats_varz_jetstream_meta_cluster_size{${sid}}`)).toBe(2);
    // "/healthz" in a key: "/" becomes "_", and no "__".
    expect(values.get(`nats_varz_http_req_stats_healthz{${sid}}`)).toBe(varz.http_req_stats["/healthz"]);
    expect(types.get("nats_varz_slow_consumers")).toBe("gauge");
    expect(text).toContain("# HELP nats_varz_slow_consumers slow_consumers\n");
  });

  it("keeps /varz's identifying strings as a value label, its times as ms since the epoch, and leaves the rest out", () => {
    expect(values.get(`nats_varz_version{${sid},value="2.14.9"}`)).toBe(1);
    expect(values.get(`nats_varz_server_name{${sid},value="fx-a"}`)).toBe(1);
    expect(values.get(`nats_varz_cluster_name{${sid},value="fx"}`)).toBe(1);
    expect(values.get(`nats_varz_jetstream_meta_leader{${sid},value="fx-b"}`)).toBe(1);
    expect(values.get(`nats_varz_start{${sid}}`)).toBe(Date.parse("2026-12-03T16:51:53.007Z"));
    expect(values.get(`nats_varz_config_load_time{${sid}}`)).toBe(Date.parse("2026-12-03T16:51:53.007Z"));
    const names = [...types.keys()];
    // Other strings (host, uptime, now, config_digest), arrays, booleans: not metrics, as the exporter.
    for (const absent of ["nats_varz_host", "nats_varz_uptime", "nats_varz_now", "nats_varz_config_digest", "nats_varz_connect_urls"])
      expect(names).not.toContain(absent);
    expect(names.filter((n) => n.startsWith("nats_varz_jetstream_config_strict") || n.startsWith("nats_varz_feature_flags"))).toEqual([]);
    // Settings the exporter skips.
    expect(names.filter((n) => /^nats_varz_(cluster_(cluster_port|tls_timeout|auth_timeout)|leaf_)/.test(n))).toEqual([]);
    expect(values.get(`nats_varz_cluster_pool_size{${sid}}`)).toBe(3);
  });

  it("totals /connz: counts as gauges, traffic as counters", () => {
    const connz = fixture("connz");
    expect(values.get(`nats_connz_num_connections{${sid}}`)).toBe(connz.num_connections);
    expect(values.get(`nats_connz_total{${sid}}`)).toBe(1);
    expect(values.get(`nats_connz_limit{${sid}}`)).toBe(1024);
    expect(values.get(`nats_connz_subscriptions{${sid}}`)).toBe(2);
    expect(values.get(`nats_connz_in_msgs{${sid}}`)).toBe(connz.connections[0].in_msgs);
    expect(values.get(`nats_connz_out_bytes{${sid}}`)).toBe(connz.connections[0].out_bytes);
    expect(types.get("nats_connz_num_connections")).toBe("gauge");
    for (const c of ["in_bytes", "out_bytes", "in_msgs", "out_msgs"]) expect(types.get(`nats_connz_${c}`)).toBe("counter");
  });

  it("flattens /routez and /subsz as /varz", () => {
    expect(values.get(`nats_routez_num_routes{${sid}}`)).toBe(4);
    expect(values.get(`nats_routez_server_name{${sid},value="fx-a"}`)).toBe(1);
    expect(values.get(`nats_subsz_num_subscriptions{${sid}}`)).toBe(fixture("subsz").num_subscriptions);
    expect(values.get(`nats_subsz_cache_hit_rate{${sid}}`)).toBeCloseTo(0.4545, 3);
  });

  it("gives /healthz's status both ways", () => {
    expect(values.get(`nats_healthz_status{${sid}}`)).toBe(0);
    expect(values.get(`nats_healthz_status_value{${sid},value="ok"}`)).toBe(1);
    const unhealthy = parsed(
      renderFamilies(
        natsServerMetrics({
          endpoints: ["healthz"],
          answers: { varz: { json: varz }, healthz: { json: { status: "unavailable", error: "JetStream is not current" } } },
        }),
      ),
    ).values;
    expect(unhealthy.get(`nats_healthz_status{${sid}}`)).toBe(1);
    expect(unhealthy.get(`nats_healthz_status_value{${sid},value="unavailable"}`)).toBe(0);
  });

  it("gives JetStream's server totals, accounts, streams and consumers with the exporter's labels", () => {
    const server = `${sid},server_name="fx-a",cluster="fx",domain="",meta_leader="fx-b",is_meta_leader="false"`;
    const sorted = (labels: string) =>
      labels
        .split(/,(?=[a-z_]+=)/)
        .sort()
        .join(",");
    const get = (name: string, labels: string) => values.get(`${name}{${sorted(labels)}}`);
    expect(get("nats_server_total_streams", server)).toBe(1);
    expect(get("nats_server_total_consumers", server)).toBe(1);
    expect(get("nats_server_total_messages", server)).toBe(3);
    expect(get("nats_server_jetstream_disabled", server)).toBe(0);
    expect(get("nats_server_max_storage", server)).toBe(varz.jetstream.config.max_storage);
    const account = `${server},account="$G",account_name="$G",account_id="$G"`;
    expect(get("nats_account_storage_used", account)).toBe(180);
    const stream = `${account},stream_name="ORDERS",stream_leader="fx-a",is_stream_leader="true",stream_raft_group="S-R2F-W8G7m9bO"`;
    expect(get("nats_stream_total_messages", stream)).toBe(3);
    expect(get("nats_stream_last_seq", stream)).toBe(3);
    expect(get("nats_stream_consumer_count", stream)).toBe(1);
    expect(get("nats_stream_limit_messages", stream)).toBe(1000);
    expect(get("nats_stream_limit_bytes", stream)).toBe(-1);
    const consumer = `${stream},consumer_name="shipper",consumer_leader="fx-a",is_consumer_leader="true",consumer_desc="ships orders"`;
    expect(get("nats_consumer_num_pending", consumer)).toBe(3);
    expect(get("nats_consumer_num_ack_pending", consumer)).toBe(0);
    expect(get("nats_consumer_delivered_stream_seq", consumer)).toBe(0);
    // Nothing delivered yet: no time since the last delivery.
    expect([...types.keys()]).not.toContain("nats_consumer_last_delivery_seconds");
    expect(types.get("nats_stream_total_messages")).toBe("gauge");
  });

  it("gives JetStream's level of detail as asked: server totals only, or accounts", () => {
    const server = parsed(
      renderFamilies(natsServerMetrics({ endpoints: ["jsz"], answers: { varz: { json: varz }, jsz: { json: fixture("jsz-accounts") } } })),
    );
    expect([...server.types.keys()].filter((n) => /^nats_(stream|consumer)_/.test(n))).toEqual([]);
    expect([...server.types.keys()]).toContain("nats_account_memory_used");
    expect(monitorPath("jsz", "server")).toBe("jsz");
    expect(monitorPath("jsz", "streams")).toBe("jsz?streams=true&config=true");
    expect(monitorPath("subz")).toBe("subsz");
  });

  it("says the server answered: nats_up 1 and each endpoint up", () => {
    expect(values.get("nats_up")).toBe(1);
    for (const e of all) expect(values.get(`nats_endpoint_up{endpoint="${e}"}`)).toBe(1);
  });

  it("when the server does not answer: nats_up 0, healthz unreachable under the ID it had, no stale values", () => {
    const down = { error: "/varz: fetch failed (connect ECONNREFUSED 127.0.0.1:8222)" };
    const answersDown = Object.fromEntries(all.map((e) => [e, down]));
    const out = parsed(renderFamilies(natsServerMetrics({ endpoints: all, answers: answersDown, lastServerId: id })));
    expect(out.values.get("nats_up")).toBe(0);
    for (const e of all) expect(out.values.get(`nats_endpoint_up{endpoint="${e}"}`)).toBe(0);
    expect(out.values.get(`nats_healthz_status_value{${sid},value="unreachable"}`)).toBe(0);
    expect([...out.types.keys()].sort()).toEqual(["nats_endpoint_up", "nats_healthz_status_value", "nats_up"]);
  });

  it("one endpoint failing leaves the others' series, and says which failed", () => {
    const partly = answers();
    partly.jsz = { error: "/jsz: HTTP 500" };
    const out = parsed(renderFamilies(natsServerMetrics({ endpoints: all, answers: partly }))).values;
    expect(out.get("nats_up")).toBe(1);
    expect(out.get(`nats_endpoint_up{endpoint="jsz"}`)).toBe(0);
    expect(out.get(`nats_varz_slow_consumers{${sid}}`)).toBe(0);
    expect([...out.keys()].some((k) => k.startsWith("nats_server_"))).toBe(false);
  });

  it("takes JSON it does not expect without throwing, and gives only what is well formed", () => {
    const odd: Partial<Record<MonitorEndpoint, MonitorAnswer>> = {
      varz: { json: { server_id: 'we"ird\\id\n', "bad-key.x": 3, nested: { "a b": 1, ok: 2 }, list: [1, 2], n: null } },
      connz: { json: { connections: [null, { in_msgs: "x" }, { in_msgs: 4 }] } },
      routez: { json: [] },
      subz: { json: "not an object" },
      jsz: { json: { account_details: [{ stream_detail: [{ consumer_detail: [{}] }] }] } },
      healthz: { json: {} },
    };
    const out = renderFamilies(natsServerMetrics({ endpoints: all, answers: odd }));
    expect(out).toContain('nats_varz_nested_ok{server_id="we\\"ird\\\\id\\n"} 2\n');
    expect(out).toContain('nats_connz_in_msgs{server_id="we\\"ird\\\\id\\n"} 4\n');
    expect(out).not.toContain("bad-key");
    expect(out).not.toContain("nats_routez");
    expect(parsed(out).values.get('nats_endpoint_up{endpoint="routez"}')).toBe(0);
    expect(promtoolCheck(out).code).not.toBe(1);
  });

  it("reads the server's ID from whichever endpoint has it", () => {
    expect(serverIdOf({ varz: { error: "x" }, connz: { json: { server_id: "NC" } } })).toBe("NC");
    expect(serverIdOf({ healthz: { json: { status: "ok" } } })).toBeUndefined();
  });

  it("reads times as the exporter: RFC 3339 with nanoseconds, -1 for anything else", () => {
    expect(epochMs("2026-12-03T16:51:53.007459517Z")).toBe(Date.UTC(2026, 11, 3, 16, 51, 53, 7));
    expect(epochMs("0001-01-01T00:00:00Z")).toBe(-62135596800000);
    expect(epochMs("2.14.9")).toBe(-1);
    expect(epochMs("")).toBe(-1);
  });

  it("passes promtool check metrics: well formed, its only complaints the exporter's own names", () => {
    const r = promtoolCheck(text);
    // 3: lint problems only (1 would be a parse error).
    expect(r.code).toBe(3);
    expect(lintBeyondExporterNames(r.said)).toEqual([]);
  });
});
