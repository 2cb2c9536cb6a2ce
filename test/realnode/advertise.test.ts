// pod.advertiseExternalIP on the real nodes: nats-operator's own example-nats-cluster-gateway.yaml,
// applied unchanged (as a user coming from nats-operator would), with the ServiceAccount it names
// allowed to get nodes. The init container writes the node's address; a client that connects to
// the node's address on the bound client port is told that address by the server, and its
// messages flow there.

import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binaries } from "../harness/binaries.ts";
import { onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const ns = "sat-advertise";

describe.runIf(!node.info.unavailable).sequential("pod.advertiseExternalIP: nats-operator's gateway example on the real nodes", () => {
  let pod: PodView;
  let nodeIp = "";
  skipAfterAFailedStep();
  beforeAll(async () => {
    await node.installOperator(ns);
    // Ports on the node (hostPort) are outside Pod Security's baseline and restricted profiles.
    await node.kubectl("label", "--overwrite", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged");
    await node.kubectl("create", "serviceaccount", "nats-server", "-n", ns);
    await node.kubectl("create", "clusterrole", `${ns}-node-reader`, "--verb=get", "--resource=nodes");
    await node.kubectl(
      "create",
      "clusterrolebinding",
      `${ns}-node-reader`,
      `--clusterrole=${ns}-node-reader`,
      `--serviceaccount=${ns}:nats-server`,
    );
  }, 180_000);
  afterAll(async () => {
    if (node.info.unavailable) return;
    await node.kubectl("delete", "namespace", ns, "--wait=false");
    await node.kubectl("delete", "clusterrole,clusterrolebinding", `${ns}-node-reader`, "--ignore-not-found");
  });

  it("example-nats-cluster-gateway.yaml, unchanged: its server Ready, the bootconfig init container wrote the node's address", async () => {
    await node.kubectl(
      "apply",
      "--server-side",
      "-n",
      ns,
      "-f",
      join(binaries().NATS_OPERATOR_EXAMPLES, "example-nats-cluster-gateway.yaml"),
    );
    pod = (await node.readyPods(ns, "nats_cluster=nats-dev", 1, 180_000))[0]!;
    const nodeObject = await node.kubectlJson("get", "node", pod.raw.spec.nodeName);
    nodeIp = nodeObject.status.addresses.find((a: { type: string }) => a.type === "InternalIP").address;
    expect(nodeObject.status.addresses.some((a: { type: string }) => a.type === "ExternalIP")).toBe(false);
    const log = await node.kubectl("logs", "-n", ns, pod.name, "-c", "bootconfig");
    expect(log).toContain(`"address":"${nodeIp}"`);
    expect(log).toContain('"addressType":"InternalIP"');
  }, 300_000);

  it("a client on the node's address and the client port bound there is told that address, and its messages flow", async () => {
    const nc = await waitFor(
      "a connection to the node's address",
      () => connect({ servers: `nats://${nodeIp}:4222`, timeout: 3_000, reconnect: false }).catch(() => undefined),
      30_000,
      500,
    );
    try {
      expect([nc.info?.host, nc.info?.port, nc.info?.server_name]).toEqual([nodeIp, 4222, pod.name]);
      const sub = nc.subscribe("e2e.advertise", { max: 1 });
      nc.publish("e2e.advertise", "through the node");
      await nc.flush();
      for await (const m of sub) expect(m.string()).toBe("through the node");
    } finally {
      await nc.close();
    }
  });
});
