// /metrics of the built bundle against the real API server and a real nats-server: the operator's
// reconcile, work-queue, leader and per-cluster series, and a config API's request latency and the
// reloads its servers' reloaders report. Every scrape must also pass promtool check metrics.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { promtoolBin } from "../harness/binaries.ts";
import { freePort, type NatsServer, type Proc, startNatsServer, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { fakeKubelet } from "../harness/kubelet.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
const started: Proc[] = [];
let kubelet: ReturnType<typeof fakeKubelet> | undefined;

/** The scrape, checked by promtool first. */
async function scrape(port: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const check = spawnSync(promtoolBin(), ["check", "metrics"], { input: text, encoding: "utf8" });
  if (check.status !== 0) throw new Error(`promtool check metrics refused the scrape: ${check.stdout}${check.stderr}\n${text}`);
  return text;
}

const docs = readFileSync(new URL("../../docs/metrics.md", import.meta.url), "utf8");
/** The metric families of a scrape that docs/metrics.md does not describe. */
const undocumented = (text: string) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!).filter((n) => !docs.includes(`\`${n}\``));

/** The value of one series (labels in the exposition's order), or undefined when it is absent. */
function seriesValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

afterAll(async () => {
  await kubelet?.stop();
  for (const p of started) await p.stop();
  kube.close();
});

describe("the operator's /metrics", () => {
  let ns: string;
  let port: number;
  const cluster = (name: string) => `namespace="${ns}",natscluster="${name}"`;

  beforeAll(async () => {
    await kube.installCrd();
    ns = await kube.createNamespace("metrics");
    await kube.apply(manifest("operator.yaml"), { namespace: ns });
    const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, "operator");
    port = await freePort();
    const operator = startSatellite(["run", "-operator", "-leader-elect", "-health", `127.0.0.1:${port}`, "-log-format", "json"], {
      env: { KUBECONFIG: kubeconfig },
      name: "operator",
    });
    started.push(operator);
    await waitForLog(operator, "operator caches synced");
    kubelet = fakeKubelet(kube.admin, ns, "app=nats");
  });

  it("leads, has work-queue series, and follows a NatsCluster from creation to deletion", async () => {
    const before = await scrape(port);
    expect(seriesValue(before, "satellite_operator_leader")).toBe(1);
    expect(seriesValue(before, 'satellite_reconciles_total{result="error"}')).toBe(0);
    expect(seriesValue(before, "satellite_workqueue_retries_total")).toBe(0);
    expect(seriesValue(before, "satellite_workqueue_depth")).toBeGreaterThanOrEqual(0);
    expect(seriesValue(before, "satellite_workqueue_oldest_item_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(seriesValue(before, "satellite_workqueue_longest_running_seconds")).toBeGreaterThanOrEqual(0);
    const reconciled = (text: string) =>
      (seriesValue(text, 'satellite_reconcile_duration_seconds_count{result="changed"}') ?? 0) +
      (seriesValue(text, 'satellite_reconcile_duration_seconds_count{result="unchanged"}') ?? 0);
    const countBefore = reconciled(before);

    await kube.apply([{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: "m1" }, spec: { size: 3 } }], {
      namespace: ns,
    });
    const ready = await waitFor("m1 reported ready 3/3 in /metrics", async () => {
      const text = await scrape(port);
      return seriesValue(text, `satellite_cluster_servers_ready{${cluster("m1")}}`) === 3 && text;
    });
    expect(seriesValue(ready, `satellite_cluster_servers_desired{${cluster("m1")}}`)).toBe(3);
    expect(seriesValue(ready, `satellite_cluster_condition{${cluster("m1")},status="True",type="Ready"}`)).toBe(1);
    expect(seriesValue(ready, `satellite_cluster_condition{${cluster("m1")},status="False",type="Ready"}`)).toBe(0);
    expect(seriesValue(ready, `satellite_cluster_condition{${cluster("m1")},status="Unknown",type="Ready"}`)).toBe(0);
    expect(reconciled(ready)).toBeGreaterThan(countBefore);
    expect(seriesValue(ready, 'satellite_reconciles_total{result="changed"}')).toBe(
      seriesValue(ready, 'satellite_reconcile_duration_seconds_count{result="changed"}'),
    );
    expect(seriesValue(ready, 'satellite_kube_requests_total{code="201",resource="pods",verb="post"}')).toBeGreaterThanOrEqual(3);
    expect(undocumented(ready)).toEqual([]);

    // Scaled: desired follows the spec at once, ready once the new pod is.
    await kube.admin.patch(kinds.NatsCluster, { namespace: ns, name: "m1" }, { spec: { size: 4 } });
    await waitFor("m1 desired 4, ready 4", async () => {
      const text = await scrape(port);
      return (
        seriesValue(text, `satellite_cluster_servers_desired{${cluster("m1")}}`) === 4 &&
        seriesValue(text, `satellite_cluster_servers_ready{${cluster("m1")}}`) === 4
      );
    });

    await kube.admin.remove(kinds.NatsCluster, { namespace: ns, name: "m1" });
    const gone = await waitFor("m1's series gone", async () => {
      const text = await scrape(port);
      return !text.includes(`natscluster="m1"`) && text;
    });
    expect(seriesValue(gone, "satellite_operator_leader")).toBe(1);
  });
});

describe("a config API's /metrics", () => {
  let ns: string;
  let nats: NatsServer;
  let nc: NatsConnection;
  let port: number;
  const report = (pod: string, action: string, at: string, extra: object = {}) =>
    nc.publish(
      `_SAT.nats.reload.${pod}`,
      JSON.stringify({ cluster: "nats", pod, revision: "1", configRevision: "1", action, ok: action === "reloaded", at, ...extra }),
    );

  beforeAll(async () => {
    ns = await kube.createNamespace("metrics-api");
    await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
    await kube.apply(manifest("controller.yaml"), { namespace: ns });
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite"), ns, "satellite");
    port = await freePort();
    const p = startSatellite(["run", "-s", nats.url, "-name", "nats", "-health", `127.0.0.1:${port}`, "-log-format", "json"], {
      env: { KUBECONFIG: kubeconfig },
    });
    started.push(p);
    await waitForLog(p, "serving config API");
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it("times config API requests by endpoint and code", async () => {
    await nc.request("_SAT.nats.config.get", "", { timeout: 5_000 });
    const text = await waitFor("the request counted", async () => {
      const t = await scrape(port);
      return (seriesValue(t, 'satellite_config_api_request_duration_seconds_count{code="200",endpoint="config-get"}') ?? 0) >= 1 && t;
    });
    expect(seriesValue(text, 'satellite_config_api_request_duration_seconds_bucket{code="200",endpoint="config-get",le="+Inf"}')).toBe(
      seriesValue(text, 'satellite_config_api_request_duration_seconds_count{code="200",endpoint="config-get"}'),
    );
    expect(seriesValue(text, 'satellite_nats_requests_total{code="200",endpoint="config-get"}')).toBeGreaterThanOrEqual(1);
  });

  it("counts each reload a sidecar reports once, not its resends, and times it", async () => {
    const reloads = (outcome: string) =>
      `satellite_reloads_total{mode="sidecar",namespace="${ns}",natscluster="nats",outcome="${outcome}"}`;
    // A pod's first report is what happened before this API listened: the baseline, not counted.
    report("nats-a", "in-sync", "2026-12-03T10:00:00.000Z");
    report("nats-a", "reloaded", "2026-12-03T10:00:01.000Z", { reloadMs: 3.5 });
    // Sent again (a heartbeat): the same reload.
    report("nats-a", "reloaded", "2026-12-03T10:00:01.000Z", { reloadMs: 3.5 });
    report("nats-a", "failed", "2026-12-03T10:00:02.000Z", { reloadMs: 7, error: "bad config" });
    report("nats-a", "in-sync", "2026-12-03T10:00:03.000Z");
    await nc.flush();
    const text = await waitFor("the failed reload counted", async () => {
      const t = await scrape(port);
      return seriesValue(t, reloads("failed")) === 1 && t;
    });
    expect(seriesValue(text, reloads("reloaded"))).toBe(1);
    expect(undocumented(text)).toEqual([]);
    expect(seriesValue(text, reloads("in-sync"))).toBeUndefined();
    expect(seriesValue(text, 'satellite_reload_duration_seconds_count{mode="sidecar"}')).toBe(2);
    expect(seriesValue(text, 'satellite_reload_duration_seconds_sum{mode="sidecar"}')).toBeCloseTo(0.0105, 6);
    expect(seriesValue(text, 'satellite_reload_duration_seconds_bucket{mode="sidecar",le="0.005"}')).toBe(1);
  });
});
