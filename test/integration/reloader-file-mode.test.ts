import { afterAll, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, waitFor, type NatsServer, type Proc } from "../harness/index.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

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
  const r = startSatellite(["reloader", "-pid", pidFile, "-config", s.configPath, "-config", join(s.dir, "extra.conf"), "-monitor", `http://127.0.0.1:${s.monitorPort}`, "-log-format", "json"]);
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
  const r = startSatellite(["reloader", "-pid", pidFile, "-config", s.configPath, "-monitor", `http://127.0.0.1:${s.monitorPort}`, "-log-format", "json"]);
  running.push(r);
  await waitForLog(r, "file mode");
  const t0 = (await s.monitor("varz")).config_load_time;
  writeFileSync(join(s.dir, "limits.conf"), "max_payload: 3000000\n");
  await waitFor("a reload", async () => (await s.monitor("varz")).config_load_time !== t0);
  expect((await s.monitor("varz")).max_payload).toBe(3000000);
});
