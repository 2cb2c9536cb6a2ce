import type { V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { jetstreamStoreDir } from "./jetstream.ts";
import { configSecretName } from "./names.ts";
import { type NatsCluster, type TLSFiles, type TLSPort, tlsFiles } from "./natscluster.ts";
import { serverPaths } from "./server-config.ts";
import { tlsDirs } from "./server-config-tls.ts";

/** The pod's volumes and the nats container's mounts of them, in the same order. */
export interface PodVolumes {
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
}

/**
 * The config, the pid directory, the TLS Secrets, the leafnode credentials and the JetStream
 * store. The JetStream volume's claim is left empty: desiredPod names each pod's own.
 */
export function podVolumes(c: NatsCluster, js: boolean): PodVolumes {
  const spec = c.spec ?? {};
  const { volumes, mounts } = configVolumes(c);
  for (const [port, files] of Object.entries(tlsFiles(spec.tls)) as [TLSPort, TLSFiles][]) {
    volumes.push({ name: `${port}-tls`, secret: { secretName: files.secret } });
    mounts.push({ name: `${port}-tls`, mountPath: tlsDirs[port], readOnly: true });
  }
  for (const [i, secretName] of leafCredentialsSecrets(c).entries()) {
    volumes.push({ name: `leaf-creds-${i}`, secret: { secretName } });
    mounts.push({ name: `leaf-creds-${i}`, mountPath: serverPaths.leafCredsDir(secretName), readOnly: true });
  }
  if (js) {
    volumes.push({ name: "jetstream", persistentVolumeClaim: { claimName: "" } });
    mounts.push({ name: "jetstream", mountPath: dirOf(jetstreamStoreDir) });
  }
  return { volumes, mounts };
}

/** The config and pid volumes, always the first two (the reloader mounts them by position). */
function configVolumes(c: NatsCluster): PodVolumes {
  const name = c.metadata.name!;
  // With the reloader the config lives in an emptyDir it keeps current; else the Secret is mounted.
  const volumes: V1Volume[] = [
    c.spec?.pod?.enableConfigReload ? { name: "config", emptyDir: {} } : { name: "config", secret: { secretName: configSecretName(name) } },
    { name: "pid", emptyDir: {} },
  ];
  const mounts: V1VolumeMount[] = [
    { name: "config", mountPath: serverPaths.configDir, readOnly: true },
    { name: "pid", mountPath: dirOf(serverPaths.pidFile) },
  ];
  return { volumes, mounts };
}

/** The distinct credentials Secrets of the leafnode remotes, in the order they first appear. */
function leafCredentialsSecrets(c: NatsCluster): string[] {
  const remotes = c.spec?.leafnodeConfig?.remotes ?? [];
  return [...new Set(remotes.flatMap((r) => (r.credentialsSecret ? [r.credentialsSecret.name] : [])))];
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
