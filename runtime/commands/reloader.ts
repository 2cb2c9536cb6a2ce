import { hostname } from "node:os";
import { basename } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { type ConfigObject, kinds, parseDuration, type ResourceType, reloaderRoutes } from "../../handlers/index.ts";
import { type FlagSpec, flagHelp, parseFlags, UsageError } from "../flags.ts";
import { createKubeClient } from "../kube/client.ts";
import { findKubeTarget } from "../kube/kubeconfig.ts";
import { createLogger, type Logger } from "../log.ts";
import { startMemoryReducer } from "../memory.ts";
import { connectNats } from "../nats/connect.ts";
import { natsFlags, natsOptionsFrom } from "../nats/flags.ts";
import { monitorOfConfig, readConfigTree, startFileReloader } from "../reloader/file-mode.ts";
import { writeFilesAtomically } from "../reloader/files.ts";
import { type ReportLink, startReportLink } from "../reloader/report-link.ts";
import { serverControl } from "../reloader/server.ts";
import { startWatchReloader } from "../reloader/watch.ts";
import { stopSignal } from "../stop-signal.ts";
import { runtimeName, version } from "../version.ts";

export const reloaderFlags: FlagSpec[] = [
  { names: ["configmap"], arg: "NAME", help: "watch this ConfigMap through the Kubernetes API and write its keys into -dir" },
  { names: ["secret"], arg: "NAME", help: "watch this Secret through the Kubernetes API and write its keys into -dir" },
  { names: ["dir"], arg: "DIR", help: "directory nats-server reads its config files from", default: "/etc/nats-config" },
  { names: ["entry"], arg: "FILE", help: "the config file nats-server is started with, in -dir", default: "nats.conf" },
  {
    names: ["config"],
    arg: "FILE",
    repeat: true,
    help: "file mode: a config file to watch (repeat for several), as nats-server-config-reloader",
  },
  {
    names: ["settle"],
    arg: "DURATION",
    help: "file mode: reload only after the files were quiet this long (e.g. 150ms), so a burst of changes is one reload of its last version (default 0: reload at once; a burst is then at most its first and its last)",
    default: "0s",
  },
  { names: ["pid", "P"], arg: "FILE", help: "nats-server's pid file", default: "/var/run/nats/nats.pid" },
  { names: ["signal"], arg: "SIG", help: "signal that makes nats-server reload", default: "HUP" },
  {
    names: ["monitor"],
    arg: "URL",
    help: "nats-server's monitoring endpoint, to confirm reloads (default: the http/https of its config in file mode, else http://127.0.0.1:8222; file mode with none signals unconfirmed)",
  },
  {
    names: ["reload-via"],
    arg: "signal|system",
    help: "reload by signal, or by $SYS.REQ.SERVER.<id>.RELOAD (nats-server 2.10+, needs -sys-*)",
    default: "signal",
  },
  { names: ["sys-creds"], arg: "FILE", help: "system-account credentials for -reload-via system" },
  { names: ["sys-user"], arg: "USER", help: "system-account user for -reload-via system" },
  { names: ["sys-password"], arg: "PASS", help: "system-account password for -reload-via system", env: ["NATS_SYS_PASSWORD"] },
  { names: ["cluster"], arg: "NAME", help: "publish each outcome on _SAT.<NAME>.reload.<pod> (for config.put's wait)" },
  ...natsFlags,
  {
    names: ["namespace", "n"],
    arg: "NS",
    help: 'namespace of the object (default: the kubeconfig\'s, else "default")',
    env: ["POD_NAMESPACE"],
  },
  {
    names: ["kubeconfig"],
    arg: "FILE",
    help: "kubeconfig file (default: in-cluster service account, else ~/.kube/config)",
    env: ["KUBECONFIG", "KUBERNETES_CONFIG_FILE"],
  },
  { names: ["context"], arg: "NAME", help: "kubeconfig context to use" },
  { names: ["once"], boolean: true, help: "write the files once and exit (an init container, before nats-server starts)" },
  { names: ["log-format"], arg: "json|text", help: "log format (default: text on a terminal, json otherwise)" },
  { names: ["D", "debug"], boolean: true, help: "debug logging" },
  { names: ["help", "h"], boolean: true, help: "show this help" },
];

export const reloaderUsage = `Usage: satellite reloader -configmap NAME | -secret NAME [flags]     (watch mode)
       satellite reloader -config FILE [-config FILE …] [flags]       (file mode)

A sidecar next to nats-server (shareProcessNamespace: true, shared pid and config directories).
Watch mode follows the object through the Kubernetes API — about a second, not the kubelet's
minute — writes changed files atomically, reloads nats-server once per real change, confirms it
through /varz, and puts the last good files back when nats-server refuses a config.

Flags:
${flagHelp(reloaderFlags)}
`;

const signals = ["HUP", "USR1", "USR2", "TERM", "INT", "QUIT"];

export async function reloader(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: f, rest } = parseFlags(reloaderFlags, argv, env);
  if (f.help) {
    process.stdout.write(reloaderUsage);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}: see satellite reloader --help`);
  const files = (f.config as string[] | undefined) ?? [];
  const objectKinds = [f.configmap && "ConfigMap", f.secret && "Secret"].filter(Boolean);
  if (objectKinds.length > 1) throw new UsageError("give -configmap or -secret, not both");
  if (!objectKinds.length && !files.length)
    throw new UsageError("nothing to watch: give -configmap NAME or -secret NAME (watch mode), or -config FILE (file mode)");
  if (objectKinds.length && files.length)
    throw new UsageError("-config (file mode) and -configmap/-secret (watch mode) do not go together");
  const sig = String(f.signal).toUpperCase().replace(/^SIG/, "");
  if (!signals.includes(sig)) throw new UsageError(`-signal ${f.signal}: use one of ${signals.join(", ")}`);
  const settleMs = parseDuration(f.settle);
  if (settleMs === undefined || settleMs > 60_000) throw new UsageError(`-settle ${f.settle}: use a duration from 0s to 1m, e.g. 150ms`);
  if (settleMs && !files.length)
    throw new UsageError("-settle is for file mode (-config); watch mode reloads once per change of the object");
  const via = String(f["reload-via"]);
  if (via !== "signal" && via !== "system") throw new UsageError(`-reload-via ${via}: use signal or system`);
  if (via === "system" && !f["sys-creds"] && !f["sys-user"])
    throw new UsageError("-reload-via system needs -sys-creds or -sys-user/-sys-password");
  const format = f["log-format"] as "json" | "text" | undefined;
  const log = createLogger({ level: f.D ? "debug" : "info", format }, { component: "reloader" });
  const pod = env.POD_NAME || hostname();

  let sys: NatsConnection | undefined;
  let reports: ReportLink | undefined;
  const closers: (() => unknown)[] = [];
  if (via === "system") {
    const o = natsOptionsFrom(f, `satellite reloader ${pod} (system)`);
    sys = await connectNats(
      {
        ...o,
        creds: f["sys-creds"] as string | undefined,
        user: f["sys-user"] as string | undefined,
        password: f["sys-password"] as string | undefined,
        token: undefined,
        nkey: undefined,
      },
      log,
    );
    closers.push(() => sys!.close());
  }
  const monitorUrl = (f.monitor as string | undefined) || (files.length ? monitorFromConfig(files, log) : "http://127.0.0.1:8222");
  const server = serverControl({ monitorUrl, pidFile: String(f.pid), signal: `SIG${sig}` as NodeJS.Signals, sys });

  if (files.length) {
    log.info("satellite reloader (file mode)", {
      version,
      runtime: runtimeName(),
      files: [...readConfigTree(files).keys()],
      pid: f.pid,
      signal: sig,
      monitor: monitorUrl ?? "none: reloads are signalled, not confirmed",
    });
    const fr = startFileReloader({ files, reload: () => server.reload(), log, settleMs });
    closers.push(() => fr.stop());
  } else {
    const kind = objectKinds[0] as "ConfigMap" | "Secret";
    const name = String(kind === "Secret" ? f.secret : f.configmap);
    const target = findKubeTarget({ kubeconfig: f.kubeconfig as string | undefined, context: f.context as string | undefined });
    const namespace = (f.namespace as string | undefined) || target.namespace;
    const kube = createKubeClient(target, { userAgent: `satellite-reloader/${version}` });
    closers.push(() => kube.close());
    if (f.once) {
      try {
        const o = await kube.get(kinds[kind] as ResourceType<ConfigObject>, { namespace, name });
        const data = reloaderRoutes.filesOf({ kind, data: o.data });
        if (data[basename(String(f.entry))] === undefined)
          throw new Error(`${kind.toLowerCase()} "${name}" has no key "${basename(String(f.entry))}"`);
        writeFilesAtomically(String(f.dir), data);
        log.info("config written", { kind, name, namespace, dir: f.dir, files: Object.keys(data), revision: o.metadata.resourceVersion });
        return 0;
      } finally {
        kube.close();
      }
    }
    if (f.cluster) {
      reports = startReportLink(natsOptionsFrom(f, `satellite reloader ${pod}`), log);
      closers.push(() => reports!.close());
    }
    log.info("satellite reloader (watch mode)", {
      version,
      runtime: runtimeName(),
      kind,
      name,
      namespace,
      dir: f.dir,
      entry: f.entry,
      reloadVia: via,
      pod,
    });
    const w = startWatchReloader({
      kube,
      kind,
      name,
      namespace,
      dir: String(f.dir),
      entry: basename(String(f.entry)),
      server,
      log,
      reports,
      cluster: f.cluster as string | undefined,
      pod,
    });
    closers.unshift(() => w.stop());
  }

  const memory = startMemoryReducer({ log });
  memory.poke(5_000);
  closers.push(() => memory.stop());
  const sigName = await stopSignal();
  log.info("stopping", { signal: sigName });
  for (const c of closers) await c();
  return 0;
}

function monitorFromConfig(files: string[], log: Logger): string | undefined {
  const found = monitorOfConfig(files);
  if (!("error" in found)) return found.url;
  log.warn("cannot read the monitoring endpoint from nats-server's config; reloads are signalled, not confirmed (or pass -monitor)", {
    error: found.error.message,
  });
  return undefined;
}
