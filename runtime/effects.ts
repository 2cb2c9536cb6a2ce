import type { Change, Kind } from "../handlers/types.ts";
import type { KubeClient } from "./kube/client.ts";
import { isNotFound } from "./kube/errors.ts";
import { configMaps, pods, resourcePath, roleBindings, roles, secrets, serviceAccounts, services, type ResourceType } from "./kube/resources.ts";

export const resourceOf: Record<Kind, ResourceType> = {
  ConfigMap: configMaps, Secret: secrets, Service: services, Pod: pods, ServiceAccount: serviceAccounts, Role: roles, RoleBinding: roleBindings,
};

/**
 * Carries out a handler's changes in order. A replace sends the resourceVersion the handler
 * saw, so a concurrent write makes the API server answer 409 instead of being overwritten; a
 * delete with a uid only deletes the object that was seen. Deleting what is gone is success.
 */
export async function applyChanges(kube: KubeClient, changes: Change[]): Promise<any[]> {
  const written = [];
  for (const c of changes) {
    const type = resourceOf[c.kind];
    if (c.op === "delete") {
      const body = c.uid ? { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid: c.uid } } : undefined;
      try {
        await kube.request("DELETE", resourcePath(type, { namespace: c.namespace, name: c.name }), { body });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      continue;
    }
    if (c.op === "create") written.push(await kube.create(type, c.object));
    else {
      if (!c.object.metadata?.resourceVersion) throw new Error(`refusing to replace ${c.kind} ${c.object.metadata?.name} without a resourceVersion`);
      written.push(await kube.replace(type, c.object));
    }
  }
  return written;
}
