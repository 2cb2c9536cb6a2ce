// manifests/operator-cluster-wide.yaml: one operator, with its ClusterRole, for the NatsClusters of
// every namespace; each cluster's objects land in its own namespace.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { type Proc, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { fakeKubelet } from "../harness/kubelet.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
let home: string;
const sites: string[] = [];
let operator: Proc;
const kubelets: ReturnType<typeof fakeKubelet>[] = [];

beforeAll(async () => {
  await kube.installCrd();
  home = await kube.createNamespace("satellite-system");
  await kube.apply(manifest("operator-cluster-wide.yaml"), { namespace: home });
  for (const s of ["site-a", "site-b"]) sites.push(await kube.createNamespace(s));
  const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(home, "satellite-operator"), home, "cluster-wide");
  operator = startSatellite(["run", "-operator", "-all-namespaces", "-log-format", "json"], { env: { KUBECONFIG: kubeconfig } });
  await waitForLog(operator, "operator caches synced");
  for (const ns of sites) kubelets.push(fakeKubelet(kube.admin, ns, "app=nats"));
});

afterAll(async () => {
  await Promise.all(kubelets.map((k) => k.stop()));
  await operator?.stop();
  kube.close();
});

describe("one operator for every namespace", () => {
  it("a NatsCluster in each of two namespaces: each gets its pods, services and config in its own namespace", async () => {
    for (const ns of sites) {
      await kube.apply([{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: "edge" }, spec: { size: 2 } }], {
        namespace: ns,
      });
    }
    for (const ns of sites) {
      await waitFor(
        `edge ready 2/2 in ${ns}`,
        async () => (await kube.admin.get(kinds.NatsCluster, { namespace: ns, name: "edge" })).status?.readyReplicas === 2,
      );
      const pods = (await kube.admin.list(kinds.Pod, ns, { labelSelector: "nats_cluster=edge" })).items;
      expect(pods.map((p) => p.metadata!.name).sort()).toEqual(["edge-1", "edge-2"]);
      const secret = await kube.admin.get(kinds.Secret, { namespace: ns, name: "edge" });
      expect(Buffer.from(secret.data!["nats.conf"]!, "base64").toString()).toContain(`nats://edge-1.edge-mgmt.${ns}.svc:6222`);
    }
    expect((await kube.admin.list(kinds.Pod, home, { labelSelector: "app=nats" })).items).toEqual([]);
  });

  it("-all-namespaces and -leader-elect go with -operator", async () => {
    const p = startSatellite(["run", "-name", "nats", "-all-namespaces"]);
    expect(await p.exited).toBe(2);
    expect(p.log()).toContain("-all-namespaces goes with -operator");
  });
});
