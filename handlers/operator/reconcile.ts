// cluster.create / cluster.update: from the whole observed state, the next changes that move the
// cluster toward its spec. Running it twice on the same view gives the same result. Each phase is
// a pure function in handlers/operator/phases/ (docs/architecture.md draws them).
import type { EventNote } from "../events.ts";
import type { Change } from "../types.ts";
import type { NatsClusterStatus } from "./natscluster.ts";
import { invalidStatus, pausedStatus, servingStatus } from "./phases/cluster-status.ts";
import { credentials } from "./phases/credentials.ts";
import { type ClusterView, observe } from "./phases/observe.ts";
import { foreignObjects, takeoverProblems, templateProblems } from "./phases/ownership.ts";
import { renderConfig } from "./phases/render.ts";
import { serveConfig } from "./phases/serve-config.ts";
import { serverPods } from "./phases/server-pods.ts";
import { type ServiceAccountUsers, serviceAccountUsers, withServiceAccountUsers } from "./phases/service-accounts.ts";
import { supportingObjects } from "./phases/supporting-objects.ts";
import { validateCluster } from "./validate.ts";

export type { ClusterView } from "./phases/observe.ts";
export type ClusterEvent = EventNote;

export interface ReconcileResult {
  changes: Change[];
  /** The status the cluster should have; the runtime writes it when it differs. */
  status: NatsClusterStatus;
  events: ClusterEvent[];
  /** Look at the cluster again this soon (a config is moving through the servers). */
  requeueAfterMs?: number;
}

export function reconcileCluster(v: ClusterView): ReconcileResult {
  if (v.cluster.metadata.deletionTimestamp) return { changes: [], status: v.cluster.status ?? {}, events: [] };
  const seen = observe(v);
  const valid = validateCluster(seen.cluster, seen.secrets);
  if (seen.spec.paused) return { changes: [], ...pausedStatus(seen, valid.problems) };
  const accounts = serviceAccountUsers(seen);
  const users = withServiceAccountUsers(valid.clientsAuth, accounts);
  const creds = credentials(seen, users.auth);
  const skip = valid.problems.length + accounts.problems.length + users.problems.length > 0;
  const config = renderConfig(seen, creds, skip, valid);
  const problems = [
    ...valid.problems,
    ...accounts.problems,
    ...users.problems,
    ...creds.problems,
    ...config.problems,
    ...foreignObjects(seen),
    ...takeoverProblems(seen),
    ...templateProblems(seen),
  ];
  if (problems.length || config.conf === undefined) {
    const again = config.retryAfterMs !== undefined ? { requeueAfterMs: config.retryAfterMs } : {};
    return withAccounts({ changes: [], ...invalidStatus(seen, problems), ...again }, accounts, false);
  }

  const served = serveConfig(seen, { ...config, conf: config.conf }, creds);
  const objects = supportingObjects(seen);
  const pods = serverPods(seen, served.target, creds.systemLogin);
  // Reloads wait while pods are created, replaced or removed: those start with the Secret's config.
  const reloads = served.rollout && !pods.plan.changes.length ? served.rollout : undefined;
  const status = servingStatus(seen, pods, served.rollout);
  const result = {
    ...status,
    changes: [...served.changes, ...objects, ...pods.changes, ...(reloads?.changes ?? [])],
    events: [...served.events, ...pods.events, ...(reloads?.events ?? []), ...status.events],
  };
  return withAccounts(result, accounts, true);
}

/**
 * The service accounts' part (enableServiceAccounts): their status always; their token changes,
 * Events and next token time only where the cluster is served (a refused spec changes nothing).
 * Tokens are written first: the next reconcile renders them.
 */
function withAccounts(r: ReconcileResult, accounts: ServiceAccountUsers, served: boolean): ReconcileResult {
  if (!accounts.status) return r;
  const status = { ...r.status, serviceAccounts: accounts.status };
  if (!served) return { ...r, status };
  const requeue = [r.requeueAfterMs, accounts.requeueAfterMs].filter((x): x is number => x !== undefined);
  return {
    changes: [...accounts.changes, ...r.changes],
    events: [...accounts.events, ...r.events],
    status,
    ...(requeue.length ? { requeueAfterMs: Math.min(...requeue) } : {}),
  };
}
