import type {
  CoreV1Event,
  V1ConfigMap,
  V1Lease,
  V1Namespace,
  V1Node,
  V1PersistentVolumeClaim,
  V1Pod,
  V1PodDisruptionBudget,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import type { NatsCluster } from "./operator/natscluster.ts";
import type { NatsServiceRole } from "./operator/natsservicerole.ts";

/** Where objects of one kind live in the API (core group when `group` is empty); `T` is their type. */
export interface ResourceType<T = unknown> {
  kind: string;
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
  /** Only carries `T` for the type checker. */
  readonly __type?: T;
}

const kind = <T>(kind: string, group: string, version: string, resource: string, namespaced = true): ResourceType<T> => ({
  kind,
  group,
  version,
  resource,
  namespaced,
});

/** Every kind satellite reads or writes: its API path and its type. */
export const kinds = {
  ConfigMap: kind<V1ConfigMap>("ConfigMap", "", "v1", "configmaps"),
  Secret: kind<V1Secret>("Secret", "", "v1", "secrets"),
  Service: kind<V1Service>("Service", "", "v1", "services"),
  Pod: kind<V1Pod>("Pod", "", "v1", "pods"),
  PersistentVolumeClaim: kind<V1PersistentVolumeClaim>("PersistentVolumeClaim", "", "v1", "persistentvolumeclaims"),
  ServiceAccount: kind<V1ServiceAccount>("ServiceAccount", "", "v1", "serviceaccounts"),
  Event: kind<CoreV1Event>("Event", "", "v1", "events"),
  Namespace: kind<V1Namespace>("Namespace", "", "v1", "namespaces", false),
  Node: kind<V1Node>("Node", "", "v1", "nodes", false),
  Role: kind<V1Role>("Role", "rbac.authorization.k8s.io", "v1", "roles"),
  RoleBinding: kind<V1RoleBinding>("RoleBinding", "rbac.authorization.k8s.io", "v1", "rolebindings"),
  Lease: kind<V1Lease>("Lease", "coordination.k8s.io", "v1", "leases"),
  PodDisruptionBudget: kind<V1PodDisruptionBudget>("PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets"),
  NatsCluster: kind<NatsCluster>("NatsCluster", "nats.io", "v1alpha2", "natsclusters"),
  NatsServiceRole: kind<NatsServiceRole>("NatsServiceRole", "nats.io", "v1alpha2", "natsserviceroles"),
};

export type Kind = keyof typeof kinds;
/** The type of an object of kind `K`. */
export type ObjectOf<K extends Kind> = (typeof kinds)[K] extends ResourceType<infer T> ? T : never;
