// Pod Security "restricted" for every pod a NatsCluster has, unless its spec says otherwise:
// nats-server needs no root, no capability and no writable root filesystem (it writes its pid file
// and JetStream store to volumes, which fsGroup makes writable). spec.pod.securityContext and
// spec.pod.containerSecurityContext are laid over these defaults, key by key.
import type { V1PodSecurityContext, V1SecurityContext } from "@kubernetes/client-node";
import type { NatsCluster } from "./natscluster.ts";

export const serverUser = 1000;

export function podSecurityContext(c: NatsCluster): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: serverUser,
    runAsGroup: serverUser,
    fsGroup: serverUser,
    seccompProfile: { type: "RuntimeDefault" },
    ...(c.spec?.pod?.securityContext as V1PodSecurityContext | undefined),
  };
}

/** Every container's, init containers and sidecars included. */
export function containerSecurityContext(c: NatsCluster): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    ...(c.spec?.pod?.containerSecurityContext as V1SecurityContext | undefined),
  };
}
