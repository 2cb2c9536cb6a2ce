import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { binaries } from "./binaries.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const scripts = join(root, "test", "realnode");
export const realnodeDir = process.env.REALNODE_DIR || "/var/tmp/satellite-realnode";

/** Why this machine cannot run the real node, in one sentence; undefined when it can. */
export function realNodeUnavailable(): string | undefined {
  return binaries().REALNODE_UNAVAILABLE || undefined;
}

/** The images a real node holds: satellite's (npm run image), nats-server at two real versions. */
export interface NodeImages {
  satellite: string;
  nats: string;
  natsPrevious: string;
  natsVersion: string;
  natsPreviousVersion: string;
  /** Releases nats-operator users run (2.0.0, 2.1.9, 2.6.1), laid out as their official images. */
  natsLegacyVersions: string[];
  archives: string[];
  /** Images a registry on the host serves in Docker Hub's place: synadia/nats-box:latest, which pods always pull. */
  registryArchives: string[];
}

/** The image nats-operator's websocket.yaml runs; 2.2.0, the first release after that day, stands in for it. */
export const nightlyExampleImage = "synadia/nats-server:nightly-20201008";

/** The image of this checkout: a tag of its own, so the cluster can only run what was just built. */
export const satelliteTestImage = "satellite.test/satellite:dev";

export function buildImages(): NodeImages {
  const b = binaries();
  const cache = join(b.CACHE_DIR, "images");
  mkdirSync(cache, { recursive: true });
  const version = (bin: string) =>
    /v(\d+\.\d+\.\d+\S*)/.exec(execFileSync(bin, ["--version"], { encoding: "utf8" }))![1]!.replace(/^v/, "");
  const natsVersion = version(b.NATS_SERVER_BIN);
  const natsPreviousVersion = version(b.NATS_SERVER_PREV_BIN);
  const legacy = b.NATS_SERVER_LEGACY_BINS.split(":")
    .filter(Boolean)
    .map((bin) => ({ bin, v: version(bin) }));
  // Cached under the script's digest: a changed script builds its image anew.
  const built = (name: string, script: string, ...args: string[]) => {
    const digest = createHash("sha256")
      .update(readFileSync(join(scripts, script)))
      .digest("hex")
      .slice(0, 12);
    const out = join(cache, `${name}-${digest}.tar`);
    if (!existsSync(out)) execFileSync("bash", [join(scripts, script), ...args, out], { stdio: "ignore" });
    return out;
  };
  const nats = (bin: string, v: string) => built(`nats-${v}`, "image-nats.sh", bin, v);
  const nightlyTag = nightlyExampleImage.split(":")[1]!;
  const exampleVersion = version(b.NATS_SERVER_EXAMPLE_BIN);
  const satellite = join(root, "dist", "satellite-test-image.tar");
  execFileSync(process.execPath, ["--import", "tsx", join(root, "scripts", "image.ts"), "--tag", satelliteTestImage, "--out", satellite], {
    stdio: "ignore",
    env: { ...process.env, IMAGE_NODE_BIN: b.NODE_LTS_BIN },
  });
  return {
    satellite: satelliteTestImage,
    nats: `nats:${natsVersion}`,
    natsPrevious: `nats:${natsPreviousVersion}`,
    natsVersion,
    natsPreviousVersion,
    natsLegacyVersions: legacy.map((l) => l.v),
    archives: [
      satellite,
      nats(b.NATS_SERVER_BIN, natsVersion),
      nats(b.NATS_SERVER_PREV_BIN, natsPreviousVersion),
      ...legacy.map((l) => nats(l.bin, l.v)),
      nats(b.NATS_SERVER_EXAMPLE_BIN, exampleVersion),
      built(`nats-server-${nightlyTag}`, "image-nats-nightly.sh", b.NATS_SERVER_NIGHTLY_STANDIN_BIN, nightlyTag),
    ],
    registryArchives: [built("nats-box-latest", "image-nats-box.sh", b.BUSYBOX_BIN, b.NATS_CLI_BIN)],
  };
}

export interface RealNode {
  kubeconfig: string;
  /** The nodes' names: realnode, then realnode-b and realnode-c when there are several. */
  nodes: string[];
  dir: string;
  kubectlBin: string;
  /** Tears the node down; what it left on the host, if anything (empty when clean). */
  stop(): string;
}

/** The names test/realnode/lib.sh gives a bed's nodes, in zones zone-a, zone-b, zone-c. */
export function nodeNames(nodes: number): string[] {
  return ["realnode", "realnode-b", "realnode-c"].slice(0, nodes);
}

/**
 * Brings up the real node (test/realnode/up.sh) with the given image archives imported; with
 * `nodes` 2 or 3, a bed of that many nodes, each with its own kubelet and containerd.
 */
export function startRealNode(opts: {
  archives: string[];
  registryArchives?: string[];
  syncFrequency?: string;
  maxPods?: number;
  nodes?: number;
}): RealNode {
  const b = binaries();
  const nodes = opts.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 3) throw new Error(`a bed has 1 to 3 nodes, not ${nodes}`);
  const env = {
    ...process.env,
    ...b,
    NODES: String(nodes),
    REALNODE_DIR: realnodeDir,
    IMAGES: opts.archives.join(" "),
    REGISTRY_IMAGES: (opts.registryArchives ?? []).join(" "),
    SYNC_FREQ: opts.syncFrequency ?? "1m",
    MAX_PODS: String(opts.maxPods ?? 110),
    REALNODE_OWNER: String(process.pid),
  };
  const up = spawnSync("bash", [join(scripts, "up.sh")], { env, encoding: "utf8" });
  if (up.status !== 0) {
    spawnSync("bash", [join(scripts, "down.sh")], { env, stdio: "ignore" });
    throw new Error(`the real node did not come up:\n${up.stderr}`);
  }
  return {
    kubeconfig: up.stdout.trim().split("\n").pop()!,
    nodes: nodeNames(nodes),
    dir: realnodeDir,
    kubectlBin: join(b.K8S_BIN_DIR, "kubectl"),
    stop() {
      spawnSync("bash", [join(scripts, "down.sh")], { env, stdio: "ignore" });
      return leftovers();
    },
  };
}

/**
 * Node `name` of a bed of several goes down like a machine losing power (test/realnode/node.sh):
 * kubelet and containerd killed, its pods frozen, their addresses silent (connections time out).
 */
export async function stopNode(name: string): Promise<void> {
  await nodeScript("stop", name);
}

/** Node `name`, stopped by stopNode, boots again: its pods run on, its kubelet reports; resolves once it is Ready. */
export async function startNode(name: string): Promise<void> {
  await nodeScript("start", name);
}

async function nodeScript(action: "stop" | "start", name: string): Promise<void> {
  const env = { ...process.env, ...binaries(), REALNODE_DIR: realnodeDir };
  try {
    await promisify(execFile)("bash", [join(scripts, "node.sh"), action, name], { env, timeout: 180_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`node.sh ${action} ${name}: ${err.stderr || err.message}`);
  }
}

/** Anything of a real node still on this host: processes, mounts, netns, links, iptables chains, cgroups. */
export function leftovers(): string {
  return spawnSync("bash", [join(scripts, "leftovers.sh")], {
    env: { ...process.env, REALNODE_DIR: realnodeDir },
    encoding: "utf8",
  }).stdout.trim();
}

/**
 * A user's kustomize overlay on manifests/ (as `kubectl apply -k` takes it): the namespace, the
 * images this node holds, and strategic-merge `patches`. Returns its directory.
 */
export function writeOverlay(namespace: string, images: NodeImages, patches: string[] = [], only?: string[]): string {
  // One overlay per namespace, rewritten each time (kustomize wants it next to the manifests).
  const dir = join(root, "dist", `overlay-${namespace}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Some of manifests/ only: copied in, since kustomize loads files from below its root alone.
  for (const f of only ?? []) writeFileSync(join(dir, f), readFileSync(join(root, "manifests", f)));
  const resources = only ? only.map((f) => `  - ${f}`).join("\n") : `  - ${relative(dir, join(root, "manifests"))}`;
  const [satRepo, satTag] = images.satellite.split(":");
  const files = patches.map((p, i) => {
    writeFileSync(join(dir, `patch-${i}.yaml`), p);
    return `  - path: patch-${i}.yaml\n`;
  });
  writeFileSync(
    join(dir, "kustomization.yaml"),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${namespace}
resources:
${resources}
images:
  - name: ghcr.io/satellite-nats/satellite
    newName: ${satRepo}
    newTag: ${satTag}
  - name: nats
    newTag: "${images.natsVersion}"
${files.length ? `patches:\n${files.join("")}` : ""}`,
  );
  return dir;
}

/** A patch of the seed's ConfigMap (manifests/example-cluster.yaml): its leafnode remote is `leafUrl`. */
export function groundPatch(leafUrl: string): string {
  const example = readFileSync(join(root, "manifests", "example-cluster.yaml"), "utf8");
  const cm = parse(example.split("\n---\n")[0]!);
  const conf = (cm.data["nats.conf"] as string).replace(/nats:\/\/ground\.example\.com:7422/, leafUrl);
  if (conf === cm.data["nats.conf"]) throw new Error("manifests/example-cluster.yaml no longer has the ground.example.com remote");
  return JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "nats-config" }, data: { "nats.conf": conf } });
}

/** The host PID of the process named `comm` in the pod `uid` (the kubelet puts the pod's UID in its cgroup path). */
export function hostPid(uid: string, comm: string): number {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== comm) continue;
      const cg = readFileSync(`/proc/${pid}/cgroup`, "utf8");
      if (cg.includes(uid) || cg.includes(uid.replaceAll("-", "_"))) return Number(pid);
    } catch {
      // the process ended meanwhile
    }
  }
  throw new Error(`no ${comm} process in pod ${uid}`);
}
