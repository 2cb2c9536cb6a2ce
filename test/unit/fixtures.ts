import type { ConfigMap, Pod, Target } from "../../handlers/types.ts";

export const target: Target = { cluster: "nats", namespace: "edge-1", configMap: "nats-config", key: "routes.json" };
export const instance = { id: "ctl-1", version: "1.2.3", startedAt: "2026-11-21T10:00:00.000Z" };

export function configMap(routesJson: string | undefined, rv = "100", extra: Record<string, string> = {}): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "nats-config", namespace: "edge-1", resourceVersion: rv },
    data: routesJson === undefined ? { ...extra } : { "nats.conf": "port: 4222", ...extra, "routes.json": routesJson },
  };
}

export const routesJson = (name: string | undefined, routes: string[]) =>
  `${JSON.stringify(name === undefined ? { routes } : { name, routes }, null, 2)}\n`;

export function pod(name: string, opts: { ready?: boolean; phase?: string; ip?: string; restarts?: number } = {}): Pod {
  return {
    metadata: { name, namespace: "edge-1", labels: { app: "nats" } },
    spec: { containers: [{ name: "nats" }], nodeName: "node-a" },
    status: {
      phase: opts.phase ?? "Running",
      podIP: opts.ip,
      conditions: [{ type: "Ready", status: opts.ready ? "True" : "False" }],
      containerStatuses: [{ name: "nats", image: "nats", imageID: "", ready: Boolean(opts.ready), restartCount: opts.restarts ?? 0 }],
    },
  };
}

export const req = (body: unknown, subject = "_SAT.nats.config.put") => ({
  subject,
  data: new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)),
});
