import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parseYaml } from "./yaml.ts";

/** Everything needed to reach and authenticate to one API server. */
export interface KubeTarget {
  server: string;
  namespace: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTLSVerify?: boolean;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  source: string;
}

export interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  /** Directory of the kubeconfig, for resolving a relative command. */
  baseDir: string;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * Finds the API server the way kubectl and client-go do: an explicit path,
 * then KUBECONFIG / KUBERNETES_CONFIG_FILE, then the in-cluster service
 * account, then ~/.kube/config.
 */
export function findKubeTarget(opts: { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv; saDir?: string } = {}): KubeTarget {
  const env = opts.env ?? process.env;
  const explicit = opts.kubeconfig || env.KUBECONFIG?.split(":").find((p) => p) || env.KUBERNETES_CONFIG_FILE;
  if (explicit) return loadKubeconfig(explicit, opts.context);
  const saDir = opts.saDir ?? SERVICE_ACCOUNT_DIR;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(join(saDir, "token"))) return inClusterTarget(env, saDir);
  const home = join(env.HOME ?? "", ".kube", "config");
  if (existsSync(home)) return loadKubeconfig(home, opts.context);
  throw new Error(
    "no Kubernetes API server configured: set KUBECONFIG (or KUBERNETES_CONFIG_FILE, or -kubeconfig) to a kubeconfig file, or run in a pod with a service account",
  );
}

export function inClusterTarget(env: NodeJS.ProcessEnv, saDir = SERVICE_ACCOUNT_DIR): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST!;
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const nsFile = join(saDir, "namespace");
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    namespace: existsSync(nsFile) ? readFileSync(nsFile, "utf8").trim() : "default",
    ca: readFileSync(join(saDir, "ca.crt")),
    tokenFile: join(saDir, "token"),
    source: `in-cluster service account (${saDir})`,
  };
}

type Named<T> = { name: string } & T;
interface RawKubeconfig {
  "current-context"?: string;
  // biome-ignore lint/suspicious/noExplicitAny: a user's YAML, read field by field below.
  clusters?: Named<{ cluster: Record<string, any> }>[];
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  users?: Named<{ user: Record<string, any> }>[];
  contexts?: Named<{ context: { cluster: string; user?: string; namespace?: string } }>[];
}

export function loadKubeconfig(path: string, contextName?: string): KubeTarget {
  let raw: RawKubeconfig;
  try {
    raw = (parseYaml(readFileSync(path, "utf8")) ?? {}) as RawKubeconfig;
  } catch (e) {
    throw new Error(`cannot read kubeconfig ${path}: ${(e as Error).message}`);
  }
  return parseKubeconfig(raw, dirname(path), path, contextName);
}

export function parseKubeconfig(raw: RawKubeconfig, baseDir: string, source: string, contextName?: string): KubeTarget {
  const want = contextName || raw["current-context"];
  const ctx = raw.contexts?.find((c) => c.name === want) ?? (want ? undefined : raw.contexts?.[0]);
  if (!ctx) throw new Error(`kubeconfig ${source}: context "${want ?? ""}" not found: pick one of ${names(raw.contexts)}`);
  const cluster = raw.clusters?.find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig ${source}: cluster "${ctx.context.cluster}" not found or has no server`);
  const user = raw.users?.find((u) => u.name === ctx.context.user)?.user ?? {};
  const file = (p: string | undefined) => (p ? readFileSync(isAbsolute(p) ? p : join(baseDir, p)) : undefined);
  const data = (d: string | undefined) => (d ? Buffer.from(d, "base64") : undefined);
  const target: KubeTarget = {
    server: String(cluster.server).replace(/\/+$/, ""),
    namespace: ctx.context.namespace || "default",
    ca: data(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"]),
    insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] === true,
    cert: data(user["client-certificate-data"]) ?? file(user["client-certificate"]),
    key: data(user["client-key-data"]) ?? file(user["client-key"]),
    token: user.token,
    tokenFile: user.tokenFile ? (isAbsolute(user.tokenFile) ? user.tokenFile : join(baseDir, user.tokenFile)) : undefined,
    username: user.username,
    password: user.password,
    source: `kubeconfig ${source}, context "${ctx.name}"`,
  };
  if (user.exec) {
    target.exec = {
      command: user.exec.command,
      args: user.exec.args ?? [],
      env: user.exec.env ?? [],
      apiVersion: user.exec.apiVersion ?? "client.authentication.k8s.io/v1",
      baseDir,
    };
  }
  if (user["auth-provider"]) {
    throw new Error(
      `kubeconfig ${source}: auth-provider "${user["auth-provider"].name}" is not supported: use an exec credential plugin instead`,
    );
  }
  return target;
}

function names(list: { name: string }[] | undefined): string {
  return list?.length ? list.map((c) => `"${c.name}"`).join(", ") : "(none defined)";
}
