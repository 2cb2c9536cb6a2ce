// charts/satellite installed, upgraded and uninstalled by helm against the test bed's real
// kube-apiserver (no kubelet: the operator's pods are never started, so the operator is run from
// the host with the chart's ServiceAccount, which shows the chart's RBAC is what it needs).

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kinds, type ResourceType } from "../../handlers/index.ts";
import { chartDir, helm, helmOk } from "../harness/helm.ts";
import { type Proc, useKube, waitFor } from "../harness/index.ts";
import { customResourceDefinitions, manifest } from "../harness/kube.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
const kubeconfig = kube.info.kubeconfig;
const crdName = "natsclusters.nats.io";
/** Both CRDs of manifests/crd.yaml: NatsCluster and NatsServiceRole. */
const crdNames = [crdName, "natsserviceroles.nats.io"];
// Kinds the operator never touches, so not in handlers/kinds.ts.
const Deployment: ResourceType<any> = { kind: "Deployment", group: "apps", version: "v1", resource: "deployments", namespaced: true };
const clusterRbac = (kind: string): ResourceType<any> => ({
  kind,
  group: "rbac.authorization.k8s.io",
  version: "v1",
  resource: `${kind.toLowerCase()}s`,
  namespaced: false,
});
const ClusterRole = clusterRbac("ClusterRole");
const ClusterRoleBinding = clusterRbac("ClusterRoleBinding");
const { Role, RoleBinding } = kinds;

const missing = async (p: Promise<unknown>) => {
  try {
    await p;
    return false;
  } catch (e) {
    if ((e as { status?: number }).status === 404) return true;
    throw e;
  }
};

const deployment = (namespace: string, name = "satellite-operator") => kube.admin.get(Deployment, { namespace, name });

/** The release's current revision, from helm itself. */
async function revision(release: string, namespace: string): Promise<number> {
  return JSON.parse(await helmOk(["status", release, "-n", namespace, "-o", "json"], { kubeconfig })).version;
}

/** The operator as the chart's Deployment runs it, from the host, with the chart's ServiceAccount's token. */
async function runAsTheChartsOperator(namespace: string, serviceAccount: string, deploymentName = serviceAccount): Promise<Proc> {
  const d = await deployment(namespace, deploymentName);
  const args = [...d.spec!.template.spec!.containers[0]!.args!];
  // The health port: any free one on this host, not the pod's.
  args.splice(args.indexOf("-health"), 2);
  const token = await kube.admin.create(
    kinds.ServiceAccount as ResourceType<any>,
    { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
    { ref: { namespace, name: serviceAccount, subresource: "token" } },
  );
  const config = kube.kubeconfigFor(token.status.token, namespace, `helm-${serviceAccount}`);
  const p = startSatellite([...args, "-log-format", "json"], { env: { KUBECONFIG: config, POD_NAMESPACE: namespace }, name: "operator" });
  await waitForLog(p, "operator caches synced");
  return p;
}

describe.sequential("helm install, upgrade, uninstall against a real API server", () => {
  let ns: string;
  let operator: Proc | undefined;
  const natsCluster = { apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: "edge" }, spec: { size: 1 } };

  beforeAll(async () => {
    ns = await kube.createNamespace("helm");
    // The CRDs are cluster-wide and other test files install them with kubectl's apply: gone first,
    // so that this install is the one creating them.
    for (const name of crdNames)
      if (!(await missing(kube.admin.get(customResourceDefinitions, { name })))) {
        await kube.admin.remove(customResourceDefinitions, { name });
        await waitFor(`the CRD ${name} to be gone`, () => missing(kube.admin.get(customResourceDefinitions, { name })), 30_000);
      }
  });
  afterAll(async () => {
    await operator?.stop();
    kube.close();
  });

  it("helm install: the CRD (kept on uninstall), ServiceAccount, Role, RoleBinding and Deployment of the release", async () => {
    const out = await helmOk(["install", "sat", chartDir, "-n", ns], { kubeconfig });
    expect(out).toContain("STATUS: deployed");
    for (const name of crdNames) {
      const crd = await waitFor(`the CRD ${name} established`, async () => {
        const c = await kube.admin.get(customResourceDefinitions, { name });
        return c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True") && c;
      });
      expect(crd.metadata!.annotations).toMatchObject({
        "helm.sh/resource-policy": "keep",
        "meta.helm.sh/release-name": "sat",
        "meta.helm.sh/release-namespace": ns,
      });
    }
    for (const type of [kinds.ServiceAccount, Role, RoleBinding, Deployment]) {
      const o = await kube.admin.get(type as ResourceType<any>, { namespace: ns, name: "satellite-operator" });
      expect(o.metadata.labels, type.kind).toMatchObject({ "app.kubernetes.io/instance": "sat", "app.kubernetes.io/managed-by": "Helm" });
    }
    const rb = await kube.admin.get(RoleBinding, { namespace: ns, name: "satellite-operator" });
    expect(rb.subjects).toEqual([{ kind: "ServiceAccount", name: "satellite-operator", namespace: ns }]);
    const d = await deployment(ns);
    expect(d.spec!.replicas).toBe(2);
    expect(d.spec!.template.spec!.containers[0]!.image).toBe("ghcr.io/satellite-nats/satellite:0.1.0");
  });

  it("the operator, run with the release's ServiceAccount and arguments, reconciles a NatsCluster of the namespace", async () => {
    operator = await runAsTheChartsOperator(ns, "satellite-operator");
    await kube.apply([natsCluster], { namespace: ns });
    await waitFor("the NatsCluster's Services and config Secret", async () => {
      await kube.admin.get(kinds.Service, { namespace: ns, name: "edge" });
      await kube.admin.get(kinds.Service, { namespace: ns, name: "edge-mgmt" });
      return kube.admin.get(kinds.Secret, { namespace: ns, name: "edge" });
    });
    expect(operator.log()).not.toMatch(/"level":"error"|forbidden/);
    await operator.stop();
    operator = undefined;
  });

  it("helm upgrade with another image tag and debug logging: the same Deployment, its pod template changed", async () => {
    const before = await deployment(ns);
    await helmOk(["upgrade", "sat", chartDir, "-n", ns, "--set", "image.tag=0.2.0,log.level=debug"], { kubeconfig });
    const after = await deployment(ns);
    expect(after.metadata!.uid).toBe(before.metadata!.uid);
    expect(after.metadata!.generation).toBeGreaterThan(before.metadata!.generation!);
    const c = after.spec!.template.spec!.containers[0]!;
    expect(c.image).toBe("ghcr.io/satellite-nats/satellite:0.2.0");
    expect(c.args).toEqual(["run", "-operator", "-leader-elect", "-config-api", "-health", ":8081", "-D"]);
    expect(after.metadata!.labels!["app.kubernetes.io/instance"]).toBe("sat");
    expect(await revision("sat", ns)).toBe(2);
  });

  it("helm upgrade with a refused value changes nothing", async () => {
    const before = await deployment(ns);
    const r = await helm(["upgrade", "sat", chartDir, "-n", ns, "--set", "replicas=3,leaderElection.enabled=false"], { kubeconfig });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("replicas is 3 but leaderElection.enabled is false");
    expect((await deployment(ns)).metadata!.resourceVersion).toBe(before.metadata!.resourceVersion);
    expect(await revision("sat", ns)).toBe(2);
  });

  it("helm upgrade upgrades the CRD (it is in templates/): a chart whose CRD has another short name changes it, and back", async () => {
    const copy = join(mkdtempSync(join(tmpdir(), "satellite-chart-")), "satellite");
    cpSync(chartDir, copy, { recursive: true, dereference: true });
    const file = join(copy, "files", "crd.yaml");
    const text = readFileSync(file, "utf8");
    expect(text).toContain("shortNames: [nats]");
    writeFileSync(file, text.replace("shortNames: [nats]", "shortNames: [nats, natsc]"));
    const names = async () => (await kube.admin.get(customResourceDefinitions, { name: crdName })).spec.names.shortNames;
    await helmOk(["upgrade", "sat", copy, "-n", ns, "--reuse-values"], { kubeconfig });
    expect(await names()).toEqual(["nats", "natsc"]);
    await helmOk(["upgrade", "sat", chartDir, "-n", ns, "--reuse-values"], { kubeconfig });
    expect(await names()).toEqual(["nats"]);
    // --reuse-values kept the values of revision 2.
    expect((await deployment(ns)).spec!.template.spec!.containers[0]!.image).toBe("ghcr.io/satellite-nats/satellite:0.2.0");
  });

  it("helm uninstall: the operator's objects are gone; the CRD and the NatsClusters stay", async () => {
    const out = await helmOk(["uninstall", "sat", "-n", ns], { kubeconfig });
    expect(out).toContain("These resources were kept due to the resource policy:");
    for (const name of crdNames) expect(out).toContain(`[CustomResourceDefinition] ${name}`);
    for (const type of [kinds.ServiceAccount, Role, RoleBinding, Deployment]) {
      expect(await missing(kube.admin.get(type as ResourceType<any>, { namespace: ns, name: "satellite-operator" })), type.kind).toBe(true);
    }
    for (const name of crdNames)
      expect((await kube.admin.get(customResourceDefinitions, { name })).metadata!.deletionTimestamp).toBeUndefined();
    const nc = await kube.admin.get(kinds.NatsCluster, { namespace: ns, name: "edge" });
    expect(nc.metadata!.deletionTimestamp).toBeUndefined();
  });

  it("a new release takes the kept CRD over only when asked to (--take-ownership), or leaves it out (crd.install=false)", async () => {
    const other = await kube.createNamespace("helm-again");
    const refused = await helm(["install", "again", chartDir, "-n", other], { kubeconfig });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `CustomResourceDefinition "${crdName}" in namespace "" exists and cannot be imported into the current release`,
    );
    expect(await missing(deployment(other))).toBe(true);
    await helmOk(["install", "again", chartDir, "-n", other, "--set", "crd.install=false"], { kubeconfig });
    expect((await kube.admin.get(customResourceDefinitions, { name: crdName })).metadata!.annotations!["meta.helm.sh/release-name"]).toBe(
      "sat",
    );
    await helmOk(["upgrade", "again", chartDir, "-n", other, "--set", "crd.install=true", "--take-ownership"], { kubeconfig });
    const crd = await kube.admin.get(customResourceDefinitions, { name: crdName });
    expect(crd.metadata!.annotations).toMatchObject({ "meta.helm.sh/release-name": "again", "meta.helm.sh/release-namespace": other });
    await helmOk(["uninstall", "again", "-n", other], { kubeconfig });
    expect(await missing(deployment(other))).toBe(true);
  });
});

describe.sequential("helm install with allNamespaces", () => {
  let home: string;
  let site: string;
  let operator: Proc | undefined;
  // Not satellite-operator: test/integration/cluster-wide.test.ts applies a ClusterRole of that name.
  const name = "satellite-helm-wide";

  beforeAll(async () => {
    home = await kube.createNamespace("helm-wide");
    site = await kube.createNamespace("helm-site");
    await kube.installCrd();
  });
  afterAll(async () => {
    await operator?.stop();
  });

  it("a ClusterRole and ClusterRoleBinding with which the operator runs the NatsClusters of every namespace", async () => {
    await helmOk(["install", "wide", chartDir, "-n", home, "--set", `allNamespaces=true,crd.install=false,name=${name}`], { kubeconfig });
    const role = await kube.admin.get(ClusterRole, { name });
    const expected = parseAllDocuments(manifest("operator-cluster-wide.yaml")).map((d) => d.toJS());
    expect(role.rules).toEqual(expected.find((o: any) => o.kind === "ClusterRole").rules);
    expect((await kube.admin.get(ClusterRoleBinding, { name })).subjects).toEqual([{ kind: "ServiceAccount", name, namespace: home }]);
    expect(await missing(kube.admin.get(Role, { namespace: home, name }))).toBe(true);

    operator = await runAsTheChartsOperator(home, name);
    await kube.apply([{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: "far" }, spec: { size: 1 } }], {
      namespace: site,
    });
    await waitFor("the NatsCluster's config Secret in its own namespace", () =>
      kube.admin.get(kinds.Secret, { namespace: site, name: "far" }),
    );
    await operator.stop();
    operator = undefined;
  });

  it("helm uninstall removes the ClusterRole and ClusterRoleBinding", async () => {
    await helmOk(["uninstall", "wide", "-n", home], { kubeconfig });
    expect(await missing(kube.admin.get(ClusterRole, { name }))).toBe(true);
    expect(await missing(kube.admin.get(ClusterRoleBinding, { name }))).toBe(true);
  });
});

describe("from kubectl apply to helm", () => {
  // --force-conflicts: kubectl's apply owns the fields it wrote, and some (env's fieldRef, an atomic
  // struct the API server completes with apiVersion) differ in form from what helm applies.
  it("a release takes over the objects manifests/operator.yaml made (--take-ownership --force-conflicts): the same Deployment, not rolled", async () => {
    const ns = await kube.createNamespace("helm-adopt");
    await kube.installCrd();
    await kube.apply(manifest("operator.yaml"), { namespace: ns });
    const before = await deployment(ns);
    await helmOk(["install", "adopt", chartDir, "-n", ns, "--set", "crd.install=false", "--take-ownership", "--force-conflicts"], {
      kubeconfig,
    });
    const after = await deployment(ns);
    expect(after.metadata!.uid).toBe(before.metadata!.uid);
    expect(after.metadata!.annotations).toMatchObject({ "meta.helm.sh/release-name": "adopt" });
    // The manifests render the chart's objects, so the pod template is untouched: no rollout.
    expect(after.spec!.template).toEqual(before.spec!.template);
    await helmOk(["uninstall", "adopt", "-n", ns], { kubeconfig });
  });
});
