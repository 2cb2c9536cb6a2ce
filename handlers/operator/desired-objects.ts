import type { ConfigMap, Secret, Service } from "../types.ts";
import type { NatsCluster } from "./natscluster.ts";
import { configSecretName, labelCluster, mgmtServiceName, ownerReference, routesConfigMapName, selectorLabels } from "./names.ts";
import { ports } from "./server-config.ts";
import { encodeBase64 } from "./base64.ts";

const meta = (c: NatsCluster, name: string) => ({
  name,
  namespace: c.metadata.namespace,
  labels: selectorLabels(c.metadata.name!),
  ownerReferences: [ownerReference(c)],
});

/** The client Service `<name>` and the headless `<name>-mgmt` that gives each pod its DNS name. */
export function desiredServices(c: NatsCluster): Service[] {
  const name = c.metadata.name!;
  const selector = selectorLabels(name);
  const mgmtPorts = [
    { name: "cluster", port: ports.cluster, targetPort: ports.cluster, protocol: "TCP" },
    { name: "monitor", port: ports.monitor, targetPort: ports.monitor, protocol: "TCP" },
    ...(c.spec?.pod?.enableMetrics ? [{ name: "metrics", port: ports.metrics, targetPort: ports.metrics, protocol: "TCP" }] : []),
  ];
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(c, name),
      spec: { selector, type: "ClusterIP", ports: [{ name: "tcp-client", port: ports.client, targetPort: ports.client, protocol: "TCP" }] },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(c, mgmtServiceName(name)),
      spec: { selector, clusterIP: "None", publishNotReadyAddresses: true, ports: mgmtPorts },
    },
  ];
}

/** Whether `live` differs from `want` in what satellite manages (server-set fields are ignored). */
export function serviceDiffers(live: Service, want: Service): boolean {
  const norm = (s: Service) =>
    JSON.stringify({
      labels: s.metadata?.labels ?? {},
      selector: s.spec?.selector ?? {},
      publish: Boolean(s.spec?.publishNotReadyAddresses),
      ports: (s.spec?.ports ?? []).map((p) => [p.name, p.port, String(p.targetPort ?? p.port), p.protocol ?? "TCP"]),
    });
  return norm(live) !== norm(want);
}

/** `want` carried onto `live`: the server-assigned fields (clusterIP, resourceVersion …) are kept. */
export function updatedService(live: Service, want: Service): Service {
  return { ...live, metadata: { ...live.metadata, labels: want.metadata?.labels }, spec: { ...live.spec, ...want.spec, clusterIP: live.spec?.clusterIP, clusterIPs: live.spec?.clusterIPs } };
}

export function desiredConfigSecret(c: NatsCluster, conf: string): Secret {
  return { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: meta(c, configSecretName(c.metadata.name!)), data: { "nats.conf": encodeBase64(conf) } };
}

/** The config API's routes file for this cluster, created empty when missing; see README. */
export function initialRoutesConfigMap(c: NatsCluster): ConfigMap {
  const name = c.metadata.name!;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { ...meta(c, routesConfigMapName(name)), labels: { [labelCluster]: name, app: "nats" } },
    data: { "routes.json": JSON.stringify({ name, routes: [] }, null, 2) + "\n" },
  };
}
