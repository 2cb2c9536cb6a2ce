// nats-operator's gatewayConfig, websocketConfig and template on a real node: two NatsClusters
// joined by gateways into a supercluster, a websocket client, and a pod template that adds a
// volume and env. Driven as a user: the manifests, NatsClusters by kubectl, the servers'
// monitoring endpoints, a NATS client and the nats CLI.

import { readFileSync } from "node:fs";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectThroughService, crossServerMessage, monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import { hostPid } from "../harness/realnode.ts";

const node = onNode();
const ns = "sat-gateways";

const gateways = [
  { name: "east", url: `nats://east-mgmt.${ns}.svc:7222` },
  { name: "west", url: `nats://west-mgmt.${ns}.svc:7222` },
];
const natsCluster = (name: string, spec: Record<string, unknown>) =>
  JSON.stringify({
    apiVersion: "nats.io/v1alpha2",
    kind: "NatsCluster",
    metadata: { name, namespace: ns },
    spec: { size: 2, version: node.info.images.natsVersion, gatewayConfig: { gateways }, ...spec },
  });

/** The gateways a server has connected out to, by name, from its /gatewayz. */
async function outbound(p: PodView): Promise<string[]> {
  const gz = await monitor(p.ip, "gatewayz");
  return Object.keys(gz.outbound_gateways ?? {}).sort();
}

describe.runIf(!node.info.unavailable).sequential("nats-operator's gatewayConfig, websocketConfig and template", () => {
  let east: PodView[] = [];
  let west: PodView[] = [];
  skipAfterAFailedStep();
  beforeAll(() => node.installOperator(ns), 180_000);
  afterAll(async () => {
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("two NatsClusters with gatewayConfig form a supercluster: each server has a gateway to the other cluster", async () => {
    await node.apply(natsCluster("east", { websocketConfig: { compression: true } }));
    await node.apply(natsCluster("west", {}));
    east = await node.readyPods(ns, "nats_cluster=east", 2, 120_000);
    west = await node.readyPods(ns, "nats_cluster=west", 2, 120_000);
    const mgmt = await node.kubectlJson("get", "service", "east-mgmt", "-n", ns);
    expect(mgmt.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toContainEqual(["gateways", 7222]);
    for (const [pods, other] of [
      [east, "west"],
      [west, "east"],
    ] as const)
      for (const p of pods) await waitFor(`${p.name}'s gateway to ${other}`, async () => (await outbound(p)).includes(other), 60_000, 500);
    const varz = await monitor(east[0]!.ip, "varz");
    expect(varz.gateway).toMatchObject({ name: "east", port: 7222 });
    expect(varz.cluster.name).toBe("east");
  }, 300_000);

  it("a message published in one cluster reaches a subscriber in the other, across the gateway", async () => {
    expect(await crossServerMessage(west[1]!.ip, east[0]!.ip, "e2e.gateway")).toBe(`from ${east[0]!.ip}`);
    expect(await crossServerMessage(east[1]!.ip, west[0]!.ip, "e2e.gateway.back")).toBe(`from ${west[0]!.ip}`);
  });

  it("a websocket client (the nats CLI over ws://) on east's client Service reaches a subscriber in west", async () => {
    const svc = await node.kubectlJson("get", "service", "east", "-n", ns);
    expect(svc.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toContainEqual(["websocket", 8080]);
    const sub = await connectThroughService((await node.kubectlJson("get", "service", "west", "-n", ns)).spec.clusterIP);
    try {
      const got = sub.subscribe("e2e.websocket", { max: 1 });
      await sub.flush();
      const received = (async () => {
        for await (const m of got) return m.string();
        return "";
      })();
      await waitFor(
        "a message over websocket, across the gateway",
        async () => {
          await node.nats("-s", `ws://${svc.spec.clusterIP}:8080`, "pub", "e2e.websocket", "over websocket");
          return Promise.race([received, new Promise<false>((r) => setTimeout(() => r(false), 500))]);
        },
        30_000,
        0,
      );
      expect(await received).toBe("over websocket");
    } finally {
      await sub.close();
    }
  });

  it("a gateway TLS Secret that does not exist is refused (Degraded); the running servers are left as they are", async () => {
    await node.kubectl("patch", "natscluster", "west", "-n", ns, "--type", "merge", "-p", '{"spec":{"tls":{"gatewaySecret":"nope"}}}');
    const degraded = await waitFor(
      "west Degraded",
      async () => {
        const c = (await node.kubectlJson("get", "natscluster", "west", "-n", ns)).status?.conditions?.find(
          (x: { type: string; status: string }) => x.type === "Degraded" && x.status === "True",
        );
        return c;
      },
      30_000,
      500,
    );
    expect(degraded.message).toContain('spec.tls.gatewaySecret: secret "nope" not found');
    const now = await node.readyPods(ns, "nats_cluster=west", 2, 5_000);
    expect(now.map((p) => p.uid)).toEqual(west.map((p) => p.uid));
  });

  it("a template (nats-operator's) adds a Secret volume, mounted through pod.volumeMounts, and an env var: the server runs with both", async () => {
    await node.kubectl("create", "secret", "generic", "extra-files", "-n", ns, "--from-literal=hello.txt=from the template");
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "templated", namespace: ns },
        spec: {
          size: 1,
          version: node.info.images.natsVersion,
          pod: { volumeMounts: [{ name: "extra", mountPath: "/etc/extra", readOnly: true }] },
          template: {
            metadata: { labels: { team: "edge" } },
            spec: {
              volumes: [{ name: "extra", secret: { secretName: "extra-files" } }],
              containers: [{ name: "nats", env: [{ name: "MY_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }] }],
            },
          },
        },
      }),
    );
    const [pod] = await node.readyPods(ns, "nats_cluster=templated", 1, 120_000);
    expect(pod!.raw.metadata.labels.team).toBe("edge");
    // Inside the server's own container, as the process sees it.
    const pid = hostPid(pod!.uid, "nats-server");
    expect(readFileSync(`/proc/${pid}/root/etc/extra/hello.txt`, "utf8")).toBe("from the template");
    expect(readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")).toContain(`MY_NODE_NAME=${pod!.raw.spec.nodeName}`);
  }, 180_000);
});
