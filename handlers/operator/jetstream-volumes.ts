// The claim of each JetStream server, `jetstream-<pod>`: made before its pod, kept when the pod is
// replaced (so a restarted server finds its streams), and on scale-down or delete kept or deleted
// as spec.jetstream.persistentVolumeClaimRetentionPolicy says (default Retain, as a StatefulSet's).
import type { Change, PersistentVolumeClaim, Pod } from "../types.ts";
import { jetstreamEnabled } from "./jetstream.ts";
import { ownerReference, podIndex, podName, selectorLabels } from "./names.ts";
import type { NatsCluster } from "./natscluster.ts";

export const claimName = (pod: string) => `jetstream-${pod}`;

function desiredClaim(c: NatsCluster, index: number): PersistentVolumeClaim {
  const fs = c.spec?.jetstream?.fileStorage ?? {};
  const deleteWithCluster = c.spec?.jetstream?.persistentVolumeClaimRetentionPolicy?.whenDeleted === "Delete";
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: claimName(podName(c.metadata.name!, index)),
      namespace: c.metadata.namespace,
      labels: selectorLabels(c.metadata.name!),
      ...(deleteWithCluster ? { ownerReferences: [ownerReference(c)] } : {}),
    },
    spec: {
      accessModes: fs.accessModes?.length ? fs.accessModes : ["ReadWriteOnce"],
      resources: { requests: { storage: String(fs.size) } },
      ...(fs.storageClassName ? { storageClassName: fs.storageClassName } : {}),
    },
  };
}

/**
 * Claims to create for servers 1..size, and, with whenScaled: Delete, the claims of servers a
 * scale-down removed (`removedPod`) once their pods are gone.
 */
export function planClaims(
  c: NatsCluster,
  claims: PersistentVolumeClaim[],
  pods: Pod[],
  size: number,
  removedPod: (pod: string) => boolean,
): Change[] {
  if (!jetstreamEnabled(c)) return [];
  const name = c.metadata.name!;
  const have = new Set(claims.map((x) => x.metadata?.name));
  const changes: Change[] = [];
  for (let i = 1; i <= size; i++) {
    if (!have.has(claimName(podName(name, i)))) changes.push({ op: "create", kind: "PersistentVolumeClaim", object: desiredClaim(c, i) });
  }
  if (c.spec?.jetstream?.persistentVolumeClaimRetentionPolicy?.whenScaled === "Delete") {
    const running = new Set(pods.map((p) => p.metadata?.name));
    for (const claim of claims) {
      const pod = claim.metadata!.name!.slice("jetstream-".length);
      const i = podIndex(name, pod);
      if (i !== undefined && i > size && removedPod(pod) && !running.has(pod) && !claim.metadata?.deletionTimestamp)
        changes.push({
          op: "delete",
          kind: "PersistentVolumeClaim",
          namespace: c.metadata.namespace!,
          name: claim.metadata!.name!,
          uid: claim.metadata?.uid,
        });
    }
  }
  return changes;
}
