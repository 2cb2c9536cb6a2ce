import type { Change } from "../handlers/types.ts";
import type { KubeClient } from "./kube/client.ts";
import { configMaps, type ResourceType } from "./kube/resources.ts";

const types: Record<Change["kind"], ResourceType> = { ConfigMap: configMaps };

/**
 * Carries out a handler's changes in order. A replace sends the
 * resourceVersion the handler saw, so a concurrent write makes the API
 * server answer 409 instead of being overwritten.
 */
export async function applyChanges(kube: KubeClient, changes: Change[]): Promise<any[]> {
  const written = [];
  for (const c of changes) {
    const type = types[c.kind];
    if (c.op === "create") written.push(await kube.create(type, c.object));
    else {
      if (!c.object.metadata?.resourceVersion) throw new Error(`refusing to replace ${c.kind} ${c.object.metadata?.name} without a resourceVersion`);
      written.push(await kube.replace(type, c.object));
    }
  }
  return written;
}
