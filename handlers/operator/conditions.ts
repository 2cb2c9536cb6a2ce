import type { Condition } from "./natscluster.ts";

/** Conditions with `next` applied; a condition whose status did not change keeps its transition time. */
export function withConditions(
  current: Condition[] | undefined,
  next: Omit<Condition, "lastTransitionTime">[],
  now: string,
  generation?: number,
): Condition[] {
  return next.map((n) => {
    const old = current?.find((c) => c.type === n.type);
    const lastTransitionTime = old && old.status === n.status ? (old.lastTransitionTime ?? now) : now;
    return { ...n, lastTransitionTime, ...(generation !== undefined ? { observedGeneration: generation } : {}) };
  });
}

export const conditionStatus = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type)?.status;
