import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { binaries } from "../harness/binaries.ts";
import { freePort, freePorts, type NatsServer, type Proc, startNatsServer, startProcess, waitFor } from "../harness/index.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";
import { volume } from "../harness/volume.ts";

const running: (NatsServer | Proc)[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

it("file mode (nats-server-config-reloader's flags): one reload per real change of a watched file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sat-filemode-"));
  const pidFile = join(dir, "nats.pid");
  writeFileSync(join(dir, "extra.conf"), "max_payload: 1000000\n");
  const s = await startNatsServer({ name: "filemode", dir, extra: `pid_file: "${pidFile}"\ninclude "extra.conf"` });
  running.push(s);
  await waitFor("the pid file", async () => readFileSync(pidFile, "utf8").trim().length > 0);
  const r = startSatellite([
    "reloader",
    "-pid",
    pidFile,
    "-config",
    s.configPath,
    "-config",
    join(s.dir, "extra.conf"),
    "-monitor",
    `http://127.0.0.1:${s.monitorPort}`,
    "-log-format",
    "json",
  ]);
  running.push(r);
  await waitForLog(r, "file mode");
  const loaded = async () => (await s.monitor("varz")).config_load_time;
  const t0 = await loaded();
  writeFileSync(join(s.dir, "extra.conf"), "max_payload: 2000000\n");
  await waitFor("a reload", async () => (await loaded()) !== t0);
  expect((await s.monitor("varz")).max_payload).toBe(2000000);
  const t1 = await loaded();
  // The same content written again is not a change: no reload.
  writeFileSync(join(s.dir, "extra.conf"), "max_payload: 2000000\n");
  // Deliberate: 2.5 s (past the reloader's 2 s poll) pass to show no reload follows.
  await new Promise((res) => setTimeout(res, 2_500));
  expect(await loaded()).toBe(t1);
  expect(r.log().match(/nats-server reloaded/g)).toHaveLength(1);
});

it("file mode follows includes: given only the main config, a change of an included file reloads", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sat-filemode-inc-"));
  const pidFile = join(dir, "nats.pid");
  writeFileSync(join(dir, "limits.conf"), "max_payload: 1000000\n");
  const s = await startNatsServer({ name: "fileinc", dir, extra: `pid_file: "${pidFile}"\ninclude "limits.conf"` });
  running.push(s);
  await waitFor("the pid file", async () => readFileSync(pidFile, "utf8").trim().length > 0);
  const r = startSatellite([
    "reloader",
    "-pid",
    pidFile,
    "-config",
    s.configPath,
    "-monitor",
    `http://127.0.0.1:${s.monitorPort}`,
    "-log-format",
    "json",
  ]);
  running.push(r);
  await waitForLog(r, "file mode");
  const t0 = (await s.monitor("varz")).config_load_time;
  writeFileSync(join(s.dir, "limits.conf"), "max_payload: 3000000\n");
  await waitFor("a reload", async () => (await s.monitor("varz")).config_load_time !== t0);
  expect((await s.monitor("varz")).max_payload).toBe(3000000);
});

it("file mode finds the monitoring port in nats-server's config (no -monitor) and confirms there", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sat-filemode-mon-"));
  const pidFile = join(dir, "nats.pid");
  writeFileSync(join(dir, "limits.conf"), "max_payload: 1000000\n");
  const s = await startNatsServer({ name: "filemon", dir, extra: `pid_file: "${pidFile}"\ninclude "limits.conf"` });
  running.push(s);
  await waitFor("the pid file", async () => readFileSync(pidFile, "utf8").trim().length > 0);
  const r = startSatellite(["reloader", "-pid", pidFile, "-config", s.configPath, "-log-format", "json"]);
  running.push(r);
  await waitForLog(r, `"monitor":"http://127.0.0.1:${s.monitorPort}"`);
  const t0 = (await s.monitor("varz")).config_load_time;
  writeFileSync(join(s.dir, "limits.conf"), "max_payload: 2000000\n");
  await waitForLog(r, "nats-server reloaded");
  expect((await s.monitor("varz")).config_load_time).not.toBe(t0);
});

it("file mode with monitoring off still signals, and says the reload is not confirmed", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sat-filemode-nomon-"));
  const pidFile = join(dir, "nats.pid");
  const port = await freePort();
  writeFileSync(join(dir, "nats.conf"), `listen: "127.0.0.1:${port}"\npid_file: "${pidFile}"\ninclude "limits.conf"\n`);
  writeFileSync(join(dir, "limits.conf"), "max_payload: 1000000\n");
  const server = startProcess("nats-server nomon", binaries().NATS_SERVER_BIN, ["-c", join(dir, "nats.conf")], join(dir, "nats.log"));
  running.push(server);
  await waitFor("the pid file", async () => readFileSync(pidFile, "utf8").trim().length > 0);
  const r = startSatellite(["reloader", "-pid", pidFile, "-config", join(dir, "nats.conf"), "-log-format", "json"]);
  running.push(r);
  await waitForLog(r, "reloads are signalled, not confirmed");
  writeFileSync(join(dir, "limits.conf"), "max_payload: 2000000\n");
  await waitForLog(r, "nats-server signalled (not confirmed");
  await waitFor("nats-server's own word that it reloaded", async () => server.log().includes("Reloaded server configuration"));
});

/** nats-server on a ConfigMap-like volume (nats.conf includes limits.conf) and a file-mode reloader with `args`. */
async function volumeBed(args: string[] = []) {
  const piddir = mkdtempSync(join(tmpdir(), "sat-filemode-vol-"));
  const pidFile = join(piddir, "nats.pid");
  const [port, monitorPort] = (await freePorts(2)) as [number, number];
  const natsConf = `listen: "127.0.0.1:${port}"\nhttp: "127.0.0.1:${monitorPort}"\npid_file: "${pidFile}"\ninclude "limits.conf"\n`;
  const v = volume({ "nats.conf": natsConf, "limits.conf": "max_payload: 1000000\n" });
  const server = startProcess("nats-server vol", binaries().NATS_SERVER_BIN, ["-c", join(v.dir, "nats.conf")], join(piddir, "nats.log"));
  running.push(server);
  await waitFor("the pid file", async () => readFileSync(pidFile, "utf8").trim().length > 0);
  const r = startSatellite(["reloader", "-pid", pidFile, "-config", join(v.dir, "nats.conf"), "-log-format", "json", ...args]);
  running.push(r);
  await waitForLog(r, "file mode");
  return {
    reloader: r,
    swapTo: (maxPayload: number) => v.swap({ "nats.conf": natsConf, "limits.conf": `max_payload: ${maxPayload}\n` }),
    maxPayload: async () => ((await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as { max_payload: number }).max_payload,
    reloads: () => (server.log().match(/Reloaded server configuration/g) ?? []).length,
  };
}

/** 5 swaps 100 ms apart, until nats-server runs the last; then 500 ms more (deliberate: no reload may trail it). */
async function burst(bed: Awaited<ReturnType<typeof volumeBed>>) {
  for (let i = 0; i < 5; i++) {
    bed.swapTo(3000000 + i);
    // The burst's pace (closer than the reloader's 150 ms burst window), not a synchronisation.
    await new Promise((res) => setTimeout(res, 100));
  }
  await waitFor("the last of the burst loaded", async () => (await bed.maxPayload()) === 3000004, 5_000);
  await new Promise((res) => setTimeout(res, 500));
}

it("file mode on a ConfigMap-like volume: a swap reloads; a burst of swaps reloads at most twice and ends on the last (latency: npm run bench)", async () => {
  const bed = await volumeBed();
  bed.swapTo(2000000);
  await waitFor("the swap loaded", async () => (await bed.maxPayload()) === 2000000);
  expect(bed.reloads()).toBe(1);
  await waitForLog(bed.reloader, "config files changed; nats-server reloaded");
  await burst(bed);
  expect(bed.reloads() - 1).toBeLessThanOrEqual(2);
});

it("file mode with -settle: a burst of swaps is one reload, of its last version", async () => {
  const bed = await volumeBed(["-settle", "250ms"]);
  bed.swapTo(2000000);
  await waitFor("the swap loaded", async () => (await bed.maxPayload()) === 2000000);
  await waitForLog(bed.reloader, "config files changed; nats-server reloaded");
  expect(bed.reloads()).toBe(1);
  await burst(bed);
  expect(bed.reloads()).toBe(2);
});
