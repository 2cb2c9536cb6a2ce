import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { advertiseFileTexts, nodeAdvertiseAddress } from "../../handlers/operator/advertise.ts";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import { identityChange, jetstreamIdentity } from "../../handlers/operator/jetstream.ts";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import type { Pod, Secret } from "../../handlers/types.ts";
import { image, natsCluster, view } from "./operator-fixtures.ts";

const node = (addresses: { type: string; address: string }[]): V1Node => ({ metadata: { name: "n1" }, status: { addresses } });
const advertising: NatsClusterSpec = {
  size: 1,
  pod: { advertiseExternalIP: true, enableClientsHostPort: true },
  gatewayConfig: { name: "gw", hostPort: 7522, gateways: [{ name: "other", url: "nats://other:7522" }] },
  leafnodeConfig: { hostPort: 7422 },
};

function made(spec: NatsClusterSpec) {
  const r = reconcileCluster(view(natsCluster(spec)));
  const pod = r.changes.find((c) => c.op === "create" && c.kind === "Pod") as { object: Pod } | undefined;
  const secret = r.changes.find((c) => c.op === "create" && c.kind === "Secret") as { object: Secret } | undefined;
  const degraded = r.status?.conditions?.find((c) => c.type === "Degraded" && c.status === "True")?.message;
  return { pod: pod?.object, conf: secret && decodeBase64(secret.object.data!["nats.conf"]!), degraded };
}

describe("pod.advertiseExternalIP", () => {
  it("advertises the node's ExternalIP, else its InternalIP; a node with neither is an error", () => {
    const both = [
      { type: "InternalIP", address: "10.0.0.4" },
      { type: "ExternalIP", address: "203.0.113.7" },
    ];
    expect(nodeAdvertiseAddress(node(both))).toEqual({ address: "203.0.113.7", type: "ExternalIP" });
    expect(nodeAdvertiseAddress(node([both[0]!]))).toEqual({ address: "10.0.0.4", type: "InternalIP" });
    expect(nodeAdvertiseAddress(node([{ type: "Hostname", address: "n1" }]))).toEqual({
      error: "node n1 has no ExternalIP or InternalIP address in its status",
    });
  });

  it("writes the include files nats-server reads; an IPv6 address in brackets", () => {
    expect(advertiseFileTexts("203.0.113.7")).toEqual({
      client: 'client_advertise: "203.0.113.7"\n',
      gateway: 'advertise: "203.0.113.7"\n',
    });
    expect(advertiseFileTexts("2001:db8::7").client).toBe('client_advertise: "[2001:db8::7]"\n');
  });

  it("an init container (satellite bootconfig) writes them beside the config; nats.conf includes them; the ports are bound on the node", () => {
    const { pod, conf, degraded } = made(advertising);
    expect(degraded).toBeUndefined();
    expect(pod!.spec!.initContainers).toEqual([
      expect.objectContaining({
        name: "bootconfig",
        image,
        args: ["bootconfig", "-f", "/etc/nats-advertise/client_advertise.conf", "-gf", "/etc/nats-advertise/gateway_advertise.conf"],
        env: [{ name: "KUBERNETES_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
        volumeMounts: [{ name: "advertise", mountPath: "/etc/nats-advertise" }],
      }),
    ]);
    const nats = pod!.spec!.containers[0]!;
    expect(pod!.spec!.initContainers![0]!.securityContext).toEqual(nats.securityContext);
    expect(nats.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(nats.volumeMounts).toContainEqual({ name: "advertise", mountPath: "/etc/nats-advertise", readOnly: true });
    expect(pod!.spec!.volumes).toContainEqual({ name: "advertise", emptyDir: {} });
    expect(nats.ports!.map((p) => [p.name, p.hostPort])).toEqual(
      expect.arrayContaining([
        ["client", 4222],
        ["leafnodes", 7422],
        ["gateways", 7522],
      ]),
    );
    expect(conf).toMatch(/^pid_file: .*\ninclude "\.\.\/nats-advertise\/client_advertise\.conf"$/m);
    expect(conf).toMatch(/gateway \{[^}]*include "\.\.\/nats-advertise\/gateway_advertise\.conf"/);
    expect(conf).toMatch(/leafnodes \{\n {2}port: 7422\n {2}include "\.\.\/nats-advertise\/gateway_advertise\.conf"/);
  });

  it("nats-operator's bootconfig image runs as nats-operator ran it; a tag alone is satellite's image at that tag", () => {
    const foreign = made({ ...advertising, pod: { ...advertising.pod, bootconfigImage: "connecteverything/nats-boot-config" } });
    expect(foreign.pod!.spec!.initContainers![0]).toMatchObject({
      image: "connecteverything/nats-boot-config:0.5.2",
      command: [
        "nats-pod-bootconfig",
        "-f",
        "/etc/nats-advertise/client_advertise.conf",
        "-gf",
        "/etc/nats-advertise/gateway_advertise.conf",
      ],
    });
    const tagged = made({ ...advertising, pod: { ...advertising.pod, bootconfigImageTag: "0.0.9" } });
    expect(tagged.pod!.spec!.initContainers![0]!.image).toBe("ghcr.io/satellite-nats/satellite:0.0.9");
  });

  it.each([
    ["without the client port on the node", { pod: { advertiseExternalIP: true } }, /set it$/],
    [
      "with the reloader sidecar",
      { pod: { advertiseExternalIP: true, enableClientsHostPort: true, enableConfigReload: true } },
      /does not go with the reload modes/,
    ],
    [
      "with operator-mode reloads",
      { pod: { advertiseExternalIP: true, enableClientsHostPort: true }, configReload: { mode: "operator" as const } },
      /does not go with the reload modes/,
    ],
    ["a bootconfig image without it", { pod: { bootconfigImage: "x/y" } }, /used only with spec.pod.advertiseExternalIP/],
  ] as [string, NatsClusterSpec, RegExp][])("refuses it %s, and makes no pod", (_, spec, message) => {
    const r = made({ size: 1, ...spec });
    expect(r.degraded).toMatch(message);
    expect(r.pod).toBeUndefined();
  });

  it("a JetStream server's identity is still read from a config that includes the advertise files (a renaming is still caught)", () => {
    const conf = (name: string) =>
      `server_name: $POD_NAME\ninclude "../nats-advertise/client_advertise.conf"\ncluster {\n  name: ${name}\n}\n`;
    expect(jetstreamIdentity(conf("east"))).toEqual({ cluster: "east", serverName: "$POD_NAME" });
    expect(identityChange(conf("east"), conf("west"), 1)).toBeDefined();
  });

  it("leaves pods without it as they were: no init container, no advertise volume, no host ports but the client's", () => {
    const { pod, conf } = made({ size: 1, gatewayConfig: { name: "gw", hostPort: 7522 } });
    expect(pod!.spec!.initContainers).toBeUndefined();
    expect(pod!.spec!.containers[0]!.ports!.some((p) => p.hostPort)).toBe(false);
    expect(conf).not.toContain("include");
  });
});
