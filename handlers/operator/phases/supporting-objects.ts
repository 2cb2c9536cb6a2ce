// Phase 7, supporting objects: the client and management Services, and the reloader sidecar's
// ServiceAccount, Role and RoleBinding.
import type { Change } from "../../types.ts";
import { desiredReloaderRbac, desiredServices, serviceDiffers, updatedService } from "../desired-objects.ts";
import type { Observed } from "./observe.ts";

export function supportingObjects(seen: Observed): Change[] {
  return [...reloaderRbac(seen), ...services(seen)];
}

function reloaderRbac(seen: Observed): Change[] {
  if (!seen.spec.pod?.enableConfigReload) return [];
  const changes: Change[] = [];
  const want = desiredReloaderRbac(seen.cluster);
  const have = seen.view.reloaderRbac ?? {};
  if (!have.serviceAccount) changes.push({ op: "create", kind: "ServiceAccount", object: want.serviceAccount });
  if (!have.role) changes.push({ op: "create", kind: "Role", object: want.role });
  else if (JSON.stringify(have.role.rules) !== JSON.stringify(want.role.rules))
    changes.push({ op: "replace", kind: "Role", object: { ...have.role, rules: want.role.rules } });
  if (!have.roleBinding) changes.push({ op: "create", kind: "RoleBinding", object: want.roleBinding });
  return changes;
}

function services(seen: Observed): Change[] {
  return desiredServices(seen.cluster).flatMap((want): Change[] => {
    const live = seen.view.services.find((x) => x.metadata?.name === want.metadata?.name);
    if (!live) return [{ op: "create", kind: "Service", object: want }];
    return serviceDiffers(live, want) ? [{ op: "replace", kind: "Service", object: updatedService(live, want) }] : [];
  });
}
