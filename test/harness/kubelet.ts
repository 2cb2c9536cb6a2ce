import { kinds } from "../../handlers/index.ts";
import type { KubeClient } from "../../runtime/kube/client.ts";

/** What a kubelet would report for a pod: its phase, readiness and IP. */
export async function setPodStatus(
  kube: KubeClient,
  namespace: string,
  name: string,
  s: { phase: "Running" | "Failed" | "Succeeded" | "Pending"; ready?: boolean; reason?: string; podIP?: string },
) {
  const now = new Date().toISOString();
  await kube.patch(
    kinds.Pod,
    { namespace, name, subresource: "status" },
    {
      status: {
        phase: s.phase,
        reason: s.reason,
        podIP: s.podIP,
        conditions: [
          { type: "Ready", status: s.ready ? "True" : "False", lastTransitionTime: now },
          { type: "ContainersReady", status: s.ready ? "True" : "False", lastTransitionTime: now },
        ],
      },
    },
  );
}

/**
 * Plays the kubelet for pods matching `labelSelector`: every pod it has not seen yet becomes
 * Running and Ready after `delayMs`. Stops with `stop()`.
 */
export function fakeKubelet(kube: KubeClient, namespace: string, labelSelector: string, delayMs = 50) {
  const seen = new Set<string>();
  const abort = new AbortController();
  let paused = false;
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        const list = await kube.list(kinds.Pod, namespace, { labelSelector });
        for (const p of list.items) {
          const meta = p.metadata!;
          const uid = meta.uid!;
          if (seen.has(uid) || meta.deletionTimestamp || paused) continue;
          seen.add(uid);
          setTimeout(() => {
            if (abort.signal.aborted) return;
            setPodStatus(kube, namespace, meta.name!, { phase: "Running", ready: true, podIP: "10.2.0.1" }).catch(() => seen.delete(uid));
          }, delayMs);
        }
      } catch {
        // The API server may be briefly unavailable; try again.
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    /** New pods stay Pending while paused. */
    pause: (p: boolean) => {
      paused = p;
    },
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
