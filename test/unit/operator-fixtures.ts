import { desiredPod, podTemplate, templateHash } from "../../handlers/operator/desired-pod.ts";
import { desiredDisruptionBudget } from "../../handlers/operator/disruption-budget.ts";
import type { NatsCluster, NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import type { ClusterView, ReconcileResult } from "../../handlers/operator/reconcile.ts";
import type { Change, Pod, Secret } from "../../handlers/types.ts";

export const now = "2026-11-21T12:00:00.000Z";
export const image = "ghcr.io/satellite-nats/satellite:0.1.0";

export function natsCluster(spec: NatsClusterSpec, extra: Partial<NatsCluster["metadata"]> = {}): NatsCluster {
  return {
    apiVersion: "nats.io/v1alpha2",
    kind: "NatsCluster",
    metadata: { name: "demo", namespace: "ns1", uid: "uid-demo", generation: 1, resourceVersion: "10", ...extra },
    spec: { serverImage: "nats", ...spec },
  };
}

export function view(c: NatsCluster, over: Partial<ClusterView> = {}): ClusterView {
  return {
    cluster: c,
    pods: [],
    services: [],
    configSecret: null,
    routesConfigMap: null,
    secrets: {},
    controllerImage: image,
    now,
    entropy: "fixture-entropy",
    // Converged unless a test says otherwise (disruptionBudget: null: none made yet).
    disruptionBudget: desiredDisruptionBudget(c),
    ...over,
  };
}

/** A pod as the operator would create it for `c`, with the kubelet's view of it. */
export function runningPod(c: NatsCluster, index: number, state: { ready?: boolean; phase?: string; deleting?: boolean } = {}): Pod {
  const p = desiredPod(c, index, podTemplate(c, image));
  p.metadata!.uid = `uid-${p.metadata!.name}`;
  if (state.deleting) p.metadata!.deletionTimestamp = new Date(now) as any;
  p.status = { phase: state.phase ?? "Running", conditions: [{ type: "Ready", status: state.ready === false ? "False" : "True" }] };
  return p;
}

export const hashFor = (c: NatsCluster) => templateHash(podTemplate(c, image));

/** A JWT of the shape nats-server takes, with subject `sub` (not signed: handlers only read its claims). */
export function fakeJwt(sub: string): string {
  const part = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ typ: "JWT", alg: "ed25519-nkey" })}.${part({ sub, nats: {} })}.c2ln`;
}
export const operatorKey = `O${"A".repeat(55)}`;
export const accountKey = `A${"B".repeat(55)}`;
export const sysCreds =
  "-----BEGIN NATS USER JWT-----\nx\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\nSU\n------END USER NKEY SEED------\n";

export function secret(name: string, data: Record<string, string>): Secret {
  return { metadata: { name, namespace: "ns1" }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, btoa(v)])) };
}

export const summary = (r: ReconcileResult) => r.changes.map(describe);
export function describe(c: Change): string {
  return c.op === "delete"
    ? `delete ${c.kind} ${c.name}`
    : c.op === "reload"
      ? `reload ${c.pod}`
      : c.op === "remove-peer"
        ? `remove-peer ${c.server}`
        : c.op === "token"
          ? `token ${c.secret.metadata?.namespace}/${c.secret.metadata?.name}`
          : `${c.op} ${c.kind} ${c.object.metadata?.name}`;
}
export const condition = (r: ReconcileResult, type: string) => r.status.conditions?.find((c) => c.type === type);
