// The reloader's file mode against nack's nats-server-config-reloader, same run, same machine:
// nats-server reads nats.conf, which includes limits.conf, from a directory the kubelet would
// manage (a ConfigMap volume: files are symlinks through ..data, swapped atomically). Each
// reloader is given only nats.conf. Latency: from the ..data swap until nats-server's
// config_load_time moves. Burst: 5 swaps 100 ms apart; reloads counted in nats-server's log.
import { mkdtempSync, readFileSync } from "node:fs";
import { Agent, get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaries } from "../test/harness/binaries.ts";
import { freePorts, waitFor } from "../test/harness/ports.ts";
import { type Proc, startProcess } from "../test/harness/process.ts";
import { startSatellite, waitForLog } from "../test/harness/satellite.ts";
import { volume } from "../test/harness/volume.ts";

export interface FileReloadResult {
  name: string;
  lat: number[];
  rssMb: number;
  burstReloads: number;
  burstLast: boolean;
}

const agent = new Agent({ keepAlive: true });
const varz = (port: number) =>
  new Promise<{ config_load_time: string; max_payload: number }>((resolve, reject) => {
    get({ host: "127.0.0.1", port, path: "/varz", agent }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(JSON.parse(body)));
    }).on("error", reject);
  });

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

export async function benchFileReload(n: number): Promise<FileReloadResult[]> {
  const results: FileReloadResult[] = [];
  const variants: [string, string[]][] = [
    ["satellite reloader (file mode)", []],
    ["nack nats-server-config-reloader 0.22.4", []],
    ["satellite reloader (file mode, -settle 150ms)", ["-settle", "150ms"]],
  ];
  for (const [name, extra] of variants) {
    const piddir = mkdtempSync(join(tmpdir(), "sat-pid-"));
    const pidFile = join(piddir, "nats.pid");
    const [port, monitorPort] = (await freePorts(2)) as [number, number];
    const natsConf = `listen: "127.0.0.1:${port}"\nhttp: "127.0.0.1:${monitorPort}"\npid_file: "${pidFile}"\ninclude "limits.conf"\n`;
    const v = volume({ "nats.conf": natsConf, "limits.conf": "max_payload: 1000000\n" });
    const conf = join(v.dir, "nats.conf");
    const server = startProcess("nats-server filebench", binaries().NATS_SERVER_BIN, ["-c", conf], join(piddir, "nats.log"));
    await waitFor("the pid file", async () => readFileSync(pidFile, "utf8").trim().length > 0);
    const args = ["-config", conf, "-pid", pidFile];
    const reloader: Proc = name.startsWith("satellite")
      ? startSatellite(["reloader", ...args, ...extra, "-log-format", "json"])
      : startProcess("nack reloader", binaries().NACK_RELOADER_BIN, args, join(piddir, "nack.log"));
    try {
      if (name.startsWith("satellite")) await waitForLog(reloader, "file mode");
      else await new Promise((r) => setTimeout(r, 500));
      const swapTo = (p: number) => v.swap({ "nats.conf": natsConf, "limits.conf": `max_payload: ${p}\n` });
      const lat: number[] = [];
      for (let i = 0; i < n + 3; i++) {
        const before = (await varz(monitorPort)).config_load_time;
        const s = performance.now();
        swapTo(2_000_000 + i);
        while ((await varz(monitorPort)).config_load_time === before) {
          if (performance.now() - s > 10_000) throw new Error(`${name}: no reload within 10 s of a swap`);
        }
        if (i >= 3) lat.push(performance.now() - s);
        // Swaps of a ConfigMap volume come a kubelet sync apart: nack's watch needs its 1 s ticker
        // to come back after a swap, so anything shorter would measure its ticker.
        await new Promise((r) => setTimeout(r, 1_200));
      }
      const reloads = () => (server.log().match(/Reloaded server configuration/g) ?? []).length;
      await new Promise((r) => setTimeout(r, 1_500));
      const before = reloads();
      for (let i = 0; i < 5; i++) {
        swapTo(3_000_000 + i);
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 2_500));
      results.push({
        name,
        lat,
        rssMb: rssMb(reloader.pid),
        burstReloads: reloads() - before,
        burstLast: (await varz(monitorPort)).max_payload === 3_000_004,
      });
    } finally {
      await reloader.stop();
      await server.stop();
    }
  }
  return results;
}
