// The operator installed by helm from charts/satellite on the real node, as a user installs it:
// a NatsCluster made Ready, an upgrade to a new operator image that rolls the operator and
// restarts no NATS server, and an uninstall that leaves the servers running.

import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chartDir, helm, helmOk } from "../harness/helm.ts";
import { crossServerMessage, monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const ns = "sat-helm";
const release = "satellite";
const cluster = "alpha";
const selector = `nats_cluster=${cluster}`;
const operatorSelector = "app.kubernetes.io/name=satellite-operator";

/** satellite.test/satellite:dev: the image of this checkout, imported into the node's containerd. */
const [repository, tag] = (() => {
  const image = node.info.images?.satellite ?? "";
  const at = image.lastIndexOf(":");
  return [image.slice(0, at), image.slice(at + 1)];
})();
/** The same image under a second tag: to the kubelet a new image, as a release upgrade brings. */
const upgradedTag = `${tag}-helm-upgrade`;

const helmOnNode = (...args: string[]) => helmOk(args, { kubeconfig: node.info.kubeconfig });

/** Tags an image in every node's containerd (where the kubelets find it; pullPolicy Never). */
async function tagInContainerd(from: string, to: string) {
  // Each node's own containerd: containerd, containerd-b, containerd-c (test/realnode/lib.sh).
  for (const name of node.info.nodes) {
    const socket = join(node.info.dir, `containerd${name.replace(/^realnode/, "")}`, "containerd.sock");
    await promisify(execFile)("ctr", ["--connect-timeout", "2s", "-a", socket, "-n", "k8s.io", "images", "tag", "--force", from, to]);
  }
}

/** The operator pods, Ready, and the one leading (by its log). */
async function operators(image: string) {
  const ops = await node.readyPods(ns, operatorSelector, 2, 120_000);
  for (const op of ops) expect(op.images).toEqual([image]);
  const leader = await waitFor("one operator replica leading", async () => {
    const logs = await Promise.all(ops.map((op) => node.kubectl("logs", "-n", ns, op.name)));
    const leading = ops.filter((_, i) => logs[i]!.includes("leading: this replica reconciles"));
    return leading.length === 1 && leading[0];
  });
  return { ops, leader };
}

/** Which server pods run, and how often each restarted: what must not change. */
const identity = (pods: PodView[]) => pods.map((p) => `${p.name} ${p.uid} restarts=${p.restarts}`).sort();

// One story told in order (see operator.test.ts): each step starts where the one before left.
describe.runIf(!node.info.unavailable).sequential("helm install, upgrade, uninstall on a real node", () => {
  let servers: PodView[] = [];
  skipAfterAFailedStep();
  beforeAll(async () => {
    await node.createRestrictedNamespace(ns);
  });
  afterAll(async () => {
    if (node.info.unavailable) return;
    await helm(["uninstall", release, "-n", ns], { kubeconfig: node.info.kubeconfig });
    await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("helm install: the operator runs as 2 Ready pods under Pod Security restricted, one leading", async () => {
    // --take-ownership --force-conflicts: an earlier suite may have applied the CRD with kubectl.
    await helmOnNode(
      "install",
      release,
      chartDir,
      "-n",
      ns,
      "--take-ownership",
      "--force-conflicts",
      "--set",
      `image.repository=${repository},image.tag=${tag},image.pullPolicy=Never`,
    );
    await node.kubectl("rollout", "status", "deployment/satellite-operator", "-n", ns, "--timeout=120s");
    const { ops } = await operators(node.info.images.satellite);
    for (const op of ops) expect(op.raw.spec.serviceAccountName).toBe("satellite-operator");
    const crd = await node.kubectlJson("get", "crd", "natsclusters.nats.io");
    expect(crd.metadata.annotations).toMatchObject({ "helm.sh/resource-policy": "keep", "meta.helm.sh/release-name": release });
  }, 180_000);

  it("a NatsCluster of 3 with the reloader sidecar: Ready, its servers meshed", async () => {
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1beta1",
        kind: "NatsCluster",
        metadata: { name: cluster, namespace: ns },
        spec: { size: 3, version: node.info.images.natsVersion, pod: { enableConfigReload: true } },
      }),
    );
    servers = await node.readyPods(ns, selector, 3, 120_000);
    for (const p of servers) expect(p.images).toEqual([node.info.images.nats, node.info.images.satellite]);
    await waitFor("the NatsCluster reporting 3 ready", async () => {
      const nc = await node.kubectlJson("get", "natscluster", cluster, "-n", ns);
      return nc.status?.readyReplicas === 3;
    });
    expect(await crossServerMessage(servers[0]!.ip, servers[2]!.ip)).toBe(`from ${servers[2]!.ip}`);
  }, 180_000);

  it("helm upgrade to a new operator image: the operator rolls, the sidecars take the new image in place, no NATS server restarts", async () => {
    const before = await operators(node.info.images.satellite);
    const upgraded = `${repository}:${upgradedTag}`;
    await tagInContainerd(node.info.images.satellite, upgraded);
    await helmOnNode("upgrade", release, chartDir, "-n", ns, "--reuse-values", "--set", `image.tag=${upgradedTag}`);
    await node.kubectl("rollout", "status", "deployment/satellite-operator", "-n", ns, "--timeout=120s");
    const after = await operators(upgraded);
    expect(after.ops.map((o) => o.uid).filter((uid) => before.ops.some((o) => o.uid === uid))).toEqual([]);
    // The new leader reconciles the cluster: a config change reaches every server, reloaded in place.
    await node.kubectl(
      "patch",
      "natscluster",
      cluster,
      "-n",
      ns,
      "--type",
      "merge",
      "-p",
      '{"spec":{"natsConfig":{"maxPayload":2097152}}}',
    );
    await waitFor(
      "every server reloaded with the new max_payload",
      async () => (await Promise.all(servers.map((p) => monitor(p.ip, "varz")))).every((v) => v.max_payload === 2097152),
      90_000,
      500,
    );
    // The reloader sidecars follow the operator's image, set on the running pods: the kubelet
    // restarts that container alone.
    const now = await waitFor(
      "every reloader sidecar on the new image",
      async () => {
        const pods = await node.readyPods(ns, selector, 3);
        return pods.every((p) => p.images[1] === upgraded) && pods;
      },
      120_000,
      500,
    );
    expect(now.map((p) => `${p.name} ${p.uid}`).sort()).toEqual(servers.map((p) => `${p.name} ${p.uid}`).sort());
    for (const p of now) {
      expect(p.images).toEqual([node.info.images.nats, upgraded]);
      expect(p.raw.status.containerStatuses.find((c: { name: string }) => c.name === "nats").restartCount).toBe(0);
    }
    servers = now;
  }, 300_000);

  it("helm uninstall: the operator is gone, the CRD kept, the NatsCluster's servers keep running and serving", async () => {
    await helmOnNode("uninstall", release, "-n", ns);
    await waitFor("the operator's pods gone", async () => (await node.pods(ns, operatorSelector)).length === 0, 120_000, 500);
    expect((await node.kubectlJson("get", "deployments", "-n", ns)).items).toEqual([]);
    expect((await node.kubectlJson("get", "crd", "natsclusters.nats.io")).metadata.deletionTimestamp).toBeUndefined();
    expect((await node.kubectlJson("get", "natscluster", cluster, "-n", ns)).metadata.deletionTimestamp).toBeUndefined();
    const now = await node.readyPods(ns, selector, 3);
    expect(identity(now)).toEqual(identity(servers));
    expect(await crossServerMessage(now[1]!.ip, now[0]!.ip)).toBe(`from ${now[0]!.ip}`);
  }, 180_000);
});
