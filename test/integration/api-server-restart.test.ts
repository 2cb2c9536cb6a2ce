// Faults: the API server goes away and comes back. This file runs its own control plane, so the
// restart does not disturb the other test files.

import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { type RunningControlPlane, startControlPlane } from "../harness/control-plane.ts";
import { type NatsServer, type Proc, startNatsServer, waitFor } from "../harness/index.ts";
import { manifest, type TestKube, testKube } from "../harness/kube.ts";
import { fakeKubelet } from "../harness/kubelet.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

let cp: RunningControlPlane;
let kube: TestKube;
let ns: string;
let nats: NatsServer;
let controller: Proc;
let kubelet: ReturnType<typeof fakeKubelet>;

const podCount = async (cluster: string) =>
  (await kube.admin.list(kinds.Pod, ns, { labelSelector: `nats_cluster=${cluster}` })).items.filter(
    (p: any) => !p.metadata.deletionTimestamp,
  ).length;
const create = (name: string, size: number) =>
  kube.admin.create(kinds.NatsCluster, {
    apiVersion: "nats.io/v1alpha2",
    kind: "NatsCluster",
    metadata: { name, namespace: ns },
    spec: { size },
  });

beforeAll(async () => {
  cp = await startControlPlane();
  kube = testKube(cp);
  await kube.installCrd();
  ns = await kube.createNamespace("apiserver-restart");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
  nats = await startNatsServer({ name: "restart" });
  const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator"), ns, "restart");
  controller = startSatellite(["run", "-operator", "-s", nats.url, "-name", "nats", "-log-format", "json"], {
    env: { KUBECONFIG: kubeconfig },
    name: "controller",
  });
  await waitForLog(controller, "operator caches synced");
  await waitForLog(controller, "serving config API");
  kubelet = fakeKubelet(kube.admin, ns, "app=nats");
}, 60_000);

afterAll(async () => {
  await kubelet?.stop();
  await controller?.stop();
  await nats?.stop();
  kube?.close();
  await cp?.stop();
});

it("the operator and the config API ride out the API server going away, and converge when it is back", async () => {
  await create("before", 2);
  await waitFor("before's pods", async () => (await podCount("before")) === 2);
  const nc = await connect({ servers: nats.url });
  try {
    const put = (n: number) =>
      nc
        .request("_SAT.nats.config.put", JSON.stringify({ routes: [`nats://r${n}:6222`] }), { timeout: 10_000 })
        .then((m) => JSON.parse(m.string()));
    expect((await put(1)).ok).toBe(true);

    const restart = cp.restartApiServer(3_000);
    const stopping = cp.apiserver;
    await waitFor("the API server to be down", async () => !stopping.running(), 10_000);
    const down = await put(2);
    expect(down.error.code).toBe(503);
    expect(down.error.message).toMatch(/Kubernetes API cannot be reached/);
    await restart;

    await waitFor("a put to succeed again", async () => (await put(3)).ok === true, 30_000, 250);
    await kube.admin.patch(kinds.NatsCluster, { namespace: ns, name: "before" }, { spec: { size: 4 } });
    await create("after", 1);
    await waitFor("both clusters converged", async () => (await podCount("before")) === 4 && (await podCount("after")) === 1, 60_000, 200);
    expect(controller.running()).toBe(true);
    expect(controller.log()).toContain("list/watch failed; retrying");
  } finally {
    await nc.close();
  }
});
