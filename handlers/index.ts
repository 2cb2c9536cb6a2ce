// The handlers' public face and the whole routing table: every NATS subject, watch and file
// event satellite responds to, and the pure function behind each. The runtime imports this file
// only; it does the I/O (NATS, the Kubernetes API, files, signals) around these functions.

import { failureReply } from "./config/failure.ts";
import type { ServerReport } from "./config/reload-wait.ts";
import { configGet } from "./config.get.ts";
import { configPut, configRollback } from "./config.put.ts";
import { discover } from "./discover.ts";
import { certificatesToCheck, configApiOf, reconcile, reconcileFailed, serversToObserve, watches } from "./operator/controller.ts";

export { advertiseFileTexts, nodeAdvertiseAddress } from "./operator/advertise.ts";
export { leaseStep, releasedLease } from "./operator/lease.ts";

import { labelCluster } from "./operator/names.ts";
import type { NatsCluster } from "./operator/natscluster.ts";
import { defaultSize } from "./operator/phases/observe.ts";
import { clustersToReconcile } from "./operator/triggers.ts";
import { monitorOfConfigFiles } from "./reloader/monitor.ts";
import { includedFiles } from "./reloader/nats-conf.ts";
import { filesOf, reportStep } from "./reloader/outcome.ts";
import { planReload } from "./reloader/plan.ts";
import { askSubject, reportSubject, reportWildcard } from "./reloader/report.ts";
import { type Instance, status } from "./status.ts";
import { type ConfigMap, type Pod, type Request, type Result, subjectPrefix, type Target } from "./types.ts";

export type { Failure } from "./config/failure.ts";
export { parseDuration } from "./config/put-request.ts";
export type { ServerReport } from "./config/reload-wait.ts";
export { type Kind, kinds, type ObjectOf, type ResourceType } from "./kinds.ts";
export type { MetricFamily } from "./metrics/metric-family.ts";
export {
  type JszDetail,
  jszDetails,
  type MonitorAnswer,
  type MonitorEndpoint,
  monitorEndpoints,
  monitorPath,
  natsServerMetrics,
  serverIdOf,
} from "./metrics/nats-server-metrics.ts";
export type { CertificateFacts, CertificateFiles } from "./operator/certificate-checks.ts";
export type { OperatorEnv, Store } from "./operator/controller.ts";
export type { NatsCluster } from "./operator/natscluster.ts";
export type { MetaView, ServerObservation } from "./operator/reload-rollout.ts";
export type { WatchedKind } from "./operator/triggers.ts";
export type { ConfigObject, ReloadStep, ServerFacts } from "./reloader/outcome.ts";
export type { ReloadPlan } from "./reloader/plan.ts";
export type { ReloadReport } from "./reloader/report.ts";
export type { Instance } from "./status.ts";
export type { Change, ConfigMap, Learned, PeerRemove, Pod, Reply, Request, Result, ServerReload, Target, TokenWrite } from "./types.ts";

// ── Config API over NATS ────────────────────────────────────────────────────────────────────

/** What the runtime loads before calling a config-API handler (only what the route `needs`). */
export interface ApiView {
  target: Target;
  instance: Instance;
  podSelector: string;
  configMap: ConfigMap | null;
  /** The cluster's server pods (`podSelector`). */
  pods: Pod[];
  /** The latest report of each server's reloader, by pod name. */
  reloads: Record<string, ServerReport | undefined>;
  /** The namespace's NatsClusters, when the runtime watches them (empty otherwise). */
  clusters: NatsCluster[];
  /** The time, for the routes file's history. */
  now: string;
}

export interface NatsRoute {
  /** Endpoint name in the NATS services protocol. */
  name: string;
  subject(target: Target): string;
  /** Shared by replicas through a queue group (false: every instance answers). */
  queued: boolean;
  /** Requests that write are run one at a time per cluster. */
  writes: boolean;
  needs: { configMap?: boolean; pods?: boolean; reloads?: boolean; clusters?: boolean };
  handle(req: Request, view: ApiView): Result;
}

/** Every NATS subject the controller answers, and the handler behind it. */
export const natsRoutes: NatsRoute[] = [
  {
    name: "config-get",
    subject: (t) => `${subjectPrefix(t)}.config.get`,
    queued: true,
    writes: false,
    needs: { configMap: true },
    handle: (_req, view) => configGet(view),
  },
  {
    name: "config-put",
    subject: (t) => `${subjectPrefix(t)}.config.put`,
    queued: true,
    writes: true,
    needs: { configMap: true, pods: true, clusters: true },
    handle: (req, view) => configPut(req, view),
  },
  {
    name: "config-rollback",
    subject: (t) => `${subjectPrefix(t)}.config.rollback`,
    queued: true,
    writes: true,
    needs: { configMap: true, pods: true, clusters: true },
    handle: (req, view) => configRollback(req, view),
  },
  {
    name: "status",
    subject: (t) => `${subjectPrefix(t)}.status`,
    queued: true,
    writes: false,
    needs: { configMap: true, pods: true, reloads: true },
    handle: (_req, view) => status(view),
  },
  {
    name: "discover",
    subject: () => "_SAT.discover",
    queued: false,
    writes: false,
    needs: { configMap: true, pods: true, clusters: true },
    handle: (_req, view) => discover(view),
  },
];

/** The config API's other inputs: a request the runtime could not carry out, and the servers' reports. */
export const configApi = {
  failed: failureReply,
  /** Server pods of a cluster by default: the seed's `app=<cluster>`, not the operator's (which carry nats_cluster). */
  serverSelector: (cluster: string) => `app=${cluster},!${labelCluster}`,
  reloadReports: reportWildcard,
  /** Asks every reloader of the cluster to publish its latest report again. */
  askForReports: askSubject,
};

// ── Operator: Kubernetes watches ────────────────────────────────────────────────────────────

/**
 * A change of any watched object queues the clusters `triggers` names; each is then reconciled
 * from its whole observed state (cluster.create, cluster.update, pod.failed, scaling and rollouts
 * are all that one reconcile). cluster.delete needs no handler: every owned object carries a
 * controller ownerReference, so Kubernetes garbage collection removes them with the NatsCluster.
 */
export const operatorRoutes = {
  watches,
  triggers: clustersToReconcile,
  /** configReload.mode operator: which servers to ask before reconciling a cluster. */
  serversToObserve,
  /** The TLS files whose certificates the runtime reads before reconciling a cluster. */
  certificatesToCheck,
  /** -config-api: each cluster's config API, served on the cluster's own NATS. */
  configApiOf,
  reconcile,
  failed: reconcileFailed,
  /** The servers a cluster asks for (spec.size, else the default). */
  desiredServers: (c: NatsCluster) => c.spec?.size ?? defaultSize,
};

// ── Reloader: a config object or config files changed ──────────────────────────────────────

export const reloaderRoutes = {
  /** Watch mode: what to do with a new version of the ConfigMap/Secret. */
  plan: planReload,
  /** Watch mode: the report and Event for what happened. */
  report: reportStep,
  reportSubject,
  askSubject,
  filesOf,
  /** File mode: the files a config includes, and the monitoring endpoint it sets. */
  includedFiles,
  monitorOf: monitorOfConfigFiles,
};
