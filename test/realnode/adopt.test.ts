// Adopting what nats-operator made, on the real node, as a user migrating would: nats-operator
// v0.8.3 itself (built from the Go module proxy) runs a NatsCluster of 3 servers; it is stopped,
// satellite's CRD is applied over its CRD and satellite's operator deployed from the manifests.
// satellite takes the cluster over without restarting a server and fixes its status; then it runs
// the cluster: a scale up, and an upgrade that replaces nats-operator's pods with its own.

import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { startNatsOperator } from "../harness/nats-operator.ts";
import { monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import type { Proc } from "../harness/process.ts";

const node = onNode();
const ns = "sat-adopt";
const crd = fileURLToPath(new URL("../../manifests/crd.yaml", import.meta.url));

const startedAt = async (pods: PodView[]) =>
  Object.fromEntries(await Promise.all(pods.map(async (p) => [p.name, (await monitor(p.ip, "varz")).start as string])));
/** Distinct servers `p` has routes to (nats-server 2.10+ pools several connections per peer). */
const routesOf = async (p: PodView) =>
  new Set(
    ((await monitor(p.ip, "routez")).routes ?? []).map((r: { remote_name?: string; remote_id: string }) => r.remote_name || r.remote_id),
  ).size;
const everyServerRoutedTo = (n: number) => async () => {
  const pods = await node.readyPods(ns, "nats_cluster=nats", n + 1);
  return (await Promise.all(pods.map(routesOf))).every((r) => r >= n);
};

describe.runIf(!node.info.unavailable).sequential("adopting a cluster nats-operator 0.8.3 runs", () => {
  skipAfterAFailedStep();
  let natsOperator: Proc | undefined;
  let theirs: PodView[] = [];
  let started: Record<string, string> = {};

  afterAll(async () => {
    await natsOperator?.stop();
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("nats-operator (its own CRD) runs a NatsCluster of 3 servers", async () => {
    await node.kubectl("create", "namespace", ns);
    natsOperator = startNatsOperator(node.info.kubeconfig, ns);
    // It registers (or overwrites) the CRD with its own: one version, no schema, no status subresource.
    await waitFor(
      "nats-operator's CRD",
      async () => {
        const c = await node.kubectlJson("get", "crd", "natsclusters.nats.io").catch(() => undefined);
        return c?.spec.versions.length === 1 && !c.spec.versions[0].subresources;
      },
      60_000,
      500,
    );
    await waitFor("nats-operator's CRD established", async () => {
      const c = await node.kubectlJson("get", "crd", "natsclusters.nats.io");
      return c.status.conditions?.some((x: { type: string; status: string }) => x.type === "Established" && x.status === "True");
    });
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "nats", namespace: ns },
        spec: { size: 3, version: node.info.images.natsPreviousVersion },
      }),
    );
    theirs = await node.readyPods(ns, "nats_cluster=nats", 3, 150_000);
    expect(theirs.map((p) => p.name).sort()).toEqual(["nats-1", "nats-2", "nats-3"]);
    expect(theirs[0]!.raw.spec.containers[0].command[0]).toBe("/nats-server");
    await waitFor("3 servers routed to each other", everyServerRoutedTo(2), 60_000, 500);
    started = await startedAt(theirs);
  }, 240_000);

  it("stopped; satellite's CRD applied over its CRD; satellite's operator deployed from the manifests", async () => {
    await natsOperator!.stop();
    await node.kubectl("apply", "--server-side", "--force-conflicts", "-f", crd);
    await node.applyManifests(ns, { only: ["operator.yaml"] });
    await node.kubectl("rollout", "status", "deployment/satellite-operator", "-n", ns, "--timeout=120s");
  }, 180_000);

  it("satellite takes the cluster over: the same pods and servers (no restart), its status fixed, an Adopted Event", async () => {
    const status = await waitFor(
      "the NatsCluster's status written by satellite",
      async () => {
        const s = (await node.kubectlJson("get", "natscluster", "nats", "-n", ns)).status;
        const progressing = s?.conditions?.find((x: { type: string }) => x.type === "Progressing");
        return progressing?.reason === "Complete" && s;
      },
      90_000,
      500,
    );
    expect(status).toMatchObject({ size: 3, readyReplicas: 3, currentVersion: node.info.images.natsPreviousVersion });
    expect(status.controlPaused).toBeUndefined();
    expect(status.conditions.map((x: { type: string }) => x.type).sort()).toEqual(["Degraded", "Progressing", "Ready"]);
    const now = await node.readyPods(ns, "nats_cluster=nats", 3);
    expect(now.map((p) => [p.name, p.uid, p.restarts])).toEqual(theirs.map((p) => [p.name, p.uid, 0]));
    for (const p of now) expect(p.raw.metadata.annotations["nats.io/adopted"]).toBeTruthy();
    expect(await startedAt(now)).toEqual(started);
    expect(await Promise.all(now.map(routesOf))).toEqual([2, 2, 2]);
    const events = await node.kubectlJson("get", "events", "-n", ns, "--field-selector", "reason=Adopted");
    expect(events.items[0]?.message).toContain("nats-1, nats-2, nats-3");
  }, 120_000);

  it("and runs it: a scale up adds satellite's own pod, which joins nats-operator's servers", async () => {
    await node.kubectl("patch", "natscluster", "nats", "-n", ns, "--type", "merge", "-p", '{"spec":{"size":4}}');
    const pods = await node.readyPods(ns, "nats_cluster=nats", 4, 120_000);
    const added = pods.find((p) => p.name === "nats-4")!;
    expect(added.raw.spec.containers[0].env.map((e: { name: string }) => e.name)).toContain("POD_NAME");
    await waitFor("4 servers routed to each other", everyServerRoutedTo(3), 60_000, 500);
    const adopted = pods.filter((p) => p.name !== "nats-4");
    expect(adopted.map((p) => [p.uid, p.restarts])).toEqual(theirs.map((p) => [p.uid, 0]));
    expect(await startedAt(adopted)).toEqual(started);
  }, 180_000);

  it("an upgrade replaces nats-operator's pods with satellite's, one at a time", async () => {
    const version = node.info.images.natsVersion;
    await node.kubectl("patch", "natscluster", "nats", "-n", ns, "--type", "merge", "-p", JSON.stringify({ spec: { version } }));
    let leastReady = 4;
    const pods = await waitFor(
      "4 Ready pods of satellite's at the new version",
      async () => {
        const list = await node.pods(ns, "nats_cluster=nats");
        leastReady = Math.min(leastReady, list.filter((p) => p.ready && !p.deleting).length);
        const done =
          list.length === 4 &&
          list.every((p) => p.ready && p.images[0] === `nats:${version}` && !p.raw.metadata.annotations["nats.io/adopted"]);
        return done && list;
      },
      300_000,
      250,
    );
    expect(leastReady).toBeGreaterThanOrEqual(3);
    expect(pods.filter((p) => theirs.some((t) => t.uid === p.uid))).toEqual([]);
    await waitFor("4 servers routed to each other", everyServerRoutedTo(3), 60_000, 500);
    const status = (await node.kubectlJson("get", "natscluster", "nats", "-n", ns)).status;
    expect(status).toMatchObject({ currentVersion: version, readyReplicas: 4 });
  }, 360_000);
});
