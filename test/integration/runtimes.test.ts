// The bundle (dist/satellite.mjs) itself, on Node and on Deno with the narrowest permissions, and
// the single executable built from it: the config round trip, a NatsCluster reconcile and a reload.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { binaries, promtoolBin } from "../harness/binaries.ts";
import { freePort, type NatsServer, type Proc, startNatsServer, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { type Runtime, seaBin, shippedFlags, startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
const imageFlags = shippedFlags["node-lts"];
const running: (Proc | NatsServer)[] = [];
let nats: NatsServer;

beforeAll(async () => {
  await kube.installCrd();
  nats = await startNatsServer({ name: "runtimes" });
  running.push(nats);
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  kube.close();
});

describe.each<Runtime>(["node", "node-lts", "deno", "sea"])("the bundle on %s", (runtime) => {
  let ns: string;
  let kubeconfig: string;
  beforeAll(async () => {
    if (runtime === "sea") {
      execFileSync(process.execPath, ["build-sea.mjs", binaries().NODE_LTS_BIN], {
        cwd: fileURLToPath(new URL("../..", import.meta.url)),
        stdio: "ignore",
      });
      // Its flags are built in (sea-config execArgv): the image's.
      expect(execFileSync(seaBin, ["version"], { encoding: "utf8" })).toMatch(
        new RegExp(`^satellite \\d+\\.\\d+\\.\\d+ \\(node v\\S+ ${imageFlags.join(" ")}\\)\n$`),
      );
    }
    ns = await kube.createNamespace(`rt-${runtime}`);
    await kube.apply(manifest("operator.yaml"), { namespace: ns });
    await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
    kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, `rt-${runtime}`);
  });

  it("serves the config round trip and reconciles a NatsCluster, and gives back its start-up heap", async () => {
    const port = await freePort();
    const p = startSatellite(["run", "-operator", "-s", nats.url, "-name", "nats", "-log-format", "json", "-health", `127.0.0.1:${port}`], {
      runtime,
      env: { KUBECONFIG: kubeconfig },
      name: `controller on ${runtime}`,
    });
    running.push(p);
    await waitForLog(p, "serving config API");
    await waitForLog(p, "operator caches synced");
    const started = JSON.parse(
      p
        .log()
        .split("\n")
        .find((l) => l.includes("starting satellite controller"))!,
    );
    expect(started.runtime).toMatch(
      runtime === "deno" ? /^deno 2\./ : new RegExp(`^node v\\S+ ${(runtime === "sea" ? imageFlags : shippedFlags[runtime]).join(" ")}$`),
    );
    // The memory reducer, poked once the caches are synced, really gets gc() from this runtime.
    await waitFor("a heap compaction", async () =>
      /^satellite_heap_compactions_total [1-9]/m.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
    );
    const nc = await connect({ servers: nats.url });
    try {
      const put = JSON.parse(
        (
          await nc.request(
            "_SAT.nats.config.put",
            JSON.stringify({ name: `ON_${runtime.toUpperCase().replace("-", "_")}`, routes: ["nats://a:6222"] }),
            { timeout: 5_000 },
          )
        ).string(),
      );
      expect(put).toMatchObject({ ok: true, changed: true });
      const get = JSON.parse((await nc.request("_SAT.nats.config.get", "", { timeout: 5_000 })).string());
      expect(get).toMatchObject({
        ok: true,
        name: `ON_${runtime.toUpperCase().replace("-", "_")}`,
        routes: ["nats://a:6222"],
        revision: put.revision,
      });
    } finally {
      await nc.close();
    }
    await kube.admin.create(kinds.NatsCluster, {
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name: "rt", namespace: ns },
      spec: { size: 3 },
    });
    await waitFor("3 pods", async () => (await kube.admin.list(kinds.Pod, ns, { labelSelector: "nats_cluster=rt" })).items.length === 3);
    // /metrics from this runtime: well formed, with the operator's and the config API's series.
    const metrics = await waitFor("rt in /metrics", async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return text.includes(`satellite_cluster_servers_desired{namespace="${ns}",natscluster="rt"} 3\n`) && text;
    });
    const check = spawnSync(promtoolBin(), ["check", "metrics"], { input: metrics, encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`).toBe("");
    expect(check.status).toBe(0);
    expect(metrics).toMatch(/^satellite_config_api_request_duration_seconds_count\{code="200",endpoint="config-put"\} 1$/m);
    expect(metrics).toMatch(/^satellite_operator_leader 1$/m);
    await p.stop();
    expect(await p.exited).toBe(0);
  });

  it("reloads nats-server when the ConfigMap changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), `sat-rt-${runtime}-`));
    const confDir = join(dir, "conf");
    mkdirSync(confDir);
    const pid = join(dir, "nats.pid");
    const conf = (payload: number) => `pid_file: "${pid}"\nmax_payload: ${payload}\n`;
    // The server's own config includes the file the reloader keeps in conf/.
    writeFileSync(join(confDir, "nats.conf"), conf(1000000));
    const server = await startNatsServer({ name: `reload-${runtime}`, extra: 'include "conf/nats.conf"', dir });
    running.push(server);
    const cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    await kube.admin.replace(kinds.ConfigMap, { ...cm, data: { "nats.conf": conf(1000000) } });
    const reloaderKubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "nats-reloader"), ns, `reloader-${runtime}`);
    const r = startSatellite(
      [
        "reloader",
        "-configmap",
        "nats-config",
        "-dir",
        confDir,
        "-pid",
        pid,
        "-monitor",
        `http://127.0.0.1:${server.monitorPort}`,
        "-log-format",
        "json",
      ],
      {
        runtime,
        writeDir: confDir,
        env: { KUBECONFIG: reloaderKubeconfig, POD_NAME: `rt-${runtime}` },
        name: `reloader on ${runtime}`,
      },
    );
    running.push(r);
    await waitForLog(r, "watch mode");
    const now = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    await kube.admin.replace(kinds.ConfigMap, { ...now, data: { "nats.conf": conf(2000000) } });
    await waitFor("the new max_payload", async () => (await server.monitor("varz")).max_payload === 2000000);
    await waitForLog(r, "nats-server reloaded");
  });
});

it("the bundle does not load Node's fetch stack (undici, about 7 MB) on the image's Node", () => {
  const bundle = fileURLToPath(new URL("../../dist/satellite.mjs", import.meta.url));
  const report = `process.on("exit", () => process.stderr.write("undici loaded: " + process.moduleLoadList.some((m) => m.includes("undici"))))`;
  const r = spawnSync(
    binaries().NODE_LTS_BIN,
    [...imageFlags, "--import", `data:text/javascript,${encodeURIComponent(report)}`, bundle, "version"],
    { encoding: "utf8" },
  );
  expect(r.stdout).toMatch(/^satellite /);
  expect(r.stderr).toBe("undici loaded: false");
});
