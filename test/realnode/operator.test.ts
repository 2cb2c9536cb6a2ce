// The operator on a real node, driven as a user drives it: `kubectl apply -k` of the manifests with
// an image override, NatsClusters by kubectl, real nats-server pods checked through their own
// monitoring endpoints and a NATS client.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeNatsTls } from "../harness/certs.ts";
import { connectThroughService, crossServerMessage, monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import { hostPid } from "../harness/realnode.ts";

const node = onNode();
const ns = "sat-operator";
const cluster = "alpha";
const selector = `nats_cluster=${cluster}`;

const natsCluster = (spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: "nats.io/v1beta1",
    kind: "NatsCluster",
    metadata: { name: cluster, namespace: ns },
    spec: { size: 3, version: node.info.images?.natsVersion, pod: { enableConfigReload: true }, ...spec },
  });

/** kubectl patch of the NatsCluster, as a user changes its spec. */
const patchSpec = (json: string) => node.kubectl("patch", "natscluster", cluster, "-n", ns, "--type", "merge", "-p", json);

/** Every server routes to all the others, found by the names the operator gave them. */
async function meshFormed(pods: PodView[]) {
  return waitFor(
    `a full route mesh of ${pods.length}`,
    async () => {
      for (const p of pods) {
        const routez = await monitor(p.ip, "routez");
        const peers = new Set(routez.routes.map((r: { remote_name: string }) => r.remote_name));
        const others = pods.filter((o) => o.name !== p.name).map((o) => o.name);
        if (!others.every((o) => peers.has(o))) return false;
      }
      return true;
    },
    60_000,
    250,
  );
}

// One story told in order, not independent tests: every step works on the same namespace, operator
// Deployment and NatsCluster "alpha" (a 3-pod cluster on the real node takes 10+ s to start, so the
// steps share it), and each starts from what the step before left: the operator installed, the
// cluster running, `pods` as last seen. Hence describe.sequential, and once a step fails the later
// ones are skipped, since they would only fail for the same reason, further away from it.
describe.runIf(!node.info.unavailable).sequential("operator on a real node", () => {
  /** The cluster's pods as the last step left them. */
  let pods: PodView[] = [];
  skipAfterAFailedStep();
  beforeAll(async () => {
    await node.createRestrictedNamespace(ns);
  });
  afterAll(async () => {
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("kubectl apply -k: the operator runs as 2 pods with its service account, Ready by their own probes, one leading", async () => {
    await node.applyManifests(ns);
    await node.kubectl("rollout", "status", "deployment/satellite-operator", "-n", ns, "--timeout=120s");
    const ops = await node.readyPods(ns, "app.kubernetes.io/name=satellite-operator", 2);
    const logs = await Promise.all(ops.map((op) => node.kubectl("logs", "-n", ns, op.name)));
    for (const [i, op] of ops.entries()) {
      expect(op.images).toEqual([node.info.images.satellite]);
      expect(op.raw.spec.serviceAccountName).toBe("satellite-operator");
      expect(logs[i]).toContain('"kubernetes":"in-cluster');
      expect(logs[i]).not.toMatch(/"level":"error"/);
    }
    await waitFor("one replica leading, the other standing by", async () => {
      const now = await Promise.all(ops.map((op) => node.kubectl("logs", "-n", ns, op.name)));
      return now.filter((l) => l.includes("leading: this replica reconciles")).length === 1 && now.some((l) => l.includes("standing by"));
    });
  }, 180_000);

  it("a NatsCluster of 3 with the config reloader: 3 real servers, a full mesh, a client Service, messages cross servers", async () => {
    await node.apply(natsCluster({}));
    pods = await node.readyPods(ns, selector, 3, 120_000);
    for (const p of pods) {
      expect(p.raw.spec.containers.map((c: any) => c.image)).toEqual([node.info.images.nats, node.info.images.satellite]);
      const varz = await monitor(p.ip, "varz");
      expect(varz.server_name).toBe(p.name);
      expect(varz.version).toBe(node.info.images.natsVersion);
    }
    await meshFormed(pods);
    const svc = await node.kubectlJson("get", "service", cluster, "-n", ns);
    const nc = await connectThroughService(svc.spec.clusterIP);
    expect(nc.info?.cluster).toBeTruthy();
    await nc.close();
    expect(await crossServerMessage(pods[0]!.ip, pods[2]!.ip)).toBe(`from ${pods[2]!.ip}`);
  }, 180_000);

  it("a crashed nats-server is restarted in place and the mesh re-forms", async () => {
    const victim = pods[1]!;
    process.kill(hostPid(victim.uid, "nats-server"), "SIGKILL");
    const healed = await waitFor(
      "the container restarted and Ready",
      async () => {
        const now = await node.readyPods(ns, selector, 3, 5_000).catch(() => undefined);
        const p = now?.find((x) => x.uid === victim.uid);
        return p && p.restarts > victim.restarts && now;
      },
      90_000,
      500,
    );
    pods = healed;
    await meshFormed(pods);
  });

  it("a deleted pod is recreated and rejoins the mesh", async () => {
    const victim = pods[0]!;
    await node.kubectl("delete", "pod", victim.name, "-n", ns, "--wait=false");
    pods = await waitFor(
      "a new pod in its place",
      async () => {
        const now = await node.readyPods(ns, selector, 3, 5_000).catch(() => undefined);
        return now && !now.some((p) => p.uid === victim.uid) && now;
      },
      90_000,
      500,
    );
    await meshFormed(pods);
  });

  it("scales 3 -> 5 -> 3, routes following", async () => {
    await patchSpec('{"spec":{"size":5}}');
    pods = await node.readyPods(ns, selector, 5, 120_000);
    await meshFormed(pods);
    await patchSpec('{"spec":{"size":3}}');
    pods = await node.readyPods(ns, selector, 3, 120_000);
    await meshFormed(pods);
    // Removed peers are gone from every server's routes (2.14 pools several connections per peer).
    for (const p of pods) {
      const peers = [...new Set((await monitor(p.ip, "routez")).routes.map((r: any) => r.remote_name))].sort();
      expect(peers).toEqual(
        pods
          .filter((o) => o.name !== p.name)
          .map((o) => o.name)
          .sort(),
      );
    }
  }, 300_000);

  it("a version change rolls one server at a time and ends on the new version", async () => {
    const { natsPrevious, natsPreviousVersion } = node.info.images;
    const fewestReady = node.watchFewestReady(ns, selector, 3);
    await node.kubectl(
      "patch",
      "natscluster",
      cluster,
      "-n",
      ns,
      "--type",
      "merge",
      "-p",
      JSON.stringify({ spec: { version: natsPreviousVersion } }),
    );
    pods = await waitFor(
      "every server on the new version",
      async () => {
        const now = await node.readyPods(ns, selector, 3, 5_000).catch(() => undefined);
        return now?.every((p) => p.images[0] === natsPrevious) && now;
      },
      300_000,
      1_000,
    );
    expect(await fewestReady.stop()).toBeGreaterThanOrEqual(2);
    for (const p of pods) expect((await monitor(p.ip, "varz")).version).toBe(natsPreviousVersion);
    await meshFormed(pods);
  }, 360_000);

  it("a spec change (resources) rolls out to every pod", async () => {
    await patchSpec(
      '{"spec":{"pod":{"enableConfigReload":true,"resources":{"requests":{"cpu":"15m","memory":"24Mi"},"limits":{"memory":"256Mi"}}}}}',
    );
    pods = await waitFor(
      "every pod with the new resources",
      async () => {
        const now = await node.readyPods(ns, selector, 3, 5_000).catch(() => undefined);
        return now?.every((p) => p.raw.spec.containers[0].resources?.requests?.memory === "24Mi") && now;
      },
      300_000,
      1_000,
    );
    await meshFormed(pods);
  }, 360_000);

  it("a spec change (TLS for clients and routes, as in the seed's example) rolls out; the mesh re-forms over TLS", async () => {
    const certs = makeNatsTls(ns, cluster);
    await node.kubectl("create", "secret", "generic", "nats-clients-tls", "-n", ns, ...certs.clients);
    await node.kubectl("create", "secret", "generic", "nats-routes-tls", "-n", ns, ...certs.routes);
    await patchSpec('{"spec":{"tls":{"serverSecret":"nats-clients-tls","routesSecret":"nats-routes-tls"}}}');
    pods = await waitFor(
      "every server with TLS",
      async () => {
        const now = await node.readyPods(ns, selector, 3, 5_000).catch(() => undefined);
        if (!now) return false;
        const varz = await Promise.all(now.map((p) => monitor(p.ip, "varz")));
        return varz.every((v) => v.tls_required && v.cluster?.tls_required) && now;
      },
      300_000,
      1_000,
    );
    await meshFormed(pods);
    // The reloader sidecars have no client certificate for NATS: they must still reload, in place.
    await patchSpec('{"spec":{"natsConfig":{"maxPayload":2097152}}}');
    await waitFor(
      "every server reloaded with the new max_payload",
      async () => {
        const varz = await Promise.all(pods.map((p) => monitor(p.ip, "varz")));
        return varz.every((v) => v.max_payload === 2097152);
      },
      60_000,
      500,
    );
    const after = await node.readyPods(ns, selector, 3);
    expect(after.map((p) => p.uid).sort()).toEqual(pods.map((p) => p.uid).sort());
    for (const p of after) expect(p.restarts).toBe(0);
  }, 360_000);

  it("deleting the NatsCluster garbage-collects everything it owns", async () => {
    const owned = async () => {
      const kinds =
        "pods,services,secrets,configmaps,serviceaccounts,roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,poddisruptionbudgets.policy";
      const list = await node.kubectlJson("get", kinds, "-n", ns);
      return list.items.filter((o: any) => o.metadata.ownerReferences?.some((r: any) => r.kind === "NatsCluster" && r.name === cluster));
    };
    expect((await owned()).length).toBeGreaterThanOrEqual(3 + 2 + 1 + 1);
    await node.kubectl("delete", "natscluster", cluster, "-n", ns);
    await waitFor("nothing left that the cluster owned", async () => (await owned()).length === 0, 120_000, 500);
  }, 180_000);
});
