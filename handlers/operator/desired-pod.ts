import type { V1Container, V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { atLeast } from "../reloader/reloadable.ts";
import type { Pod } from "../types.ts";
import { reloaderAccountName } from "./desired-objects.ts";
import { goMemLimit, jetstreamEnabled, jetstreamStoreDir } from "./jetstream.ts";
import { claimName } from "./jetstream-volumes.ts";
import {
  annotationTemplateHash,
  configSecretName,
  hashOf,
  labelVersion,
  mgmtServiceName,
  ownerReference,
  podName,
  selectorLabels,
} from "./names.ts";
import type { NatsCluster } from "./natscluster.ts";
import { ports, serverPaths } from "./server-config.ts";

export const defaultServerVersion = "2.14.9";
export const annotationRestartKey = "nats.io/config-restart-key";
export const defaultMetricsImage = "natsio/prometheus-nats-exporter";
export const defaultMetricsTag = "0.17.3";

/** What the pods of a cluster look like, except their names: its hash tells current pods from outdated ones. */
export interface PodTemplate {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: NonNullable<Pod["spec"]>;
}

/** `controllerImage` is satellite's own image (`repo:tag`), the default for the reloader sidecar. */
/** `restartKey`: what in the config only a restart applies (operator reload mode): a change rolls the pods. */
export function podTemplate(c: NatsCluster, controllerImage: string, restartKey?: string, site?: string): PodTemplate {
  const spec = c.spec ?? {};
  const pod = spec.pod ?? {};
  const name = c.metadata.name!;
  const version = spec.version || defaultServerVersion;
  // With the reloader the config lives in an emptyDir it keeps current; else the Secret is mounted.
  const volumes: V1Volume[] = [
    pod.enableConfigReload ? { name: "config", emptyDir: {} } : { name: "config", secret: { secretName: configSecretName(name) } },
    { name: "pid", emptyDir: {} },
  ];
  const mounts: V1VolumeMount[] = [
    { name: "config", mountPath: serverPaths.configDir, readOnly: true },
    { name: "pid", mountPath: dirOf(serverPaths.pidFile) },
  ];
  if (spec.tls?.serverSecret) {
    volumes.push({ name: "server-tls", secret: { secretName: spec.tls.serverSecret } });
    mounts.push({ name: "server-tls", mountPath: serverPaths.serverTlsDir, readOnly: true });
  }
  if (spec.tls?.routesSecret) {
    volumes.push({ name: "routes-tls", secret: { secretName: spec.tls.routesSecret } });
    mounts.push({ name: "routes-tls", mountPath: serverPaths.routesTlsDir, readOnly: true });
  }
  const leafSecrets = [
    ...new Set((spec.leafnodeConfig?.remotes ?? []).flatMap((r) => (r.credentialsSecret ? [r.credentialsSecret.name] : []))),
  ];
  for (const [i, secretName] of leafSecrets.entries()) {
    volumes.push({ name: `leaf-creds-${i}`, secret: { secretName } });
    mounts.push({ name: `leaf-creds-${i}`, mountPath: serverPaths.leafCredsDir(secretName), readOnly: true });
  }
  const env: V1EnvVar[] = [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    ...(site ? [{ name: "SERVER_NAME", value: fleetServerName(site, c.metadata.namespace!, "$(POD_NAME)") }] : []),
    ...(pod.natsEnv ?? []).map((e) => ({ name: e.name, value: e.value ?? "" })),
  ];
  const containerPorts = [
    { name: "client", containerPort: ports.client, ...(pod.enableClientsHostPort ? { hostPort: ports.client } : {}) },
    { name: "cluster", containerPort: ports.cluster },
    { name: "monitor", containerPort: ports.monitor },
    ...(spec.leafnodeConfig?.hostPort ? [{ name: "leafnodes", containerPort: spec.leafnodeConfig.hostPort }] : []),
  ];
  const js = jetstreamEnabled(c);
  if (js) {
    volumes.push({ name: "jetstream", persistentVolumeClaim: { claimName: "" } });
    mounts.push({ name: "jetstream", mountPath: dirOf(jetstreamStoreDir) });
  }
  const memLimit = goMemLimit(c);
  if (memLimit) env.push({ name: "GOMEMLIMIT", value: memLimit });
  const probe = (query = "") => ({ httpGet: { path: `/healthz${query}`, port: "monitor" } });
  // JetStream (as nats' Helm chart): started once streams are caught up; alive and ready while
  // JetStream runs; the operator's rollouts wait for the full /healthz of every server themselves.
  const [live, ready] = !js
    ? ["", ""]
    : atLeast(version, "2.10.0")
      ? ["?js-enabled-only=true", "?js-server-only=true"]
      : ["?js-enabled=true", "?js-enabled=true"];
  const nats: V1Container = {
    name: "nats",
    image: `${spec.serverImage || "nats"}:${version}`,
    command: ["nats-server", "--config", `${serverPaths.configDir}/nats.conf`],
    ports: containerPorts,
    env,
    resources: pod.resources as V1Container["resources"],
    volumeMounts: mounts,
    livenessProbe: { ...probe(live), initialDelaySeconds: 10, periodSeconds: 30, timeoutSeconds: 5 },
    readinessProbe: { ...probe(ready), periodSeconds: 5, timeoutSeconds: 3 },
    ...(js ? { startupProbe: { ...probe(), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 } } : {}),
    lifecycle: { preStop: { exec: { command: ["nats-server", "--signal", `ldm=${serverPaths.pidFile}`] } } },
  };
  const containers: V1Container[] = [nats];
  const initContainers: V1Container[] = [];
  if (pod.enableConfigReload) {
    const reloader = {
      image: pod.reloaderImage ? `${pod.reloaderImage}:${pod.reloaderImageTag || "latest"}` : controllerImage,
      imagePullPolicy: pod.reloaderImagePullPolicy,
      env: [env[0]!, env[1]!],
      resources: pod.reloaderResources as V1Container["resources"],
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
    };
    const watch = ["reloader", "-secret", configSecretName(name), "-dir", serverPaths.configDir];
    initContainers.push({ ...reloader, name: "config", args: [...watch, "-once"], volumeMounts: [{ ...mounts[0]!, readOnly: false }] });
    containers.push({
      ...reloader,
      name: "reloader",
      args: [
        ...watch,
        "-pid",
        serverPaths.pidFile,
        "-cluster",
        name,
        "-s",
        `nats://127.0.0.1:${ports.client}`,
        "-monitor",
        `http://127.0.0.1:${ports.monitor}`,
      ],
      volumeMounts: [{ ...mounts[0]!, readOnly: false }, mounts[1]!],
    });
  }
  if (pod.enableMetrics) {
    containers.push({
      name: "metrics",
      image: `${pod.metricsImage || defaultMetricsImage}:${pod.metricsImageTag || defaultMetricsTag}`,
      imagePullPolicy: pod.metricsImagePullPolicy,
      args: ["-connz", "-routez", "-subz", "-varz", "-prefix=nats", "-use_internal_server_id", `http://localhost:${ports.monitor}/`],
      ports: [{ name: "metrics", containerPort: ports.metrics }],
    });
  }
  const podSpec: PodTemplate["spec"] = {
    subdomain: mgmtServiceName(name),
    containers,
    volumes,
    restartPolicy: "Always",
    terminationGracePeriodSeconds: (spec.lameDuckDurationSeconds ?? 30) + 30,
    // The reloader signals nats-server: one process namespace, one user, so no capability is needed.
    ...(pod.enableConfigReload
      ? {
          shareProcessNamespace: true,
          serviceAccountName: reloaderAccountName(name),
          initContainers,
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true },
        }
      : {}),
    ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
    ...(pod.tolerations ? { tolerations: pod.tolerations } : {}),
    ...(pod.antiAffinity
      ? {
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selectorLabels(name) } },
                },
              ],
            },
          },
        }
      : {}),
  };
  const labels = { ...pod.labels, ...selectorLabels(name), [labelVersion]: version };
  const annotations = { ...pod.annotations, ...(restartKey ? { [annotationRestartKey]: restartKey } : {}) };
  return { labels, annotations, spec: podSpec };
}

export const templateHash = (t: PodTemplate) => hashOf(t);

/** A server's name in a fleet: unique across sites and namespaces, for the ground's leafnode links. */
export const fleetServerName = (site: string, namespace: string, pod: string) => `${site}-${namespace}-${pod}`;

export function desiredPod(c: NatsCluster, index: number, t: PodTemplate): Pod {
  const name = podName(c.metadata.name!, index);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: c.metadata.namespace,
      labels: t.labels,
      annotations: { ...t.annotations, [annotationTemplateHash]: templateHash(t) },
      ownerReferences: [ownerReference(c)],
    },
    spec: {
      ...t.spec,
      hostname: name,
      volumes: t.spec.volumes?.map((v) => (v.persistentVolumeClaim ? { ...v, persistentVolumeClaim: { claimName: claimName(name) } } : v)),
    },
  };
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
