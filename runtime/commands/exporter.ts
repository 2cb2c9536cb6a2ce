import { createServer } from "node:http";
import {
  type JszDetail,
  jszDetails,
  type MonitorAnswer,
  type MonitorEndpoint,
  monitorEndpoints,
  monitorPath,
  natsServerMetrics,
  parseDuration,
  serverIdOf,
} from "../../handlers/index.ts";
import { type FlagSpec, flagHelp, parseFlags, UsageError } from "../flags.ts";
import { listenAddress } from "../health.ts";
import { createLogger, type Logger } from "../log.ts";
import { memoryMetricNames, startMemoryReducer } from "../memory.ts";
import { renderFamilies, renderMetrics } from "../metrics.ts";
import { monitorGet } from "../reloader/server.ts";
import { stopSignal } from "../stop-signal.ts";
import { runtimeName, version } from "../version.ts";

export const exporterFlags: FlagSpec[] = [
  { names: ["monitor"], arg: "URL", help: "nats-server's monitoring endpoint (http or https)", default: "http://127.0.0.1:8222" },
  {
    names: ["listen"],
    arg: "ADDR",
    help: "serve /metrics (and /healthz, the exporter's own) on this host:port or :port",
    default: ":7777",
  },
  {
    names: ["endpoints"],
    arg: "LIST",
    help: `which of nats-server's endpoints to read at each scrape, comma-separated, of ${monitorEndpoints.join(", ")} (/varz is read anyway: it names the server)`,
    default: "varz,connz,routez,subz,healthz,jsz",
  },
  {
    names: ["jsz"],
    arg: "DETAIL",
    help: "how much of JetStream: server (its totals), accounts, streams, or consumers (each includes the ones before)",
    default: "server",
  },
  {
    names: ["timeout"],
    arg: "DURATION",
    help: "how long each endpoint may stay silent at a scrape before it counts as not answering",
    default: "3s",
  },
  { names: ["log-format"], arg: "json|text", help: "log format (default: text on a terminal, json otherwise)" },
  { names: ["D", "debug"], boolean: true, help: "debug logging" },
  { names: ["help", "h"], boolean: true, help: "show this help" },
];

export const exporterUsage = `Usage: satellite exporter [-monitor URL] [-listen ADDR] [flags]

A sidecar next to nats-server: at each scrape of /metrics it reads the server's monitoring
endpoints and answers with their values in the Prometheus text format, named as
prometheus-nats-exporter names them with -prefix=nats -use_internal_server_id
(nats_varz_slow_consumers{server_id="…"}), plus nats_up: 0 when the server does not answer.

Flags:
${flagHelp(exporterFlags)}
`;

interface ExporterOptions {
  monitor: URL;
  endpoints: MonitorEndpoint[];
  jsz: JszDetail;
  timeoutMs: number;
}

function options(f: Record<string, unknown>): ExporterOptions {
  let monitor: URL;
  try {
    monitor = new URL(String(f.monitor));
  } catch {
    throw new UsageError(`-monitor ${JSON.stringify(f.monitor)} is not a URL: use e.g. http://127.0.0.1:8222`);
  }
  if (monitor.protocol !== "http:" && monitor.protocol !== "https:")
    throw new UsageError(`-monitor ${monitor.href}: use an http:// or https:// URL (nats-server's http or https listener)`);
  const endpoints = [
    ...new Set(
      String(f.endpoints)
        .split(",")
        .map((e) => e.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = endpoints.find((e) => !monitorEndpoints.includes(e as MonitorEndpoint));
  if (unknown !== undefined) throw new UsageError(`-endpoints: ${JSON.stringify(unknown)} is not one of ${monitorEndpoints.join(", ")}`);
  if (!endpoints.length) throw new UsageError(`-endpoints is empty: give some of ${monitorEndpoints.join(", ")}`);
  const jsz = String(f.jsz) as JszDetail;
  if (!jszDetails.includes(jsz)) throw new UsageError(`-jsz ${JSON.stringify(f.jsz)}: use one of ${jszDetails.join(", ")}`);
  const timeoutMs = parseDuration(f.timeout);
  if (!timeoutMs || timeoutMs > 60_000) throw new UsageError(`-timeout ${f.timeout}: use a duration from 1ms to 1m, e.g. 3s`);
  return { monitor, endpoints: endpoints as MonitorEndpoint[], jsz, timeoutMs };
}

/** One endpoint's JSON. /healthz answers 503 with a JSON body saying why: that is an answer too. */
async function ask(o: ExporterOptions, e: MonitorEndpoint): Promise<MonitorAnswer> {
  try {
    return { json: await monitorGet(o.monitor.href, monitorPath(e, o.jsz), { timeoutMs: o.timeoutMs, jsonOnError: e === "healthz" }) };
  } catch (err) {
    const m = (err as Error).message;
    return { error: m.startsWith("GET ") ? m : `GET /${monitorPath(e, o.jsz)}: ${m}` };
  }
}

/** Reads the endpoints (in parallel) and renders them; remembers the server's ID for when it stops answering. */
function scraper(o: ExporterOptions, log: Logger): () => Promise<string> {
  let lastServerId: string | undefined;
  let failing = new Set<string>();
  const asked = o.endpoints.includes("varz") ? o.endpoints : (["varz", ...o.endpoints] as MonitorEndpoint[]);
  return async () => {
    const answers = Object.fromEntries(await Promise.all(asked.map(async (e) => [e, await ask(o, e)] as const)));
    const errors = Object.values(answers).flatMap((a) => ("error" in a ? [a.error] : []));
    // Logged when an endpoint starts or stops failing, not at every scrape.
    const now = new Set(Object.keys(answers).filter((e) => "error" in answers[e]!));
    if (errors.length && [...now].some((e) => !failing.has(e))) log.warn("nats-server did not answer", { monitor: o.monitor.href, errors });
    if (!errors.length && failing.size) log.info("nats-server answers again", { monitor: o.monitor.href });
    failing = now;
    lastServerId = serverIdOf(answers) ?? lastServerId;
    return (
      renderFamilies(natsServerMetrics({ endpoints: o.endpoints, answers, lastServerId })) +
      renderMetrics((n) => memoryMetricNames.includes(n))
    );
  };
}

export async function exporter(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values: f, rest } = parseFlags(exporterFlags, argv, env);
  if (f.help) {
    process.stdout.write(exporterUsage);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}: see satellite exporter --help`);
  const o = options(f);
  let addr: { host: string; port: number };
  try {
    addr = listenAddress("listen", String(f.listen), ":7777");
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const log = createLogger(
    { level: f.D ? "debug" : "info", format: f["log-format"] as "json" | "text" | undefined },
    { component: "exporter" },
  );
  const scrape = scraper(o, log);
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/metrics") {
      scrape().then(
        (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(text),
        (e: Error) => {
          log.error("cannot render /metrics", { error: e.message });
          res.writeHead(500, { "content-type": "text/plain" }).end(`cannot render the metrics: ${e.message}\n`);
        },
      );
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("try /metrics\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`-listen ${f.listen}: cannot listen (${e.message})`)));
    server.listen(addr.port, addr.host, resolve);
  });
  log.info("satellite exporter", {
    version,
    runtime: runtimeName(),
    listen: server.address(),
    monitor: o.monitor.href,
    endpoints: o.endpoints,
    jsz: o.jsz,
  });
  const memory = startMemoryReducer({ log });
  memory.poke(5_000);
  const sigName = await stopSignal();
  log.info("stopping", { signal: sigName });
  memory.stop();
  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(resolve));
  return 0;
}
