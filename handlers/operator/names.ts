import type { V1OwnerReference } from "@kubernetes/client-node";
import type { NatsCluster } from "./natscluster.ts";

export const labelApp = "app";
export const labelCluster = "nats_cluster";
export const labelVersion = "nats_version";
export const annotationTemplateHash = "nats.io/pod-template-hash";
/** On a pod another operator made (nats-operator), when satellite took it over as it ran. */
export const annotationAdopted = "nats.io/adopted";
export const managedBy = "satellite";

export const podName = (cluster: string, index: number) => `${cluster}-${index}`;
export const mgmtServiceName = (cluster: string) => `${cluster}-mgmt`;
export const configSecretName = (cluster: string) => cluster;
export const routesConfigMapName = (cluster: string) => `${cluster}-config`;

/** The index of a pod named `<cluster>-<n>` (n >= 1), or undefined for any other name. */
export function podIndex(cluster: string, name: string | undefined): number | undefined {
  if (!name?.startsWith(`${cluster}-`)) return undefined;
  const rest = name.slice(cluster.length + 1);
  return /^[1-9][0-9]{0,5}$/.test(rest) ? Number(rest) : undefined;
}

export const selectorLabels = (cluster: string) => ({ [labelApp]: "nats", [labelCluster]: cluster });

export function ownerReference(c: NatsCluster): V1OwnerReference {
  return {
    apiVersion: c.apiVersion,
    kind: "NatsCluster",
    name: c.metadata.name!,
    uid: c.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export const isOwnedBy = (obj: { metadata?: { ownerReferences?: V1OwnerReference[] } }, c: NatsCluster) =>
  Boolean(obj.metadata?.ownerReferences?.some((r) => r.controller && r.uid === c.metadata.uid));

/** Stable FNV-1a hash of a JSON value, as 10 hex digits; for the pod-template hash annotation. */
export function hashOf(value: unknown): string {
  const text = stableJson(value);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x811c9dc5) >>> 0;
  }
  return (h1.toString(16).padStart(8, "0") + h2.toString(16).padStart(8, "0")).slice(0, 10);
}

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

/**
 * The names a cluster's server certificate may be for, which the operator and the reloader accept
 * when they connect by pod IP or loopback: the client Service's (as clients use it, and as
 * nats-operator's docs make the certificate) and each given pod's DNS name under `<name>-mgmt`.
 */
export function clusterTlsNames(name: string, namespace: string, pods: string[]): string[] {
  const svc = `${namespace}.svc`;
  return [
    `${name}.${svc}`,
    `${name}.${svc}.cluster.local`,
    `${name}.${namespace}`,
    name,
    ...pods.flatMap((p) => [`${p}.${mgmtServiceName(name)}.${svc}`, `${p}.${mgmtServiceName(name)}.${svc}.cluster.local`]),
  ];
}

/** A server's name in a fleet: unique across sites and namespaces, for the ground's leafnode links. */
export const fleetServerName = (site: string, namespace: string, pod: string) => `${site}-${namespace}-${pod}`;
