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

  it("enableServiceAccounts: a role's ServiceAccount in another namespace gets its token Secret there (no owner across namespaces); a role stays with its ServiceAccount; a name in two other namespaces is no user, said in the status", async () => {
    const [clusterNs, appNs] = sites as [string, string];
    const secretOf = async (ns: string, name: string) => kube.admin.get(kinds.Secret, { namespace: ns, name }).catch(() => undefined);
    await kube.apply(
      [
        {
          apiVersion: "nats.io/v1alpha2",
          kind: "NatsCluster",
          metadata: { name: "svc" },
          spec: { size: 1, auth: { enableServiceAccounts: true } },
        },
        {
          apiVersion: "nats.io/v1alpha2",
          kind: "NatsServiceRole",
          metadata: { name: "app", labels: { nats_cluster: "svc" } },
          spec: { permissions: { publish: ["app.>"] } },
        },
      ],
      { namespace: clusterNs },
    );
    await kube.apply([{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "app" } }], { namespace: appNs });
    const secret = await waitFor("the token Secret beside the ServiceAccount", async () => {
      const s = await secretOf(appNs, "app-svc-bound-token");
      return s?.data?.token ? s : undefined;
    });
    expect(secret.metadata!.ownerReferences ?? []).toEqual([]);
    const token = Buffer.from(secret.data!.token!, "base64").toString();
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims.aud).toEqual([`nats://svc.${clusterNs}.svc`]);
    expect(claims["kubernetes.io"]).toMatchObject({
      namespace: appNs,
      serviceaccount: { name: "app" },
      secret: { name: "app-svc-bound-token" },
    });
    await waitFor("the user in nats.conf", async () => {
      const conf = Buffer.from((await secretOf(clusterNs, "svc"))?.data?.["nats.conf"] ?? "", "base64").toString();
      return conf.includes(`{ user: "app", password: "${token}"`);
    });

    // Another ServiceAccount "app", in the cluster's namespace: the role stays with the one it has.
    await kube.apply([{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "app" } }], { namespace: clusterNs });
    // Two ServiceAccounts "twice", neither in the cluster's namespace: no user, said in the status.
    await kube.apply([{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "twice" } }], { namespace: appNs });
    await kube.apply([{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "twice" } }], { namespace: home });
    await kube.apply(
      [{ apiVersion: "nats.io/v1alpha2", kind: "NatsServiceRole", metadata: { name: "twice", labels: { nats_cluster: "svc" } }, spec: {} }],
      { namespace: clusterNs },
    );
    const status = await waitFor("twice ambiguous", async () => {
      const s = (await kube.admin.get(kinds.NatsCluster, { namespace: clusterNs, name: "svc" })).status;
      return s?.serviceAccounts?.ambiguous?.includes("twice") && s;
    });
    expect(status.serviceAccounts).toEqual({ users: ["app"], waiting: [], ambiguous: ["twice"] });
    expect(status.conditions?.find((c) => c.type === "Degraded")?.status).toBe("False");
    expect((await secretOf(appNs, "app-svc-bound-token"))?.data?.token).toBe(secret.data!.token);
    expect(await secretOf(clusterNs, "app-svc-bound-token")).toBeUndefined();
    const events = (await kube.admin.list(kinds.Event, clusterNs, { fieldSelector: "involvedObject.name=svc" })).items;
    expect(events.filter((e) => e.reason === "ServiceAccountAmbiguous").map((e) => e.message)).toEqual([
      expect.stringContaining('ServiceAccounts "twice" in namespaces'),
    ]);
  });

  it("-all-namespaces and -leader-elect go with -operator", async () => {
    const p = startSatellite(["run", "-name", "nats", "-all-namespaces"]);
    expect(await p.exited).toBe(2);
    expect(p.log()).toContain("-all-namespaces goes with -operator");
  });
});
