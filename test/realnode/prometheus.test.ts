// A real Prometheus (3.16, built by the test bed; on the host) watching the three-node bed as docs/metrics.md says to:
// pods found through Kubernetes service discovery by their prometheus.io annotations, the shipped
// alert rules loaded. It scrapes the operator and every NATS server of a cluster with
// pod.enableMetrics (satellite's own exporter sidecar); a server kept from starting (a node
// selector no node matches) fires SatelliteNatsClusterServersNotReady, and fixing it clears it.
// The rules' `for:` durations are shortened to 10 s here; their real durations are tested by
// `promtool test rules` (test/unit/prometheus/satellite-alerts.test.yaml).

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { binaries } from "../harness/binaries.ts";
import { onNode, skipAfterAFailedStep } from "../harness/on-node.ts";
import { freePort, waitFor } from "../harness/ports.ts";
import { type Proc, startProcess } from "../harness/process.ts";

const node = onNode();
const ns = "sat-prom";
const rules = fileURLToPath(new URL("../../manifests/prometheus/satellite-alerts.yaml", import.meta.url));

/** The annotation-based `kubernetes-pods` job of docs/metrics.md, from outside the cluster (a kubeconfig). */
const scrapeConfig = (kubeconfig: string) => `global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files: [rules.yaml]
scrape_configs:
  - job_name: kubernetes-pods
    honor_labels: true
    kubernetes_sd_configs:
      - role: pod
        kubeconfig_file: ${kubeconfig}
        namespaces: { names: [${ns}] }
    relabel_configs:
      - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape], action: keep, regex: "true" }
      - source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
        regex: '([^:]+)(?::\\d+)?;(\\d+)'
        replacement: $1:$2
        target_label: __address__
      - { source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_path], regex: (.+), target_label: __metrics_path__ }
      - { source_labels: [__meta_kubernetes_namespace], target_label: namespace }
      - { source_labels: [__meta_kubernetes_pod_name], target_label: pod }
`;

describe.runIf(!node.info.unavailable).sequential("Prometheus watching a real cluster", () => {
  skipAfterAFailedStep();
  let prometheus: Proc | undefined;
  let url = "";

  afterAll(async () => {
    await prometheus?.stop();
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  const query = async (q: string) => {
    const r = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return r.data.result;
  };
  const alerts = async () =>
    ((await (await fetch(`${url}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data
      .alerts;
  const firing = async (name: string) => (await alerts()).filter((a) => a.labels.alertname === name && a.state === "firing");

  it("Prometheus on the host scrapes the operator and every server of a cluster with pod.enableMetrics", async () => {
    await node.createRestrictedNamespace(ns);
    await node.applyManifests(ns, { only: ["crd.yaml", "operator.yaml"] });
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "watched", namespace: ns },
        spec: { size: 3, version: node.info.images.natsVersion, pod: { enableMetrics: true } },
      }),
    );
    const pods = await node.readyPods(ns, "nats_cluster=watched", 3, 180_000);
    for (const p of pods)
      expect(p.raw.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "7777" });

    const dir = mkdtempSync(join(tmpdir(), "satellite-prometheus-"));
    writeFileSync(join(dir, "rules.yaml"), readFileSync(rules, "utf8").replace(/for: \d+m/g, "for: 10s"));
    writeFileSync(join(dir, "prometheus.yml"), scrapeConfig(node.info.kubeconfig));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    prometheus = startProcess(
      "prometheus",
      binaries().PROMETHEUS_BIN,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      join(dir, "prometheus.log"),
    );
    await waitFor("Prometheus ready", async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok, 60_000, 500);

    const servers = await waitFor(
      "every server's NATS metrics, from its exporter sidecar",
      async () => {
        const up = await query(`nats_up{namespace="${ns}"} == 1`);
        return up.length === 3 && up;
      },
      120_000,
      1_000,
    );
    expect(servers.map((s) => s.metric.pod).sort()).toEqual(["watched-1", "watched-2", "watched-3"]);
    const connections = await query(`nats_varz_connections{namespace="${ns}"}`);
    expect(connections).toHaveLength(3);
    const ready = await waitFor(
      "the operator's view of the cluster",
      async () => {
        const r = await query(`satellite_cluster_servers_ready{namespace="${ns}",natscluster="watched"}`);
        return r.length === 1 && r[0]!.value[1] === "3" && r;
      },
      120_000,
      1_000,
    );
    expect(ready[0]!.metric.natscluster).toBe("watched");
    expect((await query("max(satellite_operator_leader)"))[0]!.value[1]).toBe("1");
    expect(await firing("SatelliteNatsClusterServersNotReady")).toEqual([]);
  }, 420_000);

  it("a server kept from starting fires SatelliteNatsClusterServersNotReady; fixed, it clears", async () => {
    const patch = (nodeSelector: object | null) =>
      node.kubectl(
        "patch",
        "natscluster",
        "watched",
        "-n",
        ns,
        "--type",
        "merge",
        "-p",
        JSON.stringify({ spec: { pod: { nodeSelector } } }),
      );
    await patch({ "satellite.test/no-such-node": "true" });
    const fired = await waitFor(
      "the alert firing",
      async () => {
        const a = await firing("SatelliteNatsClusterServersNotReady");
        return a.length === 1 && a;
      },
      180_000,
      1_000,
    );
    expect(fired[0]!.labels).toMatchObject({ namespace: ns, natscluster: "watched", severity: "warning" });
    await patch(null);
    await node.readyPods(ns, "nats_cluster=watched", 3, 180_000);
    await waitFor("the alert cleared", async () => (await firing("SatelliteNatsClusterServersNotReady")).length === 0, 120_000, 1_000);
  }, 420_000);
});
