import { configRevisionAnnotation } from "../reloader/report.ts";
import type { ConfigMap, Role, RoleBinding, Secret, Service, ServiceAccount } from "../types.ts";
import { encodeBase64 } from "./base64.ts";
import { configSecretName, labelCluster, mgmtServiceName, ownerReference, routesConfigMapName, selectorLabels } from "./names.ts";
import type { NatsCluster, ServicePolicy } from "./natscluster.ts";
import { ports } from "./server-config.ts";
import { gatewayPort, websocketPort } from "./server-config-listeners.ts";

const meta = (c: NatsCluster, name: string) => ({
  name,
  namespace: c.metadata.namespace,
  labels: selectorLabels(c.metadata.name!),
  ownerReferences: [ownerReference(c)],
});

/** A Service's metadata: the policy's labels under satellite's own, and the policy's annotations. */
function serviceMeta(c: NatsCluster, name: string, policy: ServicePolicy | undefined) {
  const m = meta(c, name);
  return {
    ...m,
    labels: { ...policy?.labels, ...m.labels },
    ...(policy?.annotations && Object.keys(policy.annotations).length ? { annotations: { ...policy.annotations } } : {}),
  };
}

/**
 * The client Service `<name>` and the headless `<name>-mgmt` that gives each pod its DNS name,
 * with spec.servicePolicy's and spec.managementServicePolicy's labels and annotations.
 */
export function desiredServices(c: NatsCluster): Service[] {
  const name = c.metadata.name!;
  const selector = selectorLabels(name);
  const mgmtPorts = [
    { name: "cluster", port: ports.cluster, targetPort: ports.cluster, protocol: "TCP" },
    { name: "monitor", port: ports.monitor, targetPort: ports.monitor, protocol: "TCP" },
    ...(c.spec?.pod?.enableMetrics ? [{ name: "metrics", port: ports.metrics, targetPort: ports.metrics, protocol: "TCP" }] : []),
    ...(c.spec?.gatewayConfig ? [servicePort("gateways", gatewayPort(c))] : []),
    ...(c.spec?.leafnodeConfig?.hostPort ? [servicePort("leafnodes", c.spec.leafnodeConfig.hostPort)] : []),
  ];
  const clientPorts = [
    servicePort("tcp-client", ports.client),
    ...(c.spec?.websocketConfig ? [servicePort("websocket", websocketPort(c))] : []),
  ];
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: serviceMeta(c, name, c.spec?.servicePolicy),
      spec: { selector, type: "ClusterIP", ports: clientPorts },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: serviceMeta(c, mgmtServiceName(name), c.spec?.managementServicePolicy),
      spec: { selector, clusterIP: "None", publishNotReadyAddresses: true, ports: mgmtPorts },
    },
  ];
}

const servicePort = (name: string, port: number) => ({ name, port, targetPort: port, protocol: "TCP" });

/**
 * Whether `live` differs from `want` in what satellite manages (server-set fields are ignored).
 * Annotations: only the ones satellite sets are compared (others, e.g. a load balancer
 * controller's, are left alone, as is one the policy no longer names).
 */
export function serviceDiffers(live: Service, want: Service): boolean {
  const wanted = Object.keys(want.metadata?.annotations ?? {});
  const norm = (s: Service) =>
    JSON.stringify({
      labels: s.metadata?.labels ?? {},
      annotations: wanted.map((k) => s.metadata?.annotations?.[k] ?? null),
      selector: s.spec?.selector ?? {},
      publish: Boolean(s.spec?.publishNotReadyAddresses),
      ports: (s.spec?.ports ?? []).map((p) => [p.name, p.port, String(p.targetPort ?? p.port), p.protocol ?? "TCP"]),
    });
  return norm(live) !== norm(want);
}

/** `want` carried onto `live`: the server-assigned fields (clusterIP, resourceVersion …) are kept. */
export function updatedService(live: Service, want: Service): Service {
  return {
    ...live,
    metadata: {
      ...live.metadata,
      labels: want.metadata?.labels,
      ...(want.metadata?.annotations ? { annotations: { ...live.metadata?.annotations, ...want.metadata.annotations } } : {}),
    },
    spec: { ...live.spec, ...want.spec, clusterIP: live.spec?.clusterIP, clusterIPs: live.spec?.clusterIPs },
  };
}

/** The rendered config; `configRevision` is the routes file's revision it carries (for config.put's wait). */
export function desiredConfigSecret(c: NatsCluster, conf: string, configRevision?: string): Secret {
  const m = meta(c, configSecretName(c.metadata.name!));
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: configRevision ? { ...m, annotations: { [configRevisionAnnotation]: configRevision } } : m,
    data: { "nats.conf": encodeBase64(conf) },
  };
}

export const reloaderAccountName = (cluster: string) => `${cluster}-reloader`;

/** What the reloader sidecar may do: read its cluster's config Secret and record Events. */
export function desiredReloaderRbac(c: NatsCluster): { serviceAccount: ServiceAccount; role: Role; roleBinding: RoleBinding } {
  const name = reloaderAccountName(c.metadata.name!);
  return {
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(c, name) },
    role: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta(c, name),
      rules: [
        { apiGroups: [""], resources: ["secrets"], resourceNames: [configSecretName(c.metadata.name!)], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create"] },
      ],
    },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta(c, name),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: c.metadata.namespace }],
    },
  };
}

/** The config API's routes file for this cluster, created empty when missing; see docs/config-api.md. */
export function initialRoutesConfigMap(c: NatsCluster): ConfigMap {
  const name = c.metadata.name!;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { ...meta(c, routesConfigMapName(name)), labels: { [labelCluster]: name, app: "nats" } },
    data: { "routes.json": `${JSON.stringify({ name, routes: [] }, null, 2)}\n` },
  };
}
