// Phase 7, supporting objects: the client and management Services, the PodDisruptionBudget, and
// the reloader sidecar's ServiceAccount, Role and RoleBinding.
import type { Change } from "../../types.ts";
import { desiredReloaderRbac, desiredServices, serviceDiffers, updatedService } from "../desired-objects.ts";
import { desiredDisruptionBudget, updatedDisruptionBudget } from "../disruption-budget.ts";
import type { Observed } from "./observe.ts";

export function supportingObjects(seen: Observed): Change[] {
  return [...reloaderRbac(seen), ...services(seen), ...disruptionBudget(seen)];
}

function disruptionBudget(seen: Observed): Change[] {
  const want = desiredDisruptionBudget(seen.cluster);
  const live = seen.view.disruptionBudget;
  if (!live) return [{ op: "create", kind: "PodDisruptionBudget", object: want }];
  const updated = updatedDisruptionBudget(live, want);
  return updated ? [{ op: "replace", kind: "PodDisruptionBudget", object: updated }] : [];
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
