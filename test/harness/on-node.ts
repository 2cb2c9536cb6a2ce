import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { type ConnectionOptions, connect, type NatsConnection } from "@nats-io/transport-node";
import { beforeEach, inject } from "vitest";
import { waitFor } from "./ports.ts";
import { writeOverlay } from "./realnode.ts";
import type { RealNodeInfo } from "./realnode-setup.ts";

const run = promisify(execFile);

/** What a user at the real node has: kubectl with an admin kubeconfig, the nats CLI, the images. */
export interface OnNode {
  info: RealNodeInfo;
  kubectl(...args: string[]): Promise<string>;
  kubectlJson<T = any>(...args: string[]): Promise<T>;
  /** `kubectl apply -k` of an overlay on manifests/: namespace, our images, strategic-merge `patches`. */
  applyManifests(namespace: string, opts?: { patches?: string[]; only?: string[] }): Promise<string>;
  /** A namespace that enforces Pod Security "restricted", as production namespaces often do. */
  createRestrictedNamespace(namespace: string): Promise<void>;
  /** A restricted namespace of its own with the operator installed from the manifests, its Deployment rolled out. */
  installOperator(namespace: string): Promise<void>;
  /** `kubectl apply --server-side -f -` of one or more JSON/YAML documents. */
  apply(doc: string): Promise<string>;
  /** `nats` with its arguments, e.g. ("-s", url, "req", subject, body). */
  nats(...args: string[]): Promise<string>;
  pods(namespace: string, selector: string): Promise<PodView[]>;
  /** Samples every 200 ms how many pods of `selector` are Ready; `stop()` gives the fewest seen. */
  watchFewestReady(namespace: string, selector: string, start: number): { stop(): Promise<number> };
  /** Waits until `selector` matches exactly `n` pods, all Running and Ready and not deleting. */
  readyPods(namespace: string, selector: string, n: number, timeoutMs?: number): Promise<PodView[]>;
}

export interface PodView {
  name: string;
  ip: string;
  ready: boolean;
  deleting: boolean;
  uid: string;
  restarts: number;
  images: string[];
  raw: any;
}

export function onNode(): OnNode {
  const info = inject("realNode");
  const kubectl = async (...args: string[]) => {
    try {
      return (await run(info.kubectlBin, ["--kubeconfig", info.kubeconfig, ...args], { maxBuffer: 16 << 20 })).stdout;
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`kubectl ${args.join(" ")}: ${err.stderr || err.message}`);
    }
  };
  const kubectlJson = async (...args: string[]) => JSON.parse(await kubectl(...args, "-o", "json"));
  const pods = async (namespace: string, selector: string): Promise<PodView[]> => {
    const list = await kubectlJson("get", "pods", "-n", namespace, "-l", selector);
    return list.items.map((p: any) => ({
      name: p.metadata.name,
      ip: p.status.podIP ?? "",
      ready: p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ?? false,
      deleting: Boolean(p.metadata.deletionTimestamp),
      uid: p.metadata.uid,
      restarts: (p.status.containerStatuses ?? []).reduce((n: number, c: any) => n + c.restartCount, 0),
      images: p.spec.containers.map((c: any) => c.image),
      raw: p,
    }));
  };
  const createRestrictedNamespace = async (namespace: string) => {
    await kubectl("create", "namespace", namespace);
    await kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted");
  };
  return {
    info,
    kubectl,
    kubectlJson,
    pods,
    async applyManifests(namespace, opts = {}) {
      return kubectl("apply", "-k", writeOverlay(namespace, info.images, opts.patches, opts.only));
    },
    createRestrictedNamespace,
    async installOperator(namespace) {
      await createRestrictedNamespace(namespace);
      await kubectl("apply", "-k", writeOverlay(namespace, info.images));
      await kubectl("rollout", "status", "deployment/satellite-operator", "-n", namespace, "--timeout=120s");
    },
    async apply(doc) {
      return new Promise((resolve, reject) => {
        const p = execFile(info.kubectlBin, ["--kubeconfig", info.kubeconfig, "apply", "--server-side", "-f", "-"], (e, out, err) =>
          e ? reject(new Error(`kubectl apply: ${err || e.message}`)) : resolve(out),
        );
        p.stdin!.end(doc);
      });
    },
    async nats(...args) {
      try {
        return (await run(info.natsCliBin, args, { maxBuffer: 16 << 20 })).stdout;
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`nats ${args.join(" ")}: ${err.stderr || err.message}`);
      }
    },
    watchFewestReady(namespace, selector, start) {
      let fewest = start;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const now = await pods(namespace, selector).catch(() => undefined);
          if (now) fewest = Math.min(fewest, now.filter((p) => p.ready && !p.deleting).length);
          await new Promise((r) => setTimeout(r, 200));
        }
      })();
      return {
        async stop() {
          sampling = false;
          await sampler;
          return fewest;
        },
      };
    },
    async readyPods(namespace, selector, n, timeoutMs = 90_000) {
      return waitFor(
        `${n} Ready pods matching ${selector} in ${namespace}`,
        async () => {
          const list = await pods(namespace, selector);
          return list.length === n && list.every((p) => p.ready && !p.deleting) && list;
        },
        timeoutMs,
        250,
      );
    },
  };
}

/** GET a pod's monitoring endpoint (pod IPs are reachable from this host, and only from it). */
export async function monitor<T = any>(ip: string, path: string, port = 8222): Promise<T> {
  const res = await fetch(`http://${ip}:${port}/${path}`, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`${ip}:${port}/${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/**
 * For a describe whose steps tell one story in order: once a step fails, the later ones are
 * skipped (they would only fail for the same reason, further away from it).
 */
export function skipAfterAFailedStep(): void {
  let failed: string | undefined;
  beforeEach((ctx) => {
    if (failed) ctx.skip(`an earlier step failed: ${failed}`);
    ctx.onTestFailed(() => {
      failed ??= ctx.task.name;
    });
  });
}

/**
 * A client connection through a Service's cluster IP. kube-proxy programs a Service up to its
 * sync period after the endpoints turn Ready (until then the IP refuses), so this retries
 * connection refusals for a while, as a user's client with reconnects would.
 */
export async function connectThroughService(clusterIP: string, opts: ConnectionOptions = {}): Promise<NatsConnection> {
  return await waitFor(
    `a connection through the Service at ${clusterIP}`,
    () => connect({ servers: `nats://${clusterIP}:4222`, timeout: 5_000, ...opts }),
    30_000,
    250,
  );
}

/** A message published on server `b` reaches a subscriber on server `a` (interest crosses the route). */
export async function crossServerMessage(a: string, b: string, subject = "e2e.cross"): Promise<string> {
  const sub = await connect({ servers: `nats://${a}:4222` });
  const pub = await connect({ servers: `nats://${b}:4222` });
  try {
    const s = sub.subscribe(subject, { max: 1 });
    await sub.flush();
    const got = (async () => {
      for await (const m of s) return m.string();
      return "";
    })();
    // Interest crosses the route asynchronously: publish until it arrives.
    const timer = setInterval(() => pub.publish(subject, `from ${b}`), 100);
    try {
      return await Promise.race([
        got,
        new Promise<string>((_, rej) => setTimeout(() => rej(new Error("no message crossed the route in 10 s")), 10_000)),
      ]);
    } finally {
      clearInterval(timer);
    }
  } finally {
    await sub.close();
    await pub.close();
  }
}
