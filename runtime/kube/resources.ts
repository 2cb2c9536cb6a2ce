/** Where a kind of object lives in the API: core group when `group` is empty. */
export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

export interface ObjectRef {
  namespace?: string;
  name?: string;
  subresource?: string;
}

export const configMaps: ResourceType = { group: "", version: "v1", resource: "configmaps", namespaced: true };
export const secrets: ResourceType = { group: "", version: "v1", resource: "secrets", namespaced: true };
export const pods: ResourceType = { group: "", version: "v1", resource: "pods", namespaced: true };
export const services: ResourceType = { group: "", version: "v1", resource: "services", namespaced: true };
export const namespaces: ResourceType = { group: "", version: "v1", resource: "namespaces", namespaced: false };
export const serviceAccounts: ResourceType = { group: "", version: "v1", resource: "serviceaccounts", namespaced: true };
export const events: ResourceType = { group: "", version: "v1", resource: "events", namespaced: true };

export function resourcePath(type: ResourceType, ref: ObjectRef = {}): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  let path = base;
  if (type.namespaced && ref.namespace) path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  path += `/${type.resource}`;
  if (ref.name) path += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource) path += `/${ref.subresource}`;
  return path;
}
export const natsClusters: ResourceType = { group: "nats.io", version: "v1alpha2", resource: "natsclusters", namespaced: true };
export const leases: ResourceType = { group: "coordination.k8s.io", version: "v1", resource: "leases", namespaced: true };
export const roles: ResourceType = { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", namespaced: true };
export const roleBindings: ResourceType = { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", namespaced: true };
