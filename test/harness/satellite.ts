import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { binaries } from "./binaries.ts";
import type { TestKube } from "./kube.ts";
import { fakeKubelet } from "./kubelet.ts";
import { waitFor } from "./ports.ts";
import { type Proc, startProcess } from "./process.ts";

/**
 * node: the Node running the tests (20 here); node-lts: a current LTS from npm (the container's);
 * deno; sea: dist/satellite, the single executable (`npm run build:sea`).
 */
export type Runtime = "node" | "node-lts" | "deno" | "sea";
const bundle = fileURLToPath(new URL("../../dist/satellite.mjs", import.meta.url));
export const seaBin = fileURLToPath(new URL("../../dist/satellite", import.meta.url));
const denoBin = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));

/** The executable of each runtime. */
export function runtimeBinary(runtime: Runtime): string {
  return runtime === "node" ? process.execPath : runtime === "node-lts" ? binaries().NODE_LTS_BIN : runtime === "deno" ? denoBin : seaBin;
}

/** The narrowest Deno permissions each command works with (docs/building.md, "Deno"). */
export function denoFlags(command: string | undefined, writeDir?: string): string[] {
  const base = ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys=hostname"];
  if (command === "reloader") return [...base, writeDir ? `--allow-write=${writeDir}` : "--allow-write", "--allow-run"];
  return base;
}

/**
 * The flags the container image runs the bundle with (Dockerfile ENTRYPOINT, docs/building.md): V8's lite
 * mode, no optimizing compilers, about 12 MB less resident memory (bench/RESULTS.md). Node 20's
 * V8 also wants --no-expose-wasm with it, or it prints a warning at every start.
 */
export const shippedFlags: Record<Runtime, string[]> = {
  node: ["--lite-mode", "--no-expose-wasm", "--expose-gc"],
  "node-lts": ["--lite-mode", "--expose-gc"],
  deno: ["--v8-flags=--lite-mode,--expose-gc"],
  sea: [],
};

/**
 * Runs the built bundle (dist/satellite.mjs), as users do, on Node or Deno, with the shipped flags
 * unless told otherwise; or the single executable, whose flags are built in.
 */
export function startSatellite(
  args: string[],
  opts: { runtime?: Runtime; env?: NodeJS.ProcessEnv; name?: string; writeDir?: string; runtimeFlags?: string[] } = {},
): Proc {
  const runtime = opts.runtime ?? "node";
  const dir = mkdtempSync(join(tmpdir(), "satellite-run-"));
  const flags = opts.runtimeFlags ?? shippedFlags[runtime];
  const argv =
    runtime === "sea"
      ? args
      : runtime === "deno"
        ? [...denoFlags(args[0], opts.writeDir), ...flags, bundle, ...args]
        : [...flags, bundle, ...args];
  return startProcess(opts.name ?? `satellite ${args[0]}`, runtimeBinary(runtime), argv, join(dir, "satellite.log"), {
    ...process.env,
    KUBECONFIG: "",
    KUBERNETES_CONFIG_FILE: "",
    POD_NAMESPACE: "",
    // Deno would otherwise look for updates and write a cache at start.
    DENO_NO_UPDATE_CHECK: "1",
    ...opts.env,
  });
}

/** Waits until `p`'s log has `text`; on time out the error shows the end of the log it has instead. */
export async function waitForLog(p: Proc, text: string | RegExp, timeoutMs = 20_000): Promise<void> {
  try {
    await waitFor(
      `${p.name} to log ${text}`,
      async () => {
        const log = p.log();
        if (typeof text === "string" ? log.includes(text) : text.test(log)) return true;
        if (!p.running()) throw new Error(`${p.name} exited:\n${p.tail(20)}`);
        return false;
      },
      timeoutMs,
    );
  } catch (e) {
    if (!p.running()) throw e; // the error has the tail already
    throw new Error(`${(e as Error).message}\n--- ${p.name} log tail ---\n${p.tail(20)}`, { cause: e });
  }
}

/**
 * The operator as manifests/operator.yaml deploys it into `namespace` (its ServiceAccount and Role,
 * nothing more), run from the host, with the fake kubelet marking its pods Running and Ready.
 */
export async function startNamespacedOperator(kube: TestKube, namespace: string) {
  const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(namespace, "satellite-operator"), namespace, "operator");
  const start = () => startSatellite(["run", "-operator", "-log-format", "json"], { env: { KUBECONFIG: kubeconfig }, name: "operator" });
  const operator = start();
  await waitForLog(operator, "operator caches synced");
  const kubelet = fakeKubelet(kube.admin, namespace, "app=nats");
  return { kubeconfig, operator, kubelet, start };
}
