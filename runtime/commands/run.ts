import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { configApi, type Instance, kinds, type Target } from "../../handlers/index.ts";
import { startConfigApi } from "../config-api.ts";
import { natsClusterApiProblem } from "../crd-check.ts";
import { type FlagSpec, flagHelp, parseFlags, UsageError } from "../flags.ts";
import { serveHealth } from "../health.ts";
import { sleep } from "../kube/backoff.ts";
import type { KubeClient } from "../kube/client.ts";
import { createKubeClient } from "../kube/client.ts";
import { findKubeTarget } from "../kube/kubeconfig.ts";
import { startReflector } from "../kube/reflector.ts";
import { type LeaderElection, startLeaderElection } from "../leader.ts";
import { createLogger, type Logger } from "../log.ts";
import { startMemoryReducer } from "../memory.ts";
import { gaugeFrom } from "../metrics.ts";
import type { NatsAuthOptions } from "../nats/connect.ts";
import { connectNats } from "../nats/connect.ts";
import { natsFlags, natsOptionsFrom } from "../nats/flags.ts";
import { type Operator, startOperator } from "../operator.ts";
import { stopSignal } from "../stop-signal.ts";
import { runtimeName, version } from "../version.ts";

export const runFlags: FlagSpec[] = [
  ...natsFlags,
  {
    names: ["name"],
    arg: "CLUSTER",
    help: "NATS cluster to serve: answers _SAT.<CLUSTER>.config.get|put and .status",
    env: ["SATELLITE_CLUSTER"],
  },
  { names: ["cm", "configmap"], arg: "NAME", help: "ConfigMap holding the cluster's routes (default <CLUSTER>-config)" },
  { names: ["key"], arg: "KEY", help: "key of the routes file in the ConfigMap", default: "routes.json" },
  {
    names: ["namespace", "n"],
    arg: "NS",
    help: 'namespace of the ConfigMap and pods (default: the kubeconfig\'s, else "default")',
    env: ["POD_NAMESPACE"],
  },
  {
    names: ["selector", "l"],
    arg: "SELECTOR",
    help: "label selector of the cluster's server pods, for status (default app=<CLUSTER>,!nats_cluster: not the operator's pods, which carry nats_cluster)",
  },
  {
    names: ["kubeconfig"],
    arg: "FILE",
    help: "kubeconfig file (default: in-cluster service account, else ~/.kube/config)",
    env: ["KUBECONFIG", "KUBERNETES_CONFIG_FILE"],
  },
  { names: ["context"], arg: "NAME", help: "kubeconfig context to use (default: its current-context)" },
  {
    names: ["operator"],
    boolean: true,
    help: "run the NatsCluster operator for the namespace (needs the CRD and manifests/operator RBAC)",
  },
  {
    names: ["controller-image"],
    arg: "IMAGE",
    help: "satellite's image, used for the reloader sidecar of NatsCluster pods (default: the image of this pod (POD_NAME), else ghcr.io/satellite-nats/satellite:<version>)",
    env: ["SATELLITE_IMAGE"],
  },
  { names: ["workers"], arg: "N", help: "NatsClusters reconciled at once", default: "2" },
  {
    names: ["all-namespaces", "A"],
    boolean: true,
    help: "with -operator: the NatsClusters of every namespace (manifests/operator-cluster-wide.yaml grants that), not only -namespace's",
  },
  {
    names: ["config-api"],
    boolean: true,
    help: "with -operator: serve every NatsCluster's config API (_SAT.<cluster>.config.get|put|rollback, .status, _SAT.discover) on that cluster's own NATS",
  },
  {
    names: ["site"],
    arg: "NAME",
    help: "with -config-api: this site's name in a fleet; the subjects become _SAT.<site>.<cluster>.…",
    env: ["SATELLITE_SITE"],
  },
  {
    names: ["leader-elect"],
    boolean: true,
    help: "with -operator: one replica reconciles, by a coordination.k8s.io Lease; the others stand by and take over within 15 s",
  },
  { names: ["lease"], arg: "NAME", help: "the Lease for -leader-elect, in the namespace", default: "satellite-operator" },
  { names: ["health"], arg: "ADDR", help: "serve /healthz and /readyz on this address, e.g. :8081 (default: off)" },
  { names: ["log-format"], arg: "json|text", help: "log format (default: text on a terminal, json otherwise)" },
  { names: ["D", "debug"], boolean: true, help: "debug logging" },
  { names: ["v", "version"], boolean: true, help: "print the version and exit" },
  { names: ["help", "h"], boolean: true, help: "show this help" },
];

export const runUsage = `Usage: satellite run -name CLUSTER [flags]
       satellite run -operator [-name CLUSTER] [flags]

Serves the config API of one NATS cluster over NATS:
  _SAT.<CLUSTER>.config.get       current name, routes, revision and history
  _SAT.<CLUSTER>.config.put       {"name": "...", "routes": ["nats://host:6222"], "revision": "...", "wait": "10s"}
  _SAT.<CLUSTER>.config.rollback  {"revision": "..."} from config.get's history
  _SAT.<CLUSTER>.status           config revision and the server pods' readiness
  _SAT.discover                   every config API answers: site, cluster, servers, revision
With -operator, also turns NatsCluster resources of the namespace (-all-namespaces: of every
namespace) into pods, services and config; with -config-api, serves each one's config API on the
cluster's own NATS (-site NAME: under _SAT.<NAME>.<cluster>.…); with -leader-elect, one replica leads.

Flags:
${flagHelp(runFlags)}
`;

const drainTimeoutMs = 5_000;
const defaultImage = "ghcr.io/satellite-nats/satellite";

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: f, rest } = parseFlags(runFlags, argv, env);
  if (f.help) {
    process.stdout.write(runUsage);
    return 0;
  }
  if (f.v) {
    process.stdout.write(`satellite ${version} (${runtimeName()})\n`);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}: see satellite run --help`);
  for (const flag of ["all-namespaces", "leader-elect", "config-api"]) {
    if (f[flag] && !f.operator) throw new UsageError(`-${flag} goes with -operator`);
  }
  const site = f.site as string | undefined;
  if (site && !f["config-api"]) throw new UsageError("-site goes with -config-api");
  if (site && !/^[A-Za-z0-9_-]+$/.test(site))
    throw new UsageError(`-site ${JSON.stringify(site)}: use letters, digits, "_" or "-" (it becomes part of NATS subjects)`);
  const cluster = f.name as string | undefined;
  if (!cluster && !f.operator) {
    throw new UsageError(
      "missing -name: the NATS cluster to serve, e.g. satellite run -name nats (or -operator to run the NatsCluster operator)",
    );
  }
  if (cluster && !/^[A-Za-z0-9_-]+$/.test(cluster))
    throw new UsageError(`-name ${JSON.stringify(cluster)}: use letters, digits, "_" or "-" (it becomes part of NATS subjects)`);
  const format = f["log-format"] as "json" | "text" | undefined;
  if (format && format !== "json" && format !== "text") throw new UsageError(`-log-format ${format}: use json or text`);
  const workers = Number(f.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new UsageError(`-workers ${f.workers}: use a whole number from 1 to 64`);
  const log: Logger = createLogger({ level: f.D ? "debug" : "info", format });

  const kubeTarget = findKubeTarget({ kubeconfig: f.kubeconfig as string | undefined, context: f.context as string | undefined });
  const namespace = (f.namespace as string | undefined) || kubeTarget.namespace;
  const instance = { id: `${env.POD_NAME || hostname()}-${randomUUID().slice(0, 8)}`, version, startedAt: new Date().toISOString() };
  log.info("starting satellite controller", {
    version,
    runtime: runtimeName(),
    namespace,
    cluster,
    operator: Boolean(f.operator),
    kubernetes: kubeTarget.source,
    instance: instance.id,
  });
  const kube = createKubeClient(kubeTarget, { userAgent: `satellite/${version}` });

  const memory = startMemoryReducer({ log });
  const parts: Part[] = [];
  const starting = new Set<string>();
  let stopping = false;
  // Health first: a NATS server that is down or slow at start must not fail the liveness probe.
  const health = f.health
    ? await serveHealth(
        String(f.health),
        {
          live: () => true,
          ready: () => {
            if (stopping) return { ok: false, reason: "shutting down" };
            const waiting = [...starting, ...parts.filter((p) => !p.ready()).map((p) => p.name)];
            return waiting.length ? { ok: false, reason: `${waiting.join(", ")} not ready` } : { ok: true };
          },
        },
        log,
      )
    : undefined;
  if (f.operator) {
    const controllerImage =
      (f["controller-image"] as string | undefined) || (await ownImage(kube, namespace, env.POD_NAME, log)) || `${defaultImage}:${version}`;
    parts.push(
      startOperatorPart(
        () =>
          startOperator({
            kube,
            namespace: f["all-namespaces"] ? undefined : namespace,
            log,
            controllerImage,
            instance: instance.id,
            workers,
            configApi: f["config-api"] ? { site, instance } : undefined,
          }),
        kube,
        log,
        () => memory.poke(),
        f["leader-elect"] ? { namespace, name: String(f.lease), identity: instance.id } : undefined,
      ),
    );
  }
  if (cluster) {
    const target: Target = { cluster, namespace, configMap: (f.cm as string | undefined) || `${cluster}-config`, key: f.key as string };
    const podSelector = (f.selector as string | undefined) || configApi.serverSelector(cluster);
    starting.add("config API");
    parts.push(
      await startConfigApiPart({
        kube,
        target,
        podSelector,
        instance,
        log,
        nats: natsOptionsFrom(f, `satellite ${cluster} ${instance.id}`),
      }),
    );
    starting.delete("config API");
  }

  const signalled = stopSignal();
  const first = await Promise.race([
    signalled.then((sig) => ({ sig, code: 0 })),
    ...parts.map((p) => p.done.then((code) => ({ sig: undefined, code }))),
  ]);
  stopping = true;
  if (first.sig) log.info("draining", { signal: first.sig });
  await Promise.all(parts.map((p) => p.stop().catch(() => undefined)));
  health?.close();
  memory.stop();
  kube.close();
  if (first.code === 0) log.info("stopped");
  return first.code;
}

const crdRecheckMs = 10_000;

/**
 * The operator, once the API serves satellite's NatsCluster: with an old or foreign CRD it says so
 * once, stays not ready, and looks again every 10 s instead of failing every status write.
 */
function startOperatorPart(
  start: () => Operator,
  kube: KubeClient,
  log: Logger,
  onSynced: () => void,
  election?: { namespace: string; name: string; identity: string },
): Part {
  let op: Operator | undefined;
  let synced = false;
  let standingBy = Boolean(election);
  let leader: LeaderElection | undefined;
  let lost!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    lost = resolve;
  });
  const stopping = new AbortController();
  const stopGauge = gaugeFrom(
    "satellite_operator_leader",
    "1 while this replica runs the operator's reconciles (it holds the Lease, or runs without -leader-elect), else 0.",
    () => [[{}, op ? 1 : 0]],
  );
  const run = () => {
    op = start();
    void op.synced.then(() => {
      synced = true;
      onSynced();
    });
  };
  void (async () => {
    let said: string | undefined;
    while (!stopping.signal.aborted) {
      const problem = await natsClusterApiProblem(kube, { serviceRoles: true }).catch(
        (e) => `cannot read the API server's discovery of nats.io (${(e as Error).message})`,
      );
      if (!problem) break;
      if (problem !== said) log.error(problem);
      said = problem;
      await sleep(crdRecheckMs, stopping.signal);
    }
    if (stopping.signal.aborted) return;
    if (said) log.info("the NatsCluster API is satellite's now; starting the operator");
    if (!election) return run();
    leader = startLeaderElection({
      kube,
      ...election,
      log,
      onLead: () => {
        standingBy = false;
        run();
      },
      onLost: () => lost(1),
    });
  })();
  return {
    name: "operator",
    // A replica standing by is doing its job: ready, so a Deployment's rollout completes.
    ready: () => synced || standingBy,
    stop: async () => {
      stopping.abort();
      await op?.stop();
      await leader?.stop();
      stopGauge();
    },
    done,
  };
}

interface Part {
  name: string;
  ready(): boolean;
  stop(): Promise<void>;
  /** Resolves with an exit code when the part ends by itself. */
  done: Promise<number>;
}

async function startConfigApiPart(d: {
  kube: KubeClient;
  target: Target;
  podSelector: string;
  instance: Instance;
  log: Logger;
  nats: NatsAuthOptions;
}): Promise<Part> {
  const { kube, target, log } = d;
  const nc = await connectNats(d.nats, log);
  const configMapCache = startReflector(kube, kinds.ConfigMap, {
    namespace: target.namespace,
    fieldSelector: `metadata.name=${target.configMap}`,
    log,
  });
  const podCache = startReflector(kube, kinds.Pod, { namespace: target.namespace, labelSelector: d.podSelector, log });
  // Where satellite's NatsCluster API is served: a put's wait follows the operator's own reloads in their status.
  const servesClusters = !(await natsClusterApiProblem(kube).catch((e: Error) => e.message));
  const clusterCache = servesClusters ? startReflector(kube, kinds.NatsCluster, { namespace: target.namespace, log }) : undefined;
  const svc = await startConfigApi({
    nc,
    kube,
    target,
    podSelector: d.podSelector,
    instance: d.instance,
    log,
    configMapCache,
    podCache,
    clusterCache,
  });
  log.info("serving config API", {
    subjects: [
      `_SAT.${target.cluster}.config.get`,
      `_SAT.${target.cluster}.config.put`,
      `_SAT.${target.cluster}.config.rollback`,
      `_SAT.${target.cluster}.status`,
      "_SAT.discover",
    ],
  });
  let stopping = false;
  return {
    name: "config API",
    ready: () => !nc.isClosed(),
    done: nc.closed().then((err) => {
      if (stopping) return 0;
      log.error("NATS connection closed for good", { error: err ? String(err) : undefined });
      return 1;
    }),
    async stop() {
      stopping = true;
      configMapCache.stop();
      podCache.stop();
      clusterCache?.stop();
      await svc.stop().catch(() => undefined);
      // Draining needs the server; when it is gone, give up after a few seconds and close.
      const timer = setTimeout(() => void nc.close(), drainTimeoutMs);
      await nc.drain().catch(() => nc.close());
      clearTimeout(timer);
    },
  };
}

/**
 * The image this operator runs from, read from its own pod: the reloader sidecars then run the same
 * build, also when the manifests' image was overridden (kustomize `images:`, a private registry).
 */
async function ownImage(kube: KubeClient, namespace: string, podName: string | undefined, log: Logger): Promise<string | undefined> {
  if (!podName) return undefined;
  try {
    const pod = await kube.get(kinds.Pod, { namespace, name: podName });
    const containers = pod.spec?.containers ?? [];
    return (containers.find((c) => c.args?.includes("-operator") || c.args?.includes("--operator")) ?? containers[0])?.image;
  } catch (e) {
    log.warn("cannot read this pod's image; reloader sidecars get the default image (set -controller-image)", {
      pod: podName,
      error: (e as Error).message,
    });
    return undefined;
  }
}
