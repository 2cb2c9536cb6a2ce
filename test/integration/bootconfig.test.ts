// `satellite bootconfig` (spec.pod.advertiseExternalIP's init container), the built bundle against
// a real kube-apiserver, with a pod's service account as its only credentials: it reads its Node
// and writes the advertise files; without "get" on nodes it says what to grant. Then a real
// nats-server runs the config the operator renders next to those files and advertises the node's
// address to its clients.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { renderServerConfig } from "../../handlers/operator/server-config.ts";
import { binaries } from "../harness/binaries.ts";
import { kubeconfigYaml } from "../harness/control-plane.ts";
import { freePorts, type Proc, startProcess, useKube, waitFor } from "../harness/index.ts";
import { runtimeBinary } from "../harness/satellite.ts";

const kube = useKube();
const dir = mkdtempSync(join(tmpdir(), "satellite-bootconfig-"));
const bundle = new URL("../../dist/satellite.mjs", import.meta.url).pathname;
let ns: string;
const running: Proc[] = [];

/** A kubeconfig with the token of ServiceAccount `sa`, as the pod's own would be. */
async function kubeconfigOf(sa: string): Promise<string> {
  const file = join(dir, `${sa}.kubeconfig`);
  writeFileSync(file, kubeconfigYaml(kube.info.server, kube.info.caFile, { token: await kube.tokenFor(ns, sa) }, ns));
  return file;
}
const bootconfig = (kubeconfig: string, node: string, out: string) =>
  spawnSync(
    runtimeBinary("node"),
    [bundle, "bootconfig", "-f", join(out, "client_advertise.conf"), "-gf", join(out, "gateway_advertise.conf")],
    {
      env: { ...process.env, KUBECONFIG: kubeconfig, KUBERNETES_NODE_NAME: node },
      encoding: "utf8",
    },
  );

beforeAll(async () => {
  ns = await kube.createNamespace("bootconfig");
  await kube.apply(
    `
apiVersion: v1
kind: ServiceAccount
metadata: { name: nats-server }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: nobody }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ${ns}-nodes }
rules: [{ apiGroups: [""], resources: [nodes], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ${ns}-nodes }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ${ns}-nodes }
subjects: [{ kind: ServiceAccount, name: nats-server, namespace: ${ns} }]
`,
    { namespace: ns },
  );
  for (const [name, addresses] of [
    [
      `${ns}-public`,
      [
        { type: "InternalIP", address: "10.1.2.3" },
        { type: "ExternalIP", address: "203.0.113.7" },
      ],
    ],
    [`${ns}-private`, [{ type: "InternalIP", address: "10.1.2.4" }]],
  ] as const) {
    const node = await kube.admin.create(kinds.Node, { apiVersion: "v1", kind: "Node", metadata: { name } });
    await kube.admin.replace(kinds.Node, { ...node, status: { addresses: [...addresses] } }, { subresource: "status" });
  }
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  for (const name of [`${ns}-public`, `${ns}-private`]) await kube.admin.remove(kinds.Node, { name }).catch(() => undefined);
  await kube.close();
});

describe("satellite bootconfig", () => {
  it("writes the node's ExternalIP, and a node's InternalIP where it has no ExternalIP", async () => {
    const kubeconfig = await kubeconfigOf("nats-server");
    for (const [node, address] of [
      [`${ns}-public`, "203.0.113.7"],
      [`${ns}-private`, "10.1.2.4"],
    ]) {
      const out = join(dir, node!);
      const r = bootconfig(kubeconfig, node!, out);
      expect(r.stderr).toContain(`"address":"${address}"`);
      expect(r.status).toBe(0);
      expect(readFileSync(join(out, "client_advertise.conf"), "utf8")).toBe(`client_advertise: "${address}"\n`);
      expect(readFileSync(join(out, "gateway_advertise.conf"), "utf8")).toBe(`advertise: "${address}"\n`);
    }
  });

  it("without get on nodes, or for a node that is not there: exits 1 saying so, and writes nothing", async () => {
    const out = join(dir, "refused");
    const denied = bootconfig(await kubeconfigOf("nobody"), `${ns}-public`, out);
    expect(denied.status).toBe(1);
    expect(denied.stderr).toContain(`the pod's service account may not get node ${ns}-public: give it "get" on nodes`);
    const missing = bootconfig(await kubeconfigOf("nats-server"), `${ns}-gone`, out);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/not ?found/i);
    expect(() => readFileSync(join(out, "client_advertise.conf"))).toThrow();
  });

  it("a nats-server on the rendered config with those files advertises the node's address to clients", async () => {
    const out = join(dir, "server");
    mkdirSync(join(out, "nats-config"), { recursive: true });
    expect(bootconfig(await kubeconfigOf("nats-server"), `${ns}-public`, join(out, "nats-advertise")).status).toBe(0);
    const [client, cluster, monitor] = (await freePorts(3)) as [number, number, number];
    const rendered = renderServerConfig({
      cluster: {
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "edge", namespace: ns },
        spec: { pod: { advertiseExternalIP: true, enableClientsHostPort: true } },
      },
      clusterName: "edge",
      routes: [],
      paths: { pidFile: join(out, "nats.pid") },
      ports: { client, cluster, monitor },
    });
    if ("error" in rendered) throw new Error(rendered.error.message);
    writeFileSync(join(out, "nats-config", "nats.conf"), rendered.text);
    const server = startProcess("advertised", binaries().NATS_SERVER_BIN, ["-c", join(out, "nats-config", "nats.conf")], join(out, "log"), {
      ...process.env,
      POD_NAME: "edge-1",
    });
    running.push(server);
    // A client is told the node's address (INFO's host), where it reconnects and which it passes on.
    const nc = await waitFor("a client connection", async () => {
      if (!server.running()) throw new Error(`nats-server exited:\n${server.tail(10)}`);
      return connect({ servers: `nats://127.0.0.1:${client}`, reconnect: false }).catch(() => undefined);
    });
    expect([nc.info?.host, nc.info?.port]).toEqual(["203.0.113.7", client]);
    await nc.close();
  });
});
