import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Binaries {
  NATS_SERVER_BIN: string;
  NATS_SERVER_OLD_BIN: string;
  /** nats-server 2.0.0, 2.1.9 and 2.6.1 (releases nats-operator users run), colon-separated. */
  NATS_SERVER_LEGACY_BINS: string;
  ETCD_BIN: string;
  KUBE_APISERVER_BIN: string;
  NATS_CLI_BIN: string;
  /** nsc: operators, accounts and users as JWTs. */
  NSC_BIN: string;
  NODE_LTS_BIN: string;
  CACHE_DIR: string;
  /** Why the real node cannot run here, in one sentence; empty when it can. */
  REALNODE_UNAVAILABLE: string;
  K8S_BIN_DIR: string;
  COREDNS_BIN: string;
  PAUSE_BIN: string;
  /** An older real nats-server release (upgrade tests). */
  NATS_SERVER_PREV_BIN: string;
  /** nats-server 2.1.7, the version two of nats-operator's examples pin (real node only). */
  NATS_SERVER_EXAMPLE_BIN: string;
  /** nats-server 2.2.0, standing in for the nightly build websocket.yaml runs (real node only). */
  NATS_SERVER_NIGHTLY_STANDIN_BIN: string;
  /** crane, whose registry stands in for Docker Hub on the real node (real node only). */
  CRANE_BIN: string;
  /** Debian's static busybox: the shell of the nats-box stand-in image (real node only). */
  BUSYBOX_BIN: string;
  /** nack's nats-server-config-reloader, the file-mode reloader's peer in the bench. */
  NACK_RELOADER_BIN: string;
  /** nats-operator v0.8.3, whose clusters satellite adopts (real node only). */
  NATS_OPERATOR_BIN: string;
  /** A directory holding nats-operator v0.8.3's example manifests (its module's example/). */
  NATS_OPERATOR_EXAMPLES: string;
  /** helm v4.3.2, to lint, render and install charts/satellite. */
  HELM_BIN: string;
  /** promtool (Debian's prometheus package): checks /metrics and the alert rules. */
  PROMTOOL_BIN: string;
  /** Prometheus 3 (with Kubernetes service discovery), built from the Go module proxy. */
  PROMETHEUS_BIN: string;
}

const script = fileURLToPath(new URL("./provision.sh", import.meta.url));
let cached: Binaries | undefined;

/** Runs provision.sh once (it is idempotent and fast once the cache is warm). */
export function binaries(): Binaries {
  if (cached) return cached;
  const keys = [
    "NATS_SERVER_BIN",
    "NATS_SERVER_OLD_BIN",
    "NATS_SERVER_LEGACY_BINS",
    "ETCD_BIN",
    "KUBE_APISERVER_BIN",
    "NATS_CLI_BIN",
    "NSC_BIN",
    "NODE_LTS_BIN",
    "CACHE_DIR",
    "REALNODE_UNAVAILABLE",
    "NATS_OPERATOR_EXAMPLES",
    "HELM_BIN",
    "PROMTOOL_BIN",
    "PROMETHEUS_BIN",
  ] as const;
  // Set by a parent that already provisioned (vitest's global setup, npm run dev).
  if (keys.every((k) => process.env[k] !== undefined)) {
    const realNode = ["K8S_BIN_DIR", "COREDNS_BIN", "PAUSE_BIN", "NATS_SERVER_PREV_BIN", "NACK_RELOADER_BIN", "NATS_OPERATOR_BIN"];
    const examples = ["NATS_SERVER_EXAMPLE_BIN", "NATS_SERVER_NIGHTLY_STANDIN_BIN", "CRANE_BIN", "BUSYBOX_BIN"];
    const all = [...keys, ...realNode, ...examples];
    cached = Object.fromEntries(all.map((k) => [k, process.env[k] ?? ""])) as unknown as Binaries;
    return cached;
  }
  let out: string;
  try {
    out = execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  } catch {
    throw new Error("the test bed's binaries could not be provisioned (see the provision: lines above)");
  }
  const found: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) found[m[1]!] = m[2]!;
  }
  cached = found as unknown as Binaries;
  Object.assign(process.env, found);
  return cached;
}

/** promtool, or an error saying how to get it (provision.sh installs it where it can). */
export function promtoolBin(): string {
  const bin = binaries().PROMTOOL_BIN;
  if (!bin) throw new Error("promtool is missing: install Debian's prometheus package (apt-get install prometheus), or set PROMTOOL_BIN");
  return bin;
}
