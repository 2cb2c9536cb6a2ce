// spec.pod.advertiseExternalIP (nats-operator's): servers tell clients, gateways and leafnodes to
// reach them at their node's address, on ports bound on the node. An init container (satellite's
// `bootconfig`, or nats-operator's nats-pod-bootconfig image when the spec names it) reads the
// pod's Node and writes two small files nats.conf includes: the client advertise, and the
// gateway/leafnode advertise.
import type { V1Container, V1Node } from "@kubernetes/client-node";
import type { NatsCluster } from "./natscluster.ts";

export const advertiseDir = "/etc/nats-advertise";
export const advertiseFiles = { client: "client_advertise.conf", gateway: "gateway_advertise.conf" };
/** nats-server resolves includes against the config file's directory (/etc/nats-config). */
export const advertiseInclude = (file: string) => `include "../nats-advertise/${file}"`;
/** Stand-ins for the files the init container writes, where satellite reads a config it rendered. */
export const advertiseStubs: Record<string, string> = { [advertiseFiles.client]: "", [advertiseFiles.gateway]: "" };

export const defaultBootconfigImage = "connecteverything/nats-boot-config";
export const defaultBootconfigTag = "0.5.2";

/** The node's address to advertise: its ExternalIP, else its InternalIP (nodes without a public address). */
export function nodeAdvertiseAddress(node: V1Node): { address: string; type: string } | { error: string } {
  const addresses = node.status?.addresses ?? [];
  for (const type of ["ExternalIP", "InternalIP"]) {
    const found = addresses.find((a) => a.type === type && a.address);
    if (found) return { address: found.address, type };
  }
  return { error: `node ${node.metadata?.name} has no ExternalIP or InternalIP address in its status` };
}

/** The two include files for `address` (an IPv6 address in brackets, as host:port needs). */
export function advertiseFileTexts(address: string): Record<keyof typeof advertiseFiles, string> {
  const host = address.includes(":") ? `[${address}]` : address;
  return { client: `client_advertise: "${host}"\n`, gateway: `advertise: "${host}"\n` };
}

/**
 * The init container: satellite's own image runs `satellite bootconfig`; an image the spec names
 * (bootconfigImage) runs as nats-operator ran it. A tag alone is satellite's image at that tag.
 */
export function bootconfigContainer(c: NatsCluster, controllerImage: string, securityContext: V1Container["securityContext"]): V1Container {
  const pod = c.spec?.pod ?? {};
  const foreign = Boolean(pod.bootconfigImage);
  const image = foreign
    ? `${pod.bootconfigImage}:${pod.bootconfigImageTag || defaultBootconfigTag}`
    : pod.bootconfigImageTag
      ? `${controllerImage.replace(/:[^:/]+$/, "")}:${pod.bootconfigImageTag}`
      : controllerImage;
  const files = ["-f", `${advertiseDir}/${advertiseFiles.client}`, "-gf", `${advertiseDir}/${advertiseFiles.gateway}`];
  return {
    name: "bootconfig",
    image,
    ...(foreign ? { command: ["nats-pod-bootconfig", ...files] } : { args: ["bootconfig", ...files] }),
    env: [{ name: "KUBERNETES_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
    volumeMounts: [{ name: "advertise", mountPath: advertiseDir }],
    securityContext,
  };
}

/** What goes with advertiseExternalIP, and what does nothing without it. */
export function advertiseProblems(c: NatsCluster): string[] {
  const s = c.spec ?? {};
  const pod = s.pod ?? {};
  const problems: string[] = [];
  if (!pod.advertiseExternalIP) {
    for (const field of ["bootconfigImage", "bootconfigImageTag"] as const)
      if (pod[field]) problems.push(`spec.pod.${field} is used only with spec.pod.advertiseExternalIP: leave it out, or set that`);
    return problems;
  }
  if (!pod.enableClientsHostPort)
    problems.push(
      "spec.pod.advertiseExternalIP tells clients to connect to the node's address, where nothing listens without spec.pod.enableClientsHostPort: set it",
    );
  if (pod.enableConfigReload || s.configReload?.mode === "operator")
    problems.push(
      "spec.pod.advertiseExternalIP does not go with the reload modes (pod.enableConfigReload, configReload.mode operator) yet: each server's advertise file is written on its node, outside the config they reload and confirm; leave one out",
    );
  for (const [field, v] of [
    ["bootconfigImage", pod.bootconfigImage],
    ["bootconfigImageTag", pod.bootconfigImageTag],
  ] as const)
    if (v !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_./:-]*$/.test(v))
      problems.push(`spec.pod.${field} ${JSON.stringify(v)} is not an image name or tag`);
  return problems;
}
