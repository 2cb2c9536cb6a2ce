import { labelCluster, routesConfigMapName } from "./names.ts";
import type { NatsCluster } from "./natscluster.ts";
import { referencedSecrets } from "./validate.ts";

type Meta = {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
};
export type WatchedKind =
  | "NatsCluster"
  | "Pod"
  | "Service"
  | "Secret"
  | "ConfigMap"
  | "ServiceAccount"
  | "Role"
  | "RoleBinding"
  | "PersistentVolumeClaim"
  | "PodDisruptionBudget"
  | "NatsServiceRole";

const key = (ns: string | undefined, name: string) => `${ns ?? ""}/${name}`;

/**
 * Which NatsClusters (as "namespace/name") a change of `obj` concerns: the cluster itself, the
 * cluster that controls it, the cluster whose routes file it is, the clusters whose spec names it.
 * Only a hint of what to look at again: the reconcile reads the whole state.
 */
export function clustersToReconcile(kind: WatchedKind, obj: Meta, clusters: NatsCluster[]): string[] {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  if (kind === "NatsCluster") return [key(ns, name)];
  const out = new Set<string>();
  const owner =
    obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === "NatsCluster")?.name ?? obj.metadata?.labels?.[labelCluster];
  if (owner) out.add(key(ns, owner));
  for (const c of clusters) {
    if (c.metadata.namespace !== ns) continue;
    if (kind === "ConfigMap" && routesConfigMapName(c.metadata.name!) === name) out.add(key(ns, c.metadata.name!));
    if (kind === "Secret" && referencedSecrets(c).includes(name)) out.add(key(ns, c.metadata.name!));
  }
  // enableServiceAccounts: a ServiceAccount (any namespace) may be a role's; a token Secret sits
  // beside its ServiceAccount, maybe in another namespace than the cluster's.
  for (const c of clusters) {
    if (!c.spec?.auth?.enableServiceAccounts) continue;
    const tokenOf = kind === "Secret" && name.endsWith(`-${c.metadata.name}-bound-token`);
    // A role relabelled from one cluster to another concerns both.
    const roleOf = kind === "NatsServiceRole" && c.metadata.namespace === ns;
    if (kind === "ServiceAccount" || tokenOf || roleOf) out.add(key(c.metadata.namespace, c.metadata.name!));
  }
  return [...out];
}
