// `satellite exporter` from the built bundle, on Node (20 and the LTS) and Deno with the image's
// flags, in front of a real nats-server with JetStream, a stream and a connected client: the
// scrape passes promtool, its values are the server's own, and when the server stops the
// exporter keeps answering with nats_up 0.

import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type NatsServer, startNatsServer, waitFor } from "../harness/index.ts";
import type { Proc } from "../harness/process.ts";
import { lintBeyondExporterNames, promtoolCheck } from "../harness/promtool.ts";
import { type Runtime, startSatellite, waitForLog } from "../harness/satellite.ts";

/** The value of one series, given as the exposition writes it (labels sorted), or undefined. */
function seriesValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each<Runtime>(["node", "node-lts", "deno"])("satellite exporter on %s", (runtime) => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let exporter: Proc;
  let port: number;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    const check = promtoolCheck(text);
    // 0 or 3 (lint only); the only lints allowed are those of prometheus-nats-exporter's own names.
    expect([0, 3], `promtool check metrics:\n${check.said}\n${text}`).toContain(check.code);
    expect(lintBeyondExporterNames(check.said)).toEqual([]);
    return text;
  };

  beforeAll(async () => {
    const store = mkdtempSync(join(tmpdir(), `satellite-exporter-js-${runtime}-`));
    nats = await startNatsServer({ name: `exp-${runtime}`, extra: `jetstream { store_dir: "${store}" }` });
    nc = await connect({ servers: nats.url, name: "exporter-test-client" });
    const api = async (subject: string, body: unknown) => {
      const r = JSON.parse((await nc.request(subject, JSON.stringify(body), { timeout: 5_000 })).string());
      if (r.error) throw new Error(`${subject}: ${JSON.stringify(r.error)}`);
      return r;
    };
    await api("$JS.API.STREAM.CREATE.ORDERS", { name: "ORDERS", subjects: ["orders.>"], max_msgs: 1000 });
    for (let i = 0; i < 3; i++) await nc.request(`orders.${i}`, `order ${i}`, { timeout: 5_000 });
    port = await freePort();
    const monitor = `http://127.0.0.1:${nats.monitorPort}`;
    exporter = startSatellite(["exporter", "-monitor", monitor, "-listen", `127.0.0.1:${port}`, "-jsz", "streams", "-log-format", "json"], {
      runtime,
      name: `exporter on ${runtime}`,
    });
    await waitForLog(exporter, '"msg":"satellite exporter"');
  });

  afterAll(async () => {
    await nc?.close();
    await exporter?.stop();
    await nats?.stop();
  });

  it("serves the server's metrics under prometheus-nats-exporter's names, with the server's own values", async () => {
    const text = await scrape();
    const varz = await nats.monitor("varz");
    const sid = `server_id="${varz.server_id}"`;
    expect(seriesValue(text, "nats_up")).toBe(1);
    for (const e of ["varz", "connz", "routez", "subz", "healthz", "jsz"])
      expect(seriesValue(text, `nats_endpoint_up{endpoint="${e}"}`)).toBe(1);
    // The test's client is the one connection (the exporter reads over HTTP, not as a client).
    expect(varz.connections).toBe(1);
    expect(seriesValue(text, `nats_varz_connections{${sid}}`)).toBe(varz.connections);
    expect(seriesValue(text, `nats_connz_num_connections{${sid}}`)).toBe(1);
    expect(seriesValue(text, `nats_varz_slow_consumers{${sid}}`)).toBe(varz.slow_consumers);
    expect(seriesValue(text, `nats_varz_max_payload{${sid}}`)).toBe(varz.max_payload);
    expect(seriesValue(text, `nats_varz_version{${sid},value="${varz.version}"}`)).toBe(1);
    expect(seriesValue(text, `nats_varz_start{${sid}}`)).toBe(Date.parse(varz.start));
    expect(seriesValue(text, `nats_healthz_status{${sid}}`)).toBe(0);
    expect(text).toMatch(/^# TYPE nats_connz_in_msgs counter$/m);
    // JetStream: the stream and its messages.
    const server = `domain="",is_meta_leader="true",meta_leader="",${sid},server_name="${varz.server_name}"`;
    expect(seriesValue(text, `nats_server_total_streams{cluster="",${server}}`)).toBe(1);
    expect(seriesValue(text, `nats_server_total_messages{cluster="",${server}}`)).toBe(3);
    const streamLine = text.split("\n").find((l) => l.startsWith("nats_stream_total_messages{") && l.includes('stream_name="ORDERS"'));
    expect(streamLine).toMatch(/ 3$/);
    expect(streamLine).toContain('account="$G"');
    expect(streamLine).toContain('is_stream_leader="true"');
    // The exporter's own memory, as the official one has its process_*.
    expect(seriesValue(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  it("keeps answering when the server stops, with nats_up 0, and picks the server up again when it is back", async () => {
    await nats.stop();
    const down = await scrape();
    expect(seriesValue(down, "nats_up")).toBe(0);
    expect(seriesValue(down, 'nats_endpoint_up{endpoint="varz"}')).toBe(0);
    expect(down).toMatch(/^nats_healthz_status_value\{server_id="N[A-Z0-9]+",value="unreachable"\} 0$/m);
    expect(down).not.toMatch(/^nats_varz_/m);
    expect(exporter.running()).toBe(true);
    await waitForLog(exporter, "nats-server did not answer");

    await nats.restart();
    const back = await waitFor("nats_up 1 again", async () => {
      const text = await scrape();
      return seriesValue(text, "nats_up") === 1 && text;
    });
    const varz = await nats.monitor("varz");
    // A restarted nats-server has a new ID: the series follow it.
    expect(seriesValue(back, `nats_varz_max_payload{server_id="${varz.server_id}"}`)).toBe(varz.max_payload);
    await waitForLog(exporter, "nats-server answers again");
  });

  it("stops cleanly on SIGTERM", async () => {
    await exporter.stop();
    expect(await exporter.exited).toBe(0);
  });
});

describe("satellite exporter's command line", () => {
  const bundle = fileURLToPath(new URL("../../dist/satellite.mjs", import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [bundle, ...args], { encoding: "utf8" });

  it("has its help", () => {
    const help = run("help", "exporter");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: satellite exporter /);
    for (const flag of ["-monitor URL", "-listen ADDR", "-endpoints LIST", "-jsz DETAIL", "-timeout DURATION"])
      expect(help.stdout).toContain(flag);
    expect(run("help").stdout).toContain("satellite exporter");
  });

  it.each([
    [["-monitor", "ftp://x"], "-monitor ftp://x/: use an http:// or https:// URL"],
    [["-monitor", "not a url"], '-monitor "not a url" is not a URL'],
    [["-endpoints", "varz,leafz"], '-endpoints: "leafz" is not one of varz, connz, routez, subz, healthz, jsz'],
    [["-jsz", "all"], '-jsz "all": use one of server, accounts, streams, consumers'],
    [["-timeout", "5"], "-timeout 5: use a duration from 1ms to 1m"],
    [["-listen", "7777"], '-listen "7777" is not an address'],
    [["extra"], 'unexpected argument "extra"'],
  ])("refuses %j with a usage error saying what to do", (args, message) => {
    const r = run("exporter", ...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
