import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { ExecConfig, KubeTarget } from "./kubeconfig.ts";

export interface Credentials {
  authorization?: string;
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** Yields the current credentials; `refresh` forgets cached ones after a 401. */
export interface CredentialSource {
  get(): Promise<Credentials>;
  refresh(): void;
}

const TOKEN_FILE_TTL_MS = 60_000;

export function credentialSource(target: KubeTarget, now: () => number = Date.now): CredentialSource {
  if (target.exec) return execSource(target.exec, now);
  if (target.tokenFile) return tokenFileSource(target.tokenFile, now);
  const fixed: Credentials = {};
  if (target.token) fixed.authorization = `Bearer ${target.token}`;
  else if (target.username) {
    fixed.authorization = `Basic ${Buffer.from(`${target.username}:${target.password ?? ""}`).toString("base64")}`;
  }
  return { get: async () => fixed, refresh() {} };
}

/** A projected service-account token rotates: re-read it every minute, as client-go does. */
function tokenFileSource(path: string, now: () => number): CredentialSource {
  let cached: { value: string; at: number } | undefined;
  return {
    async get() {
      if (!cached || now() - cached.at > TOKEN_FILE_TTL_MS) {
        let token: string;
        try {
          token = readFileSync(path, "utf8").trim();
        } catch (e) {
          throw new Error(`cannot read the service-account token ${path}: ${(e as Error).message}`);
        }
        cached = { value: token, at: now() };
      }
      return { authorization: `Bearer ${cached.value}` };
    },
    refresh() {
      cached = undefined;
    },
  };
}

interface ExecStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

function execSource(cfg: ExecConfig, now: () => number): CredentialSource {
  let cached: { creds: Credentials; expires: number } | undefined;
  let pending: Promise<Credentials> | undefined;
  const run = async (): Promise<Credentials> => {
    const status = await runExecPlugin(cfg);
    const creds: Credentials = status.token
      ? { authorization: `Bearer ${status.token}` }
      : { cert: status.clientCertificateData, key: status.clientKeyData };
    const expires = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Infinity;
    cached = { creds, expires };
    return creds;
  };
  return {
    async get() {
      if (cached && now() < cached.expires - 10_000) return cached.creds;
      pending ??= run().finally(() => (pending = undefined));
      return pending;
    },
    refresh() {
      cached = undefined;
    },
  };
}

async function runExecPlugin(cfg: ExecConfig): Promise<ExecStatus> {
  // Loaded only here: node:child_process costs every other process 0.6 MB (Node 24).
  const { execFile } = await import("node:child_process");
  const command = cfg.command.includes("/") && !isAbsolute(cfg.command) ? join(cfg.baseDir, cfg.command) : cfg.command;
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const e of cfg.env) env[e.name] = e.value;
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: cfg.apiVersion, kind: "ExecCredential", spec: { interactive: false } });
  return new Promise((resolve, reject) => {
    execFile(command, cfg.args, { env, timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`kubeconfig exec plugin "${cfg.command}" failed: ${String(stderr).trim() || err.message}`));
        return;
      }
      try {
        const status = JSON.parse(stdout).status as ExecStatus | undefined;
        if (!status?.token && !(status?.clientCertificateData && status.clientKeyData))
          throw new Error("no token or client certificate in status");
        resolve(status);
      } catch (e) {
        reject(new Error(`kubeconfig exec plugin "${cfg.command}" printed no usable ExecCredential: ${(e as Error).message}`));
      }
    });
  });
}
