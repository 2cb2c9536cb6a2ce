// What the integration tests of rendered nats.conf share: a NatsCluster to render, the rendered
// text (a value it cannot write safely fails the test with the reason), and `nats-server -t`.
import { spawnSync } from "node:child_process";
import type { NatsCluster, NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import { renderServerConfig, type ServerConfigInput } from "../../handlers/operator/server-config.ts";
import { binaries } from "../harness/binaries.ts";

export const natsCluster = (spec: NatsClusterSpec): NatsCluster => ({
  apiVersion: "nats.io/v1alpha2",
  kind: "NatsCluster",
  metadata: { name: "nats", namespace: "edge-1" },
  spec: { serverImage: "nats", ...spec },
});

export const render = (input: ServerConfigInput): string => {
  const r = renderServerConfig(input);
  if ("error" in r) throw new Error(r.error.message);
  return r.text;
};

/** `nats-server -t` of `file`: whether it passed, and what it said. */
export function check(bin: string, file: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(bin, ["-t", "-c", file], { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** Every nats-server the test bed built, as [version, binary]: the current, Debian's, the legacy ones. */
export const serverBinaries = (): (readonly [string, string])[] => [
  ["2.14.9", binaries().NATS_SERVER_BIN],
  ["2.9.10", binaries().NATS_SERVER_OLD_BIN],
  ...binaries()
    .NATS_SERVER_LEGACY_BINS.split(":")
    .filter(Boolean)
    .map((bin) => [/nats-server-v([0-9.]+)$/.exec(bin)![1]!, bin] as const),
];
