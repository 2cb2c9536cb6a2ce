import { kinds, type ResourceType } from "../handlers/index.ts";
import { manifest, type TestKube } from "../test/harness/kube.ts";
import { freePort, waitFor } from "../test/harness/ports.ts";
import { startSatellite, waitForLog } from "../test/harness/satellite.ts";

export interface OperatorBench {
  clusters: number;
  seconds: number;
  requestsPerCluster: Record<string, number>;
  totalPerCluster: number;
}

/** 50 NatsClusters of size 3 created at once: time until all their objects exist, and API requests made. */
export async function benchOperator(kube: TestKube, clusters = 50): Promise<OperatorBench> {
  await kube.installCrd();
  const ns = await kube.createNamespace("bench-operator");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  const port = await freePort();
  const op = startSatellite(["run", "-operator", "-health", `127.0.0.1:${port}`], {
    env: { KUBECONFIG: kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, "bench-operator") },
  });
  try {
    await waitForLog(op, "operator caches synced");
    const before = await kubeRequests(port);
    const t0 = performance.now();
    for (let i = 0; i < clusters; i++) {
      await kube.admin.create(kinds.NatsCluster, {
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: `b${i}`, namespace: ns },
        spec: { size: 3, version: "2.14.9" },
      });
    }
    const count = async (type: ResourceType<unknown>) =>
      (await kube.admin.list(type, ns, { labelSelector: "app=nats,nats_cluster" })).items.length;
    await waitFor(
      "every object of every cluster",
      async () =>
        (await count(kinds.Pod)) === clusters * 3 &&
        (await count(kinds.Service)) === clusters * 2 &&
        (await count(kinds.Secret)) === clusters,
      120_000,
      20,
    );
    const seconds = (performance.now() - t0) / 1000;
    // Let the status writes that follow the creates finish before counting.
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await kubeRequests(port);
    const requestsPerCluster: Record<string, number> = {};
    for (const [verb, n] of Object.entries(after)) {
      const d = n - (before[verb] ?? 0);
      if (d > 0) requestsPerCluster[verb] = Math.round((d / clusters) * 10) / 10;
    }
    const totalPerCluster = Math.round(Object.values(requestsPerCluster).reduce((a, b) => a + b, 0) * 10) / 10;
    return { clusters, seconds, requestsPerCluster, totalPerCluster };
  } finally {
    await op.stop();
  }
}

/** satellite_kube_requests_total summed by verb and resource, from the operator's /metrics. */
export async function kubeRequests(port: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^satellite_kube_requests_total\{code="[^"]*",resource="([^"]*)",verb="([^"]*)"\} (\d+)$/.exec(line);
    if (m) out[`${m[2]} ${m[1]}`] = (out[`${m[2]} ${m[1]}`] ?? 0) + Number(m[3]);
  }
  return out;
}
