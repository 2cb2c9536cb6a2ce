// spec.operatorConfig on the real nodes, as a NATS user sets it up: nsc makes the operator, the
// system account and an account with JetStream; kubectl puts the operator JWT (and the system
// account, preloaded) and a system user's creds into Secrets; a NatsCluster with JetStream and the
// NATS-based resolver runs them. `nsc push` adds the account; its user writes to an R3 stream
// through the client Service; a client without creds is refused. A scale-down's removed server
// leaves the meta group: the operator did that as the system user, with the creds it was given.

import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStream, loadStream } from "../harness/jetstream-load.ts";
import { nscWorkspace } from "../harness/nsc.ts";
import { monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const ns = "sat-jwt";
const streamMessages = async (nc: NatsConnection) =>
  (await nc.request(`$JS.API.STREAM.INFO.${loadStream}`, "", { timeout: 5_000 })).json<{ state: { messages: number } }>().state.messages;

describe.runIf(!node.info.unavailable).sequential("JWT accounts (operatorConfig) on the real nodes", () => {
  const { nsc, creds, accountId } = nscWorkspace();
  let pods: PodView[] = [];
  let serviceIp = "";
  const cluster = (size: number) =>
    JSON.stringify({
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name: "jwt", namespace: ns },
      spec: {
        size,
        version: node.info.images.natsVersion,
        jetstream: { enabled: true, memoryStorage: { size: "64Mi" }, fileStorage: { size: "256Mi" } },
        operatorConfig: { secret: "operator-jwt", systemAccount: accountId("SYS"), resolver: "full", systemCredentialsSecret: "sys-creds" },
      },
    });
  const asApp = () =>
    connect({
      servers: `nats://${serviceIp}:4222`,
      authenticator: credsAuthenticator(new TextEncoder().encode(creds("APP", "app"))),
      timeout: 5_000,
    });
  skipAfterAFailedStep();
  beforeAll(async () => {
    await node.installOperator(ns);
    nsc("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
    nsc("add", "account", "APP");
    nsc("edit", "account", "APP", "--js-mem-storage", "16M", "--js-disk-storage", "64M");
    nsc("add", "user", "-a", "APP", "app");
    await node.kubectl(
      "create",
      "secret",
      "generic",
      "operator-jwt",
      "-n",
      ns,
      `--from-literal=op.jwt=${nsc("describe", "operator", "--raw")}`,
      `--from-literal=${accountId("SYS")}=${nsc("describe", "account", "SYS", "--raw")}`,
    );
    await node.kubectl("create", "secret", "generic", "sys-creds", "-n", ns, `--from-literal=sys.creds=${creds("SYS", "sys")}`);
  }, 180_000);
  afterAll(async () => {
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("a NatsCluster with operatorConfig, JetStream and the NATS-based resolver: 3 servers Ready, a full mesh", async () => {
    await node.apply(cluster(3));
    pods = await node.readyPods(ns, "nats_cluster=jwt", 3, 180_000);
    serviceIp = (await node.kubectlJson("get", "service", "jwt", "-n", ns)).spec.clusterIP;
    const conf = Buffer.from((await node.kubectlJson("get", "secret", "jwt", "-n", ns)).data["nats.conf"], "base64").toString();
    expect(conf).toMatch(/^operator: "eyJ/m);
    expect(conf).not.toMatch(/authorization|accounts \{/);
    for (const p of pods)
      await waitFor(`${p.name} routed to both others`, async () => (await monitor(p.ip, "routez")).num_routes >= 2, 60_000, 500);
  }, 300_000);

  it("no creds: refused; APP's user, once nsc pushed APP to the cluster: writes to an R3 stream", async () => {
    await expect(connect({ servers: `nats://${serviceIp}:4222`, timeout: 5_000, reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );
    nsc("push", "-A", "-u", `nats://${pods[0]!.ip}:4222`);
    const nc = await waitFor("APP's user connects", () => asApp().catch(() => undefined), 60_000, 500);
    try {
      await waitFor("an R3 stream in APP", () => createStream(nc).then(() => true), 60_000, 1_000);
      const ack = (await nc.request("orders.1", "one", { timeout: 5_000 })).json<{ stream?: string; seq?: number }>();
      expect(ack).toMatchObject({ stream: loadStream, seq: 1 });
    } finally {
      await nc.close();
    }
  }, 120_000);

  it("scale 3 → 4 → 3: the removed server leaves the meta group (the operator, as the system user with the given creds)", async () => {
    await node.apply(cluster(4));
    await node.readyPods(ns, "nats_cluster=jwt", 4, 180_000);
    await node.apply(cluster(3));
    await waitFor(
      "the meta group back to jwt-1, jwt-2, jwt-3",
      async () => {
        const js = (await node.kubectlJson("get", "natscluster", "jwt", "-n", ns)).status?.jetstream;
        const members = [js?.metaLeader, ...(js?.peers ?? []).map((p: { name: string }) => p.name)].filter(Boolean).sort();
        return (await node.pods(ns, "nats_cluster=jwt")).length === 3 && JSON.stringify(members) === '["jwt-1","jwt-2","jwt-3"]';
      },
      180_000,
      1_000,
    );
    const nc = await asApp();
    try {
      expect(await streamMessages(nc)).toBe(1);
    } finally {
      await nc.close();
    }
  }, 420_000);
});
