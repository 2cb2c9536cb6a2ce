// nats-operator's own NatsCluster CRD has no status subresource: an operator working against it
// would fail every status write with a misleading "not found", forever. satellite says so once,
// stays not ready, makes no writes, and starts when satellite's CRD is applied.
import { afterAll, expect, it } from "vitest";
import { freePort, useKube, waitFor } from "../harness/index.ts";
import { customResourceDefinitions } from "../harness/kube.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();

/** An operator in a namespace of its own, with its health endpoint on a free port. */
async function startOperator(prefix: string) {
  const ns = await kube.createNamespace(prefix);
  const port = await freePort();
  const op = startSatellite(["run", "-operator", "-health", `127.0.0.1:${port}`, "-log-format", "json"], {
    env: { KUBECONFIG: kube.info.kubeconfig, POD_NAMESPACE: ns },
  });
  return { op, port };
}

/** satellite's CRDs applied, the waiting operator starts and becomes ready. */
async function startsOnSatellitesCrds(op: ReturnType<typeof startSatellite>, port: number) {
  await kube.installCrd();
  await waitForLog(op, "starting the operator", 20_000);
  await waitFor("ready", async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 20_000);
}

afterAll(async () => {
  await kube.installCrd();
  kube.close();
});

it("an old or foreign NatsCluster CRD: one clear sentence, not ready, no write loop; then it starts on satellite's", async () => {
  await kube.installCrd();
  const crd = await kube.admin.get(customResourceDefinitions, { name: "natsclusters.nats.io" });
  for (const v of crd.spec.versions) delete v.subresources;
  await kube.admin.replace(customResourceDefinitions, crd);
  await waitFor("discovery without natsclusters/status", async () => {
    const d = await kube.admin.discover("nats.io/v1alpha2");
    return !d.resources.some((r) => r.name === "natsclusters/status");
  });
  const { op, port } = await startOperator("foreign-crd");
  try {
    await waitForLog(
      op,
      "has no status subresource (nats-operator's own, or an old one): replace it with satellite's (kubectl apply -f manifests/crd.yaml)",
    );
    const readyz = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toContain("operator not ready");
    // Deliberate: 1.5 s pass to show the sentence is not repeated and no write loop starts.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(op.log().match(/has no status subresource/g)).toHaveLength(1);
    expect(op.log()).not.toMatch(/reconcile failed/);
    await startsOnSatellitesCrds(op, port);
  } finally {
    await op.stop();
  }
});

it("no NatsServiceRole CRD (satellite's NatsCluster CRD alone, from before enableServiceAccounts was served): one sentence naming manifests/crd.yaml, not ready; it starts once applied", async () => {
  await kube.installCrd();
  await kube.admin.remove(customResourceDefinitions, { name: "natsserviceroles.nats.io" });
  await waitFor("discovery without natsserviceroles", async () => {
    const d = await kube.admin.discover("nats.io/v1alpha2");
    return !d.resources.some((r) => r.name === "natsserviceroles");
  });
  const { op, port } = await startOperator("no-role-crd");
  try {
    await waitForLog(
      op,
      "has no natsserviceroles: install satellite's CustomResourceDefinitions (kubectl apply -f manifests/crd.yaml has both)",
    );
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    await startsOnSatellitesCrds(op, port);
  } finally {
    await op.stop();
  }
});
