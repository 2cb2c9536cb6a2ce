import { hostname } from "node:os";
import type { Target } from "../../handlers/types.ts";
import { startConfigApi } from "../config-api.ts";
import { flagHelp, parseFlags, UsageError, type FlagSpec } from "../flags.ts";
import { serveHealth } from "../health.ts";
import { createKubeClient } from "../kube/client.ts";
import { findKubeTarget } from "../kube/kubeconfig.ts";
import { startReflector } from "../kube/reflector.ts";
import { configMaps } from "../kube/resources.ts";
import type { ConfigMap } from "../../handlers/types.ts";
import { createLogger, type Logger } from "../log.ts";
import { connectNats } from "../nats/connect.ts";
import { natsFlags, natsOptionsFrom } from "../nats/flags.ts";
import { version } from "../version.ts";

export const runFlags: FlagSpec[] = [
  ...natsFlags,
  { names: ["name"], arg: "CLUSTER", help: "NATS cluster to serve: answers _SAT.<CLUSTER>.config.get|put and .status", env: ["SATELLITE_CLUSTER"] },
  { names: ["cm", "configmap"], arg: "NAME", help: "ConfigMap holding the cluster's routes (default <CLUSTER>-config)" },
  { names: ["key"], arg: "KEY", help: "key of the routes file in the ConfigMap", default: "routes.json" },
  { names: ["namespace", "n"], arg: "NS", help: "namespace of the ConfigMap and pods (default: the kubeconfig's, else \"default\")", env: ["POD_NAMESPACE"] },
  { names: ["selector", "l"], arg: "SELECTOR", help: "label selector of the cluster's server pods, for status (default app=<CLUSTER>)" },
  { names: ["kubeconfig"], arg: "FILE", help: "kubeconfig file (default: in-cluster service account, else ~/.kube/config)", env: ["KUBECONFIG", "KUBERNETES_CONFIG_FILE"] },
  { names: ["context"], arg: "NAME", help: "kubeconfig context to use (default: its current-context)" },
  { names: ["health"], arg: "ADDR", help: "serve /healthz and /readyz on this address, e.g. :8081 (default: off)" },
  { names: ["log-format"], arg: "json|text", help: "log format (default: text on a terminal, json otherwise)" },
  { names: ["D", "debug"], boolean: true, help: "debug logging" },
  { names: ["v", "version"], boolean: true, help: "print the version and exit" },
  { names: ["help", "h"], boolean: true, help: "show this help" },
];

export const runUsage = `Usage: satellite run -name CLUSTER [flags]

Serves the config API of one NATS cluster over NATS:
  _SAT.<CLUSTER>.config.get   current name, routes and revision
  _SAT.<CLUSTER>.config.put   {"name": "...", "routes": ["nats://host:6222"], "revision": "..."}
  _SAT.<CLUSTER>.status       config revision and the server pods' readiness
  _SAT.discover               every controller answers with its cluster and instance

Flags:
${flagHelp(runFlags)}
`;

const drainTimeoutMs = 5_000;

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: f, rest } = parseFlags(runFlags, argv, env);
  if (f.help) {
    process.stdout.write(runUsage);
    return 0;
  }
  if (f.v) {
    process.stdout.write(`satellite ${version}\n`);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}: see satellite run --help`);
  const cluster = f.name as string | undefined;
  if (!cluster) throw new UsageError("missing -name: the NATS cluster to serve, e.g. satellite run -name nats");
  if (!/^[A-Za-z0-9_-]+$/.test(cluster)) throw new UsageError(`-name ${JSON.stringify(cluster)}: use letters, digits, "_" or "-" (it becomes part of NATS subjects)`);
  const format = f["log-format"] as "json" | "text" | undefined;
  if (format && format !== "json" && format !== "text") throw new UsageError(`-log-format ${format}: use json or text`);
  const log: Logger = createLogger({ level: f.D ? "debug" : "info", format });

  const kubeTarget = findKubeTarget({ kubeconfig: f.kubeconfig as string | undefined, context: f.context as string | undefined });
  const target: Target = {
    cluster,
    namespace: (f.namespace as string | undefined) || kubeTarget.namespace,
    configMap: (f.cm as string | undefined) || `${cluster}-config`,
    key: f.key as string,
  };
  const podSelector = (f.selector as string | undefined) || `app=${cluster}`;
  const instance = { id: `${env.POD_NAME || hostname()}-${crypto.randomUUID().slice(0, 8)}`, version, startedAt: new Date().toISOString() };
  log.info("starting satellite controller", { version, ...target, kubernetes: kubeTarget.source, instance: instance.id });

  const kube = createKubeClient(kubeTarget, { userAgent: `satellite/${version}` });
  const natsOpts = natsOptionsFrom(f, `satellite ${cluster} ${instance.id}`);
  const nc = await connectNats(natsOpts, log);
  const configMapCache = startReflector<ConfigMap>(kube, configMaps, { namespace: target.namespace, fieldSelector: `metadata.name=${target.configMap}`, log });
  const svc = await startConfigApi({ nc, kube, target, podSelector, instance, log, configMapCache });
  log.info("serving config API", { subjects: [`_SAT.${cluster}.config.get`, `_SAT.${cluster}.config.put`, `_SAT.${cluster}.status`, "_SAT.discover"] });

  let stopping = false;
  const health = f.health
    ? await serveHealth(String(f.health), {
        live: () => !nc.isClosed(),
        ready: () => (stopping ? { ok: false, reason: "shutting down" } : nc.isClosed() ? { ok: false, reason: "NATS connection closed" } : { ok: true }),
      }, log)
    : undefined;

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("draining", { signal });
    await svc.stop().catch(() => undefined);
    // Draining needs the server; when it is gone, give up after a few seconds and close.
    const timer = setTimeout(() => void nc.close(), drainTimeoutMs);
    await nc.drain().catch(() => nc.close());
    clearTimeout(timer);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));

  const closed = await nc.closed();
  health?.close();
  configMapCache.stop();
  kube.close();
  if (stopping) {
    log.info("stopped");
    return 0;
  }
  log.error("NATS connection closed for good", { error: closed ? String(closed) : undefined });
  return 1;
}
