// helm (v4, built by provision.sh) on charts/satellite, as a user runs it.

import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { binaries } from "./binaries.ts";

export const chartDir = fileURLToPath(new URL("../../charts/satellite", import.meta.url));

export interface HelmResult {
  code: number;
  stdout: string;
  /** stderr without helm's note that files/crd.yaml is a symbolic link (to manifests/crd.yaml). */
  stderr: string;
}

let home: string | undefined;

/** Runs helm with `args`; never throws on a non-zero exit (the result says it). */
export function helm(args: string[], opts: { kubeconfig?: string } = {}): Promise<HelmResult> {
  // helm's own state (repositories, registry logins, cache) in a directory of this test run.
  home ??= mkdtempSync(join(tmpdir(), "satellite-helm-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
  };
  if (opts.kubeconfig) env.KUBECONFIG = opts.kubeconfig;
  return new Promise((resolve) => {
    execFile(binaries().HELM_BIN, args, { env, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      const lines = stderr.split("\n").filter((l) => !l.includes("found symbolic link in path"));
      resolve({ code, stdout, stderr: lines.join("\n").trim() });
    });
  });
}

/** helm, failing with its stderr when it exits non-zero. */
export async function helmOk(args: string[], opts: { kubeconfig?: string } = {}): Promise<string> {
  const r = await helm(args, opts);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `helm template` of charts/satellite (or `chart`), parsed: one object per rendered document. */
export async function helmTemplate(args: string[] = [], chart = chartDir): Promise<any[]> {
  const out = await helmOk(["template", "sat", chart, ...args]);
  return parseAllDocuments(out)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === "object");
}
