import { describe, expect, it } from "vitest";
import { operatorRoutes } from "../../handlers/index.ts";
import { natsCluster } from "./operator-fixtures.ts";

const clusters = [
  natsCluster({ tls: { serverSecret: "shared-tls" } }),
  {
    ...natsCluster({ tls: { serverSecret: "shared-tls" }, auth: { clientsAuthSecret: "auth" } }),
    metadata: { name: "other", namespace: "ns1", uid: "u2" },
  },
  { ...natsCluster({ tls: { serverSecret: "shared-tls" } }), metadata: { name: "elsewhere", namespace: "ns2", uid: "u3" } },
];

describe("which clusters an event concerns", () => {
  it("a NatsCluster: itself", () => {
    expect(operatorRoutes.triggers("NatsCluster", { metadata: { name: "demo", namespace: "ns1" } }, clusters)).toEqual(["ns1/demo"]);
  });

  it("an owned object: its controller", () => {
    const pod = {
      metadata: { name: "demo-2", namespace: "ns1", ownerReferences: [{ kind: "NatsCluster", name: "demo", controller: true }] },
    };
    expect(operatorRoutes.triggers("Pod", pod, clusters)).toEqual(["ns1/demo"]);
  });

  it("a deleted owned object without its owner reference: the cluster label", () => {
    expect(
      operatorRoutes.triggers("Service", { metadata: { name: "demo-mgmt", namespace: "ns1", labels: { nats_cluster: "demo" } } }, clusters),
    ).toEqual(["ns1/demo"]);
  });

  it("a routes file: its cluster, even when created by hand without labels", () => {
    expect(operatorRoutes.triggers("ConfigMap", { metadata: { name: "other-config", namespace: "ns1" } }, clusters)).toEqual(["ns1/other"]);
  });

  it("a Secret: every cluster in its namespace whose spec names it", () => {
    expect(operatorRoutes.triggers("Secret", { metadata: { name: "shared-tls", namespace: "ns1" } }, clusters)).toEqual([
      "ns1/demo",
      "ns1/other",
    ]);
    expect(operatorRoutes.triggers("Secret", { metadata: { name: "auth", namespace: "ns1" } }, clusters)).toEqual(["ns1/other"]);
    expect(operatorRoutes.triggers("Secret", { metadata: { name: "unrelated", namespace: "ns1" } }, clusters)).toEqual([]);
  });
});
