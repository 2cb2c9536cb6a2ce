import { bootconfig, bootconfigUsage } from "./commands/bootconfig.ts";
import { exporter, exporterUsage } from "./commands/exporter.ts";
import { reloader, reloaderUsage } from "./commands/reloader.ts";
import { run, runUsage } from "./commands/run.ts";
import { UsageError } from "./flags.ts";
import { runtimeName, version } from "./version.ts";

const usage = `satellite ${version}: run and remote-control NATS clusters on Kubernetes

Usage:
  satellite run -name CLUSTER [flags]   serve the config API of a NATS cluster over NATS
  satellite reloader -configmap NAME … sidecar: get config changes onto disk and reloaded in a second
  satellite exporter [-monitor URL] …   sidecar: nats-server's metrics for Prometheus, read at each scrape
  satellite bootconfig [-f FILE] …       init container: the node's address for nats-server to advertise
  satellite version                      print the version
  satellite help [COMMAND]               show help

Flags given without a command mean "run" (compatible with the leaf-controller).
Run "satellite run --help" for its flags.
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    const topics: Record<string, string> = { run: runUsage, reloader: reloaderUsage, exporter: exporterUsage, bootconfig: bootconfigUsage };
    process.stdout.write((cmd === "help" && topics[rest[0] ?? ""]) || usage);
    return 0;
  }
  if (cmd === "version" || cmd === "-v" || cmd === "--version" || cmd === "-version") {
    process.stdout.write(`satellite ${version} (${runtimeName()})\n`);
    return 0;
  }
  if (cmd === "run") return run(rest, process.env);
  if (cmd === "reloader") return reloader(rest, process.env);
  if (cmd === "exporter") return exporter(rest, process.env);
  if (cmd === "bootconfig") return bootconfig(rest, process.env);
  if (cmd.startsWith("-")) return run(argv, process.env);
  throw new UsageError(`unknown command ${JSON.stringify(cmd)}: use run, reloader, exporter, bootconfig or version (see satellite help)`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`satellite: ${e.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`satellite: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
