import type { V1Container, V1ContainerPort, V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { Change, Pod } from "../types.ts";
import { advertiseDir, bootconfigContainer } from "./advertise.ts";
import { keyReloaderPassword, reloaderUser } from "./config-api-user.ts";
import { reloaderAccountName } from "./desired-objects.ts";
import { goMemLimit, jetstreamEnabled, zoneLabel, zoneTagEnv } from "./jetstream.ts";
import { claimName } from "./jetstream-volumes.ts";
import {
  annotationTemplateHash,
  clusterTlsNames,
  configSecretName,
  fleetServerName,
  hashOf,
  labelVersion,
  mgmtServiceName,
  ownerReference,
  podName,
  selectorLabels,
} from "./names.ts";
import { clientsMustAuthenticate, type NatsCluster, tlsFiles } from "./natscluster.ts";
import { containerSecurityContext, podSecurityContext } from "./pod-security.ts";
import { laidOverTemplate } from "./pod-template-merge.ts";
import { podVolumes } from "./pod-volumes.ts";
import { ports, serverPaths } from "./server-config.ts";
import { gatewayPort, websocketPort } from "./server-config-listeners.ts";

import { defaultServerVersion, type ServerVersion, serverVersion } from "./server-version.ts";

export { defaultServerVersion };
export const annotationRestartKey = "nats.io/config-restart-key";
const reloaderContainer = "reloader";
const configInitContainer = "config";
const metricsContainerName = "metrics";
/** Containers that run satellite's own image, which an operator upgrade sets in place. */
const inPlaceContainers = [reloaderContainer, metricsContainerName];
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
  return checkedPodTemplate(c, controllerImage, restartKey, site).template;
}

/**
 * The pod template, laid over spec.template when there is one (pod-template-merge.ts), with
 * spec.pod.volumeMounts on the nats container; `problems`: what of those cannot be had.
 */
export function checkedPodTemplate(
  c: NatsCluster,
  controllerImage: string,
  restartKey?: string,
  site?: string,
): { template: PodTemplate; problems: string[] } {
  const ours = ownPodTemplate(c, controllerImage, restartKey, site);
  const problems: string[] = [];
  const extra = (c.spec?.pod?.volumeMounts ?? []) as unknown as V1VolumeMount[];
  const nats = ours.spec.containers[0]!;
  for (const [i, m] of extra.entries())
    if (nats.volumeMounts?.some((x) => x.name === m.name || x.mountPath === m.mountPath))
      problems.push(`spec.pod.volumeMounts[${i}] (${m.name} at ${m.mountPath}) is a volume or path satellite mounts itself: use another`);
  if (extra.length) nats.volumeMounts = [...(nats.volumeMounts ?? []), ...extra];
  // A template's own spread constraints replace satellite's default ones.
  if ((c.spec?.template?.spec as Record<string, unknown> | undefined)?.topologySpreadConstraints !== undefined)
    delete ours.spec.topologySpreadConstraints;
  const { merged, conflicts } = c.spec?.template ? laidOverTemplate(c.spec.template, ours) : { merged: ours, conflicts: [] };
  problems.push(...conflicts);
  const volumes = new Set((merged.spec.volumes ?? []).map((v) => v.name));
  for (const [i, m] of extra.entries())
    if (!volumes.has(m.name))
      problems.push(`spec.pod.volumeMounts[${i}] names volume "${m.name}", which neither spec.template nor satellite's pod has`);
  return { template: merged, problems };
}

function ownPodTemplate(c: NatsCluster, controllerImage: string, restartKey?: string, site?: string): PodTemplate {
  const spec = c.spec ?? {};
  const pod = spec.pod ?? {};
  const name = c.metadata.name!;
  const version = spec.version || defaultServerVersion;
  const js = jetstreamEnabled(c);
  const { volumes, mounts } = podVolumes(c, js);
  const env = natsEnv(c, site);
  const initContainers: V1Container[] = [];
  if (pod.advertiseExternalIP) {
    initContainers.push(bootconfigContainer(c, controllerImage, containerSecurityContext(c)));
    volumes.push({ name: "advertise", emptyDir: {} });
    mounts.push({ name: "advertise", mountPath: advertiseDir, readOnly: true });
  }
  const containers: V1Container[] = [natsContainer(c, version, js, env, mounts)];
  if (pod.enableConfigReload) {
    const reloader = reloaderContainers(c, controllerImage, env, mounts);
    initContainers.push(reloader.init);
    containers.push(reloader.sidecar);
  }
  if (pod.enableMetrics) containers.push(metricsContainer(c, controllerImage, { js, healthz: serverVersion(version).healthz }));
  const labels = { ...pod.labels, ...selectorLabels(name), [labelVersion]: version };
  const annotations = {
    ...(pod.enableMetrics ? scrapeAnnotations : {}),
    ...pod.annotations,
    ...(restartKey ? { [annotationRestartKey]: restartKey } : {}),
  };
  return { labels, annotations, spec: podSpec(c, containers, volumes, initContainers) };
}

/** The nats container's env: the pod's name and namespace (the reloader's too), then the server's own. */
function natsEnv(c: NatsCluster, site: string | undefined): V1EnvVar[] {
  const env: V1EnvVar[] = [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    ...(site ? [{ name: "SERVER_NAME", value: fleetServerName(site, c.metadata.namespace!, "$(POD_NAME)") }] : []),
    ...(c.spec?.pod?.natsEnv ?? []).map((e) => ({ name: e.name, value: e.value ?? "" })),
  ];
  const memLimit = goMemLimit(c);
  if (memLimit) env.push({ name: "GOMEMLIMIT", value: memLimit });
  // The scheduler's binding copies the node's zone label onto the pod (PodTopologyLabels admission).
  if (jetstreamEnabled(c))
    env.push(
      { name: "NATS_ZONE", valueFrom: { fieldRef: { fieldPath: `metadata.labels['${zoneLabel}']` } } },
      { name: zoneTagEnv, value: "zone:$(NATS_ZONE)" },
    );
  return env;
}

function natsPorts(c: NatsCluster): V1ContainerPort[] {
  const spec = c.spec ?? {};
  // Advertised at the node's address, so bound on the node (as nats-operator did).
  const onNode = (port: number) => (spec.pod?.advertiseExternalIP ? { hostPort: port } : {});
  return [
    { name: "client", containerPort: ports.client, ...(spec.pod?.enableClientsHostPort ? { hostPort: ports.client } : {}) },
    { name: "cluster", containerPort: ports.cluster },
    { name: "monitor", containerPort: ports.monitor },
    ...(spec.leafnodeConfig?.hostPort
      ? [{ name: "leafnodes", containerPort: spec.leafnodeConfig.hostPort, ...onNode(spec.leafnodeConfig.hostPort) }]
      : []),
    ...(spec.gatewayConfig ? [{ name: "gateways", containerPort: gatewayPort(c), ...onNode(gatewayPort(c)) }] : []),
    ...(spec.websocketConfig ? [{ name: "websocket", containerPort: websocketPort(c) }] : []),
  ];
}

function natsProbes(version: ServerVersion, js: boolean): Pick<V1Container, "livenessProbe" | "readinessProbe" | "startupProbe"> {
  // Servers before /healthz: /varz answers once the server listens.
  const endpoint = version.healthz ? "/healthz" : "/varz";
  const probe = (query = "") => ({ httpGet: { path: `${endpoint}${query}`, port: "monitor" } });
  // JetStream (as nats' Helm chart): started once streams are caught up; alive and ready while
  // JetStream runs; the operator's rollouts wait for the full /healthz of every server themselves.
  const [live, ready] = !js
    ? ["", ""]
    : version.healthzJetStreamOnly
      ? ["?js-enabled-only=true", "?js-server-only=true"]
      : ["?js-enabled=true", "?js-enabled=true"];
  return {
    livenessProbe: { ...probe(live), initialDelaySeconds: 10, periodSeconds: 30, timeoutSeconds: 5 },
    readinessProbe: { ...probe(ready), periodSeconds: 5, timeoutSeconds: 3 },
    ...(js ? { startupProbe: { ...probe(), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 90 } } : {}),
  };
}

function natsContainer(c: NatsCluster, version: string, js: boolean, env: V1EnvVar[], mounts: V1VolumeMount[]): V1Container {
  const spec = c.spec ?? {};
  const server = serverVersion(version);
  return {
    name: "nats",
    image: `${spec.serverImage || "nats"}:${version}`,
    command: [server.binary, "--config", `${serverPaths.configDir}/nats.conf`],
    ports: natsPorts(c),
    env,
    resources: spec.pod?.resources as V1Container["resources"],
    volumeMounts: mounts,
    ...natsProbes(server, js),
    lifecycle: { preStop: { exec: { command: [server.binary, "--signal", `ldm=${serverPaths.pidFile}`] } } },
    securityContext: containerSecurityContext(c),
  };
}

/** The reloader: an init container that writes the config once, and the sidecar that keeps it current. */
function reloaderContainers(
  c: NatsCluster,
  controllerImage: string,
  env: V1EnvVar[],
  mounts: V1VolumeMount[],
): { init: V1Container; sidecar: V1Container } {
  const pod = c.spec?.pod ?? {};
  const name = c.metadata.name!;
  const reloader = {
    image: reloaderImage(pod, controllerImage),
    imagePullPolicy: pod.reloaderImagePullPolicy,
    env: [env[0]!, env[1]!],
    resources: pod.reloaderResources as V1Container["resources"],
    securityContext: containerSecurityContext(c),
  };
  const watch = ["reloader", "-secret", configSecretName(name), "-dir", serverPaths.configDir];
  const init = { ...reloader, name: configInitContainer, args: [...watch, "-once"], volumeMounts: [{ ...mounts[0]!, readOnly: false }] };
  const link = reportLink(c, mounts);
  const sidecar = {
    ...reloader,
    name: reloaderContainer,
    args: [...watch, "-pid", serverPaths.pidFile, "-cluster", name, ...link.args, "-monitor", `http://127.0.0.1:${ports.monitor}`],
    env: [...reloader.env, ...link.env],
    volumeMounts: [{ ...mounts[0]!, readOnly: false }, mounts[1]!, ...link.mounts],
  };
  return { init, sidecar };
}

/**
 * How the sidecar reaches its own server to publish reports: over TLS when clients must use it
 * (the server's certificate checked against the CA and the cluster's names; with tls.verify the
 * server's own certificate as the client's), as the reloader's user when clients must authenticate.
 */
function reportLink(c: NatsCluster, mounts: V1VolumeMount[]): { args: string[]; env: V1EnvVar[]; mounts: V1VolumeMount[] } {
  const name = c.metadata.name!;
  const server = tlsFiles(c.spec?.tls).server;
  const tlsMount = mounts.find((m) => m.mountPath === serverPaths.serverTlsDir);
  const args = ["-s", `${server ? "tls" : "nats"}://127.0.0.1:${ports.client}`];
  if (server && tlsMount) {
    const names = clusterTlsNames(name, c.metadata.namespace!, ["$(POD_NAME)"]);
    args.push("-tlsca", `${serverPaths.serverTlsDir}/${server.ca}`, "-tlsname", names.join(","));
    if (c.spec?.tls?.verify)
      args.push("-tlscert", `${serverPaths.serverTlsDir}/${server.cert}`, "-tlskey", `${serverPaths.serverTlsDir}/${server.key}`);
  }
  const auth = clientsMustAuthenticate(c);
  if (auth) args.push("-user", reloaderUser);
  return {
    args,
    env: auth ? [{ name: "NATS_PASSWORD", valueFrom: { secretKeyRef: { name: configSecretName(name), key: keyReloaderPassword } } }] : [],
    mounts: server && tlsMount ? [tlsMount] : [],
  };
}

/** For Prometheus' usual pod discovery (the `kubernetes-pods` job); the pod's own annotations win. */
const scrapeAnnotations = { "prometheus.io/scrape": "true", "prometheus.io/port": String(ports.metrics), "prometheus.io/path": "/metrics" };

/**
 * The metrics sidecar: satellite's own image (`satellite exporter`, the exporter's metric names),
 * or, when the spec names an image or tag of it, prometheus-nats-exporter as nats-operator ran it.
 */
function metricsContainer(c: NatsCluster, controllerImage: string, has: { js: boolean; healthz: boolean }): V1Container {
  const pod = c.spec?.pod ?? {};
  const official = Boolean(pod.metricsImage || pod.metricsImageTag);
  const monitor = `http://127.0.0.1:${ports.monitor}`;
  const endpoints = ["varz", "connz", "routez", "subz", ...(has.healthz ? ["healthz"] : []), ...(has.js ? ["jsz"] : [])].join(",");
  return {
    name: metricsContainerName,
    image: official ? `${pod.metricsImage || defaultMetricsImage}:${pod.metricsImageTag || defaultMetricsTag}` : controllerImage,
    imagePullPolicy: pod.metricsImagePullPolicy,
    args: official
      ? ["-connz", "-routez", "-subz", "-varz", "-prefix=nats", "-use_internal_server_id", `http://localhost:${ports.monitor}/`]
      : ["exporter", "-monitor", monitor, "-listen", `:${ports.metrics}`, "-endpoints", endpoints],
    ports: [{ name: "metrics", containerPort: ports.metrics }],
    securityContext: containerSecurityContext(c),
  };
}

function podSpec(c: NatsCluster, containers: V1Container[], volumes: V1Volume[], initContainers: V1Container[]): PodTemplate["spec"] {
  const spec = c.spec ?? {};
  const pod = spec.pod ?? {};
  const name = c.metadata.name!;
  return {
    subdomain: mgmtServiceName(name),
    containers,
    volumes,
    restartPolicy: "Always",
    terminationGracePeriodSeconds: (spec.lameDuckDurationSeconds ?? 30) + 30,
    securityContext: podSecurityContext(c),
    // The reloader signals nats-server: one process namespace, one user, so no capability is needed.
    ...(pod.enableConfigReload ? { shareProcessNamespace: true, serviceAccountName: reloaderAccountName(name) } : {}),
    ...(initContainers.length ? { initContainers } : {}),
    ...podScheduling(c),
  };
}

/**
 * Where the pods may run: the spec's node selector and tolerations; spread over zones and nodes
 * (preferred: on nodes without zones, or too few, every server still starts); one server a node
 * required (oneServerPerNode) or preferred (antiAffinity).
 */
function podScheduling(
  c: NatsCluster,
): Pick<PodTemplate["spec"], "nodeSelector" | "tolerations" | "affinity" | "topologySpreadConstraints"> {
  const pod = c.spec?.pod ?? {};
  const labelSelector = { matchLabels: selectorLabels(c.metadata.name!) };
  const byNode = { topologyKey: "kubernetes.io/hostname", labelSelector };
  const spread = (topologyKey: string) => ({ maxSkew: 1, topologyKey, whenUnsatisfiable: "ScheduleAnyway", labelSelector });
  const podAntiAffinity = pod.oneServerPerNode
    ? { requiredDuringSchedulingIgnoredDuringExecution: [byNode] }
    : pod.antiAffinity
      ? { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: byNode }] }
      : undefined;
  return {
    ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
    ...tolerations(c),
    ...(podAntiAffinity ? { affinity: { podAntiAffinity } } : {}),
    topologySpreadConstraints: [spread(zoneLabel), spread("kubernetes.io/hostname")],
  };
}

/** Servers without JetStream leave a node that stopped answering after this long (Kubernetes' default: 300 s). */
export const nodeLossToleration = 30;

/**
 * The spec's tolerations; without JetStream, and unless the spec tolerates them itself, the taints
 * of a node that stopped answering are tolerated only nodeLossToleration seconds.
 */
function tolerations(c: NatsCluster): Pick<PodTemplate["spec"], "tolerations"> {
  const own = (c.spec?.pod?.tolerations ?? []) as NonNullable<PodTemplate["spec"]["tolerations"]>;
  const nodeLoss = jetstreamEnabled(c)
    ? []
    : ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
        .filter((key) => !own.some((t) => t.key === key))
        .map((key) => ({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: nodeLossToleration }));
  const all = [...own, ...nodeLoss];
  return all.length ? { tolerations: all } : {};
}

/**
 * The sidecars' images (the reloader's and the metrics', satellite's own by default) are left out
 * of the hash: a new one is set on the running pods in place (sidecarImageUpdates), so an
 * operator upgrade restarts no server.
 */
const inPlace = (list: V1Container[] | undefined, names: string[]) => list?.map((x) => (names.includes(x.name) ? { ...x, image: "" } : x));

export const templateHash = (t: PodTemplate) =>
  hashOf({
    ...t,
    spec: {
      ...t.spec,
      containers: inPlace(t.spec.containers, inPlaceContainers),
      ...(t.spec.initContainers ? { initContainers: inPlace(t.spec.initContainers, [configInitContainer]) } : {}),
    },
  });

/**
 * Current pods whose reloader or metrics sidecar runs another image than the template's: that
 * image, set in place (the kubelet restarts that container alone; nats-server keeps running). The
 * init container, already run, keeps its image until the pod is replaced.
 */
export function sidecarImageUpdates(pods: Pod[], t: PodTemplate, hash: string): Change[] {
  const want = new Map(t.spec.containers.filter((x) => inPlaceContainers.includes(x.name) && x.image).map((x) => [x.name, x.image!]));
  if (!want.size) return [];
  return pods.flatMap((p): Change[] => {
    if (p.metadata?.deletionTimestamp || p.metadata?.annotations?.[annotationTemplateHash] !== hash) return [];
    const outdated = (x: V1Container) => want.has(x.name) && x.image !== want.get(x.name);
    if (!p.spec?.containers.some(outdated)) return [];
    const containers = p.spec.containers.map((x) => (outdated(x) ? { ...x, image: want.get(x.name) } : x));
    return [{ op: "replace", kind: "Pod", object: { ...p, spec: { ...p.spec, containers } } }];
  });
}

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

/** reloaderImage[:reloaderImageTag], or satellite's own image, at reloaderImageTag when that alone is given. */
function reloaderImage(pod: NonNullable<NonNullable<NatsCluster["spec"]>["pod"]>, controllerImage: string): string {
  if (pod.reloaderImage) return `${pod.reloaderImage}:${pod.reloaderImageTag || "latest"}`;
  if (!pod.reloaderImageTag) return controllerImage;
  const repository = controllerImage.replace(/@.*$/, "").replace(/:[^:/]*$/, "");
  return `${repository}:${pod.reloaderImageTag}`;
}
