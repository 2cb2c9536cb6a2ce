// Pod Security "restricted" (the profile many production namespaces enforce), on a real API server's
// PodSecurity admission: the operator, installed from the manifests, makes NatsClusters in every
// mode in a namespace that enforces it, and every pod it makes is admitted. A pod the user opens
// up (spec.pod.securityContext) is refused by admission, and the cluster says so.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kinds } from "../../handlers/index.ts";
import { type Proc, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import type { fakeKubelet } from "../harness/kubelet.ts";
import { startNamespacedOperator } from "../harness/satellite.ts";

const kube = useKube();
let ns: string;
let operator: Proc;
let kubelet: ReturnType<typeof fakeKubelet>;

const pem = (s: string) => Buffer.from(`-----BEGIN ${s}-----\nAA==\n-----END ${s}-----\n`).toString("base64");
const tlsSecret = (name: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name },
  data: Object.fromEntries(["ca.pem", "server.pem", "server-key.pem", "route.pem", "route-key.pem"].map((k) => [k, pem("CERTIFICATE")])),
});

const modes: [string, Record<string, unknown>][] = [
  ["plain", {}],
  ["sidecar", { pod: { enableConfigReload: true } }],
  ["operator-reload", { configReload: { mode: "operator" } }],
  ["jetstream", { jetstream: { enabled: true, fileStorage: { size: "1Gi" } } }],
  ["auth", { auth: { clientsAuthSecret: "clients-auth" }, pod: { enableConfigReload: true } }],
  ["tls", { tls: { serverSecret: "nats-tls", routesSecret: "nats-tls" }, pod: { enableMetrics: true } }],
];

beforeAll(async () => {
  await kube.installCrd();
  ns = await kube.createNamespace("restricted");
  await kube.admin.patch(kinds.Namespace, { name: ns }, { metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted" } } });
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  await kube.apply(
    [
      tlsSecret("nats-tls"),
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "clients-auth" },
        stringData: { "clients-auth.json": '{"users":[{"username":"a","password":"b"}]}' },
      },
    ],
    { namespace: ns },
  );
  ({ operator, kubelet } = await startNamespacedOperator(kube, ns));
});

afterAll(async () => {
  await kubelet?.stop();
  await operator?.stop();
  kube.close();
});

describe("Pod Security restricted", () => {
  it("the namespace really enforces it: a pod as the official nats image runs it (root) is refused", async () => {
    const root = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "as-root" },
      spec: { containers: [{ name: "nats", image: "nats:2.14.9" }] },
    };
    await expect(kube.apply([root], { namespace: ns })).rejects.toThrow(/violates PodSecurity "restricted/);
  });

  it.each(modes)("%s: every pod is admitted and the cluster is Ready", async (mode, spec) => {
    await kube.apply([{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: mode }, spec: { size: 2, ...spec } }], {
      namespace: ns,
    });
    await waitFor(
      `${mode} Ready 2/2`,
      async () => {
        const status = (await kube.admin.get(kinds.NatsCluster, { namespace: ns, name: mode })).status;
        if (status?.conditions?.some((c) => c.type === "Degraded" && c.status === "True"))
          throw new Error(JSON.stringify(status.conditions));
        return status?.readyReplicas === 2;
      },
      30_000,
    );
    const pods = (await kube.admin.list(kinds.Pod, ns, { labelSelector: `nats_cluster=${mode}` })).items;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } });
      for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])])
        expect(c.securityContext, `${p.metadata?.name} ${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        });
    }
    const status = (await kube.admin.get(kinds.NatsCluster, { namespace: ns, name: mode })).status;
    expect(status?.conditions?.find((c) => c.type === "Progressing")?.reason).not.toBe("ReconcileFailed");
  });

  it("the seed's example StatefulSet (manifests/example-cluster.yaml): its pod, as the StatefulSet controller makes it, is admitted", async () => {
    const docs = parseAllDocuments(manifest("example-cluster.yaml")).map((d) => d.toJS());
    const template = docs.find((d) => d?.kind === "StatefulSet").spec.template;
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { ...template.metadata, name: "nats-0" }, spec: template.spec };
    await expect(kube.apply([pod], { namespace: ns, dryRun: true })).resolves.toHaveLength(1);
  });

  it("a cluster whose spec opens its pods up (root) is refused by admission, and its status and an Event say so", async () => {
    const spec = { size: 1, pod: { securityContext: { runAsNonRoot: false, runAsUser: 0 } } };
    await kube.apply([{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: "rooted" }, spec }], { namespace: ns });
    const failed = await waitFor(
      "ReconcileFailed",
      async () => {
        const c = (await kube.admin.get(kinds.NatsCluster, { namespace: ns, name: "rooted" })).status?.conditions?.find(
          (x) => x.type === "Progressing",
        );
        return c?.reason === "ReconcileFailed" && c;
      },
      30_000,
    );
    expect(failed.message).toContain("PodSecurity");
    expect((await kube.admin.list(kinds.Pod, ns, { labelSelector: "nats_cluster=rooted" })).items).toEqual([]);
  });
});
