// Operator failover: two replicas with -leader-elect (the manifests' account); the leader killed
// (SIGKILL: no handover) or stopped (SIGTERM: it gives the Lease up); time until the other logs
// that it leads.
import { manifest, type TestKube } from "../test/harness/kube.ts";
import type { Proc } from "../test/harness/process.ts";
import { startSatellite, waitForLog } from "../test/harness/satellite.ts";

export interface FailoverBench {
  killed: number[];
  stopped: number[];
}

export async function benchFailover(kube: TestKube, rounds = 3): Promise<FailoverBench> {
  await kube.installCrd();
  const ns = await kube.createNamespace("bench-failover");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, "bench-failover");
  let n = 0;
  const start = () =>
    startSatellite(["run", "-operator", "-leader-elect", "-log-format", "json"], {
      env: { KUBECONFIG: kubeconfig, POD_NAME: `op-${n++}` },
    });
  const leading = "leading: this replica reconciles";
  const out: FailoverBench = { killed: [], stopped: [] };
  let leader = start();
  await waitForLog(leader, leading);
  let standby: Proc | undefined;
  try {
    for (let r = 0; r < rounds * 2; r++) {
      standby = start();
      await waitForLog(standby, "standing by");
      const kill = r % 2 === 0;
      const t0 = Date.now();
      if (kill) leader.signal("SIGKILL");
      else await leader.stop();
      await waitForLog(standby, leading, 30_000);
      (kill ? out.killed : out.stopped).push(Date.now() - t0);
      await leader.stop();
      leader = standby;
      standby = undefined;
    }
  } finally {
    await leader.stop();
    await standby?.stop();
  }
  return out;
}

export function failoverMarkdown(f: FailoverBench): string {
  const s = (xs: number[]) => xs.map((x) => `${(x / 1000).toFixed(2)} s`).join(", ");
  return `## Operator failover (two replicas, -leader-elect)

Two operator replicas with the manifests' account; one leads by a \`coordination.k8s.io\` Lease
(15 s, renewed every 2 s; a standby sees each renewal through a watch). Time from the leader's end
until the other logs that it leads:

| the leader | samples | takeover | goal |
|---|---|---|---|
| killed (SIGKILL: the Lease runs out) | ${f.killed.length} | ${s(f.killed)} | ≤ 15 s (the lease duration) |
| stopped (SIGTERM: it gives the Lease up) | ${f.stopped.length} | ${s(f.stopped)} | |
`;
}
