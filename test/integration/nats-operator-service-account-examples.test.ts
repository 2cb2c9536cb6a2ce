// nats-operator v0.8.3's two service-account examples (its module's example/, fetched by the test
// bed), applied as their users would, each under the operator install it needs: every object of
// the file but the nats-box client pods, which the harness cannot run. What those pods mount (the
// Secret `<role>-<cluster>-bound-token`, key `token`) is read instead, and a real nats-server run
// with the rendered authorization lets each role's token in within its permissions.
//  - example-cluster-service-accounts.yaml: one namespace, the namespaced operator
//    (manifests/operator.yaml). Its NatsServiceRoles name the namespace "nats-io" and its
//    ServiceAccounts none: both go to the install's namespace, as the example means. Its
//    spec.version 1.2.0 (gnatsd) is raised to 2.14.9: satellite runs no 1.x server.
//  - example-svc-accounts-diff-namespaces.yaml: roles beside the cluster, ServiceAccounts in two
//    other namespaces, the cluster-wide operator (manifests/operator-cluster-wide.yaml). Its
//    namespaces are given unique names here.
// The cluster-wide example runs first: its operator sees every namespace, and ServiceAccounts of
// the roles' names elsewhere (the other example's) would make its roles ambiguous (docs/operator.md).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { kinds } from "../../handlers/index.ts";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import { binaries } from "../harness/binaries.ts";
import { type NatsServer, type Proc, startNatsServer, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { startNamespacedOperator, startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
const stops: { stop(): Promise<void> }[] = [];
beforeAll(() => kube.installCrd());
afterAll(async () => {
  for (const s of stops.reverse()) await s.stop();
  kube.close();
});

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;
const example = (file: string) =>
  parseAllDocuments(readFileSync(join(binaries().NATS_OPERATOR_EXAMPLES, file), "utf8"))
    .map((d) => d.toJS() as Doc)
    .filter((o) => o?.kind && o.kind !== "Pod");
const tokenOf = async (namespace: string, name: string) => {
  const s = await kube.admin.get(kinds.Secret, { namespace, name }).catch(() => undefined);
  return s?.data?.token ? decodeBase64(s.data.token) : undefined;
};
const confOf = async (namespace: string, name: string) => {
  const s = await kube.admin.get(kinds.Secret, { namespace, name }).catch(() => undefined);
  return s?.data?.["nats.conf"] ? decodeBase64(s.data["nats.conf"]) : "";
};
async function serverWith(conf: string): Promise<NatsServer> {
  const s = await startNatsServer({ name: `example-${stops.length}`, extra: /^authorization \{\n[\s\S]*?\n\}$/m.exec(conf)![0] });
  stops.push(s);
  return s;
}
/** The two roles' users in nats.conf with the tokens their Secrets hold; the clients get in as the roles allow. */
async function rolesServed(clusterNs: string, cluster: string, accounts: { user: string; ns: string }[]) {
  const tokens = await Promise.all(
    accounts.map((a) => waitFor(`${a.ns}/${a.user}-${cluster}-bound-token`, () => tokenOf(a.ns, `${a.user}-${cluster}-bound-token`))),
  );
  const conf = await waitFor("both users in nats.conf", async () => {
    const c = await confOf(clusterNs, cluster);
    return tokens.every((t, i) => c.includes(`{ user: "${accounts[i]!.user}", password: "${t}"`)) && c;
  });
  const server = await serverWith(conf);
  const user = await connect({ servers: server.url, user: "nats-user", pass: tokens[0]! });
  // nats-user may publish foo.* and subscribe to foo.bar; the admin anything.
  const admin = await connect({ servers: server.url, user: "nats-admin-user", pass: tokens[1]! });
  const sub = user.subscribe("foo.bar", { max: 1 });
  await user.flush();
  admin.publish("foo.bar", "hi");
  for await (const m of sub) expect(m.string()).toBe("hi");
  const denied = new Promise<string>((resolve) => {
    void (async () => {
      for await (const st of user.status()) if (st.type === "error") resolve(String(st.error));
    })();
  });
  user.publish("bar", "x");
  expect(await denied).toMatch(/Permissions Violation for Publish to "bar"/);
  await Promise.all([user.close(), admin.close()]);
  await expect(connect({ servers: server.url, reconnect: false })).rejects.toThrow(/Authorization Violation/);
}

describe("nats-operator's service-account examples under satellite", () => {
  it("example-svc-accounts-diff-namespaces.yaml, with the cluster-wide operator", async () => {
    const home = await kube.createNamespace("satellite-system");
    await kube.apply(manifest("operator-cluster-wide.yaml"), { namespace: home });
    const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(home, "satellite-operator"), home, "svc-accounts-example");
    const operator: Proc = startSatellite(["run", "-operator", "-all-namespaces", "-log-format", "json"], {
      env: { KUBECONFIG: kubeconfig },
    });
    stops.push(operator);
    await waitForLog(operator, "operator caches synced");
    const docs = example("example-svc-accounts-diff-namespaces.yaml");
    const names: Record<string, string> = {};
    for (const d of docs.filter((x) => x.kind === "Namespace")) names[d.metadata.name] = await kube.createNamespace(d.metadata.name);
    expect(Object.keys(names).sort()).toEqual(["my-admin-app-ns", "my-app-ns", "nats-system"]);
    await kube.apply(
      docs
        .filter((d) => d.kind !== "Namespace")
        .map((d) => ({ ...d, metadata: { ...d.metadata, namespace: names[d.metadata.namespace!] } })),
    );
    await rolesServed(names["nats-system"]!, "nats-cluster", [
      { user: "nats-user", ns: names["my-app-ns"]! },
      { user: "nats-admin-user", ns: names["my-admin-app-ns"]! },
    ]);
    // Stopped before the namespaced install's operator starts: one operator per cluster.
    await operator.stop();
  });
  it("example-cluster-service-accounts.yaml, in a namespaced install", async () => {
    const ns = await kube.createNamespace("svc-accounts-example");
    await kube.apply(manifest("operator.yaml"), { namespace: ns });
    const { operator, kubelet } = await startNamespacedOperator(kube, ns);
    stops.push(operator, kubelet);
    const docs = example("example-cluster-service-accounts.yaml").map((d) => ({ ...d, metadata: { ...d.metadata, namespace: ns } }));
    const cluster = docs.find((d) => d.kind === "NatsCluster") as unknown as { spec: { version: string } };
    expect(cluster.spec.version).toBe("1.2.0");
    cluster.spec.version = "2.14.9";
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual([
      "NatsCluster/example-nats",
      "NatsServiceRole/nats-admin-user",
      "NatsServiceRole/nats-user",
      "ServiceAccount/nats-admin-user",
      "ServiceAccount/nats-user",
    ]);
    await kube.apply(docs);
    await rolesServed(ns, "example-nats", [
      { user: "nats-user", ns },
      { user: "nats-admin-user", ns },
    ]);
    await operator.stop();
  });
});
