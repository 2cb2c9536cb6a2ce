// The operator reload rollout's working context (see reload-rollout.ts), and the steps it returns:
// their status, condition and events, the refusal of a config, and the step once no server is left to move.
import type { Pod } from "../types.ts";
import type { ConfigStatus, ServerConfigState } from "./natscluster.ts";
import type { RolloutInput, RolloutStep } from "./reload-rollout.ts";

/** What one rollout step works from: the config the servers should reach, and how to ask for it. */
export interface RolloutTarget {
  i: RolloutInput;
  name: string;
  renderedHash: string;
  refused: ConfigStatus["refused"];
  forward: boolean;
  target: string;
  targetRevision?: string;
  targetHash: string;
  lastGoodHash: string;
  /** In pod-index order. */
  pods: Pod[];
  nowMs: number;
  digestOf: (text: string, pod: string) => string | undefined;
}

/** The target, and where each server stands with it. */
export interface Rollout extends RolloutTarget {
  servers: ServerConfigState[];
  /** The reachable servers that do not run the target yet. */
  pending: Pod[];
  reachable: Pod[];
}

function status(r: Rollout, state: ConfigStatus["state"], more: Partial<ConfigStatus> = {}): ConfigStatus {
  return {
    hash: r.targetHash,
    ...(r.targetRevision ? { revision: r.targetRevision } : {}),
    state,
    ...(r.refused ? { refused: r.refused } : {}),
    servers: r.servers,
    ...more,
  };
}

/** A step toward the target; `rest` overrides the defaults (no changes, the Rolling or Refused status). */
export function step(r: Rollout, rest: Partial<RolloutStep>): RolloutStep {
  return {
    target: r.target,
    targetRevision: r.targetRevision,
    lastGood: r.i.lastGood,
    lastGoodRevision: r.i.lastGoodRevision,
    changes: [],
    events: [],
    status: status(r, r.refused ? "Refused" : "Rolling"),
    condition: r.refused ? refusedCondition(r.refused.error) : rollingCondition(r),
    ...rest,
  };
}

function refusedCondition(message: string): RolloutStep["condition"] {
  return { type: "ConfigCurrent", status: "False", reason: "Refused", message };
}

function rollingCondition(r: Rollout): RolloutStep["condition"] {
  return {
    type: "ConfigCurrent",
    status: "False",
    reason: "Rolling",
    message: `${r.servers.filter((s) => s.state === "current").length}/${r.pods.length} servers run the new config`,
  };
}

/** Nats-server refused the config on `pod`, or the canary was not healthy with it. */
export function refuse(r: Rollout, error: string, reason: string): RolloutStep {
  const { i } = r;
  const refused = { hash: r.renderedHash, ...(i.renderedRevision ? { revision: i.renderedRevision } : {}), error, at: i.now };
  return {
    ...step(r, {}),
    target: i.lastGood,
    targetRevision: i.lastGoodRevision,
    status: { ...status(r, "Refused"), hash: r.lastGoodHash, revision: i.lastGoodRevision, refused },
    condition: refusedCondition(error),
    events: [{ type: "Warning", reason, message: `${error}; the last good config stays (or is put back) on every server` }],
    requeueAfterMs: 0,
  };
}

/** No reachable server is left to move: the target is current once every server could be asked. */
export function convergedStep(r: Rollout): RolloutStep {
  const { i, refused, target, targetHash, targetRevision, pods, reachable } = r;
  const done = r.forward && i.lastGood !== target;
  const allSeen = reachable.length === pods.length;
  return step(r, {
    lastGood: allSeen ? target : i.lastGood,
    lastGoodRevision: allSeen ? targetRevision : i.lastGoodRevision,
    status: status(r, refused ? "Refused" : allSeen ? "Current" : "Rolling"),
    condition: refused
      ? refusedCondition(refused.error)
      : allSeen
        ? { type: "ConfigCurrent", status: "True", reason: "Current", message: `every server runs config ${targetHash}` }
        : {
            type: "ConfigCurrent",
            status: "Unknown",
            reason: "ServersUnreachable",
            message: `${pods.length - reachable.length} servers could not be asked`,
          },
    events:
      done && allSeen
        ? [
            {
              type: "Normal",
              reason: "ConfigRolledOut",
              message: `every server runs config ${targetHash}${targetRevision ? ` (routes revision ${targetRevision})` : ""}`,
            },
          ]
        : [],
    ...(allSeen ? {} : { requeueAfterMs: 5_000 }),
  });
}
