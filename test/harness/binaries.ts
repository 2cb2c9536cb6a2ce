import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Binaries {
  NATS_SERVER_BIN: string;
  NATS_SERVER_OLD_BIN: string;
  ETCD_BIN: string;
  KUBE_APISERVER_BIN: string;
  NATS_CLI_BIN: string;
  NODE_LTS_BIN: string;
}

const script = fileURLToPath(new URL("./provision.sh", import.meta.url));
let cached: Binaries | undefined;

/** Runs provision.sh once (it is idempotent and fast once the cache is warm). */
export function binaries(): Binaries {
  if (cached) return cached;
  if (process.env.ETCD_BIN && process.env.KUBE_APISERVER_BIN && process.env.NATS_SERVER_BIN && process.env.NATS_CLI_BIN && process.env.NODE_LTS_BIN && process.env.NATS_SERVER_OLD_BIN !== undefined) {
    cached = {
      NATS_SERVER_BIN: process.env.NATS_SERVER_BIN,
      NATS_SERVER_OLD_BIN: process.env.NATS_SERVER_OLD_BIN,
      ETCD_BIN: process.env.ETCD_BIN,
      KUBE_APISERVER_BIN: process.env.KUBE_APISERVER_BIN,
      NATS_CLI_BIN: process.env.NATS_CLI_BIN,
      NODE_LTS_BIN: process.env.NODE_LTS_BIN,
    };
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
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) found[m[1]!] = m[2]!;
  }
  cached = found as unknown as Binaries;
  Object.assign(process.env, found);
  return cached;
}
