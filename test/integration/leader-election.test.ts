// Two operator replicas with -leader-elect, as manifests/operator.yaml runs them, with its account:
// one leads by a Lease, the other stands by; the leader killed in the middle of creating a
// cluster is taken over, and the cluster converges with no duplicate objects.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { type Proc, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { fakeKubelet } from "../harness/kubelet.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
let ns: string;
let kubeconfig: string;
let kubelet: ReturnType<typeof fakeKubelet>;
const replicas: Proc[] = [];

const replica = (name: string) => {
  const p = startSatellite(["run", "-operator", "-leader-elect", "-log-format", "json"], {
    env: { KUBECONFIG: kubeconfig, POD_NAME: name },
    name,
  });
  replicas.push(p);
  return p;
};
const lease = () => kube.admin.get(kinds.Lease, { namespace: ns, name: "satellite-operator" });
const leads = (p: Proc) => p.log().includes("leading: this replica reconciles");

beforeAll(async () => {
  await kube.installCrd();
  ns = await kube.createNamespace("leader");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, "operator");
  kubelet = fakeKubelet(kube.admin, ns, "app=nats");
});

afterAll(async () => {
  await kubelet?.stop();
  await Promise.all(replicas.map((p) => p.stop()));
  kube.close();
});

describe("operator replicas with a Lease", () => {
  it("one leads, the other stands by, Ready too; the leader killed mid-create is taken over and the cluster converges once", async () => {
    const a = replica("op-a");
    await waitForLog(a, "leading: this replica reconciles");
    const b = replica("op-b");
    await waitForLog(b, "standing by: another replica leads");
    expect(leads(b)).toBe(false);
    expect((await lease()).spec).toMatchObject({ holderIdentity: expect.stringMatching(/^op-a-/), leaseDurationSeconds: 15 });

    await kube.apply([{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: "ha" }, spec: { size: 3 } }], {
      namespace: ns,
    });
    await waitFor(
      "the leader's first pod",
      async () => (await kube.admin.list(kinds.Pod, ns, { labelSelector: "nats_cluster=ha" })).items.length > 0,
      20_000,
      10,
    );
    a.signal("SIGKILL");
    const killedAt = Date.now();
    await waitForLog(b, "leading: this replica reconciles", 30_000);
    console.log(`leader killed → the other leads after ${Date.now() - killedAt} ms (lease 15 s, retry 2 s)`);
    expect((await lease()).spec).toMatchObject({ holderIdentity: expect.stringMatching(/^op-b-/), leaseTransitions: 1 });

    await waitFor(
      "ha ready 3/3",
      async () => (await kube.admin.get(kinds.NatsCluster, { namespace: ns, name: "ha" })).status?.readyReplicas === 3,
      30_000,
    );
    const pods = (await kube.admin.list(kinds.Pod, ns, { labelSelector: "nats_cluster=ha" })).items;
    expect(pods.map((p) => p.metadata!.name).sort()).toEqual(["ha-1", "ha-2", "ha-3"]);
    const services = (await kube.admin.list(kinds.Service, ns, { labelSelector: "nats_cluster=ha" })).items;
    expect(services.map((s) => s.metadata!.name).sort()).toEqual(["ha", "ha-mgmt"]);
  });

  it("a leader stopped by SIGTERM gives the lease up: a standby takes over at once, not after 15 s", async () => {
    const leader = replicas.find((p) => p.running() && leads(p))!;
    const c = replica("op-c");
    await waitForLog(c, "standing by: another replica leads");
    const stoppedAt = Date.now();
    await leader.stop();
    await waitForLog(c, "leading: this replica reconciles", 10_000);
    const ms = Date.now() - stoppedAt;
    console.log(`leader stopped → the other leads after ${ms} ms`);
    expect((await lease()).spec?.holderIdentity).toMatch(/^op-c-/);
  });
});
