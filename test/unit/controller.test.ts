import { describe, expect, it } from "vitest";
import { type Change, type NatsCluster, type OperatorEnv, operatorRoutes, type Store } from "../../handlers/index.ts";
import { describe as describeChange, image, natsCluster, now, runningPod, secret } from "./operator-fixtures.ts";

const env: OperatorEnv = { component: "satellite", instance: "op-1", controllerImage: image, now, entropy: "random-text" };

/** A store over plain objects, as the runtime's caches would hold them. */
function storeOf(objects: Partial<Record<string, { metadata?: any }[]>>): Store {
  const of = (kind: string) => (objects[kind] ?? []) as any[];
  return {
    get: (kind, ns, name) => of(kind).find((o) => o.metadata?.namespace === ns && o.metadata?.name === name),
    list: (kind, ns, labels) =>
      of(kind).filter((o) => o.metadata?.namespace === ns && Object.entries(labels).every(([k, v]) => o.metadata?.labels?.[k] === v)),
    everywhere: (kind, m) =>
      of(kind).filter(
        (o) =>
          (m.name === undefined || o.metadata?.name === m.name) &&
          Object.entries(m.labels ?? {}).every(([k, v]) => o.metadata?.labels?.[k] === v),
      ),
  };
}

const ops = (changes: Change[]) =>
  changes.map((c) =>
    c.kind === "Event" && c.op === "create" ? `event ${c.object.reason}` : c.op === "status" ? "status" : describeChange(c),
  );

describe("operator routes: a reconcile as one list of changes", () => {
  it("a new cluster: its objects, then an Event per note, then its status", () => {
    const c = natsCluster({ size: 1 });
    const changes = operatorRoutes.reconcile(c, storeOf({ NatsCluster: [c] }), env).changes;
    expect(ops(changes)).toEqual([
      "create ConfigMap demo-config",
      "create Secret demo",
      "create Service demo",
      "create Service demo-mgmt",
      "create PodDisruptionBudget demo",
      "create Pod demo-1",
      "event CreatingPods",
      "status",
    ]);
  });

  it("an Event names the cluster, the reason, and who recorded it", () => {
    const c = natsCluster({ size: 1 });
    const ev = operatorRoutes.reconcile(c, storeOf({}), env).changes.find((x) => x.kind === "Event");
    expect(ev).toMatchObject({
      op: "create",
      object: {
        involvedObject: { kind: "NatsCluster", name: "demo", namespace: "ns1", uid: "uid-demo" },
        type: "Normal",
        reportingComponent: "satellite",
        reportingInstance: "op-1",
        firstTimestamp: now,
      },
    });
  });

  it("reads the cluster's pods by their labels, not another cluster's", () => {
    const c = natsCluster({ size: 1 });
    const other = natsCluster({ size: 1 }, { name: "other", uid: "uid-other" });
    const mine = operatorRoutes.reconcile(c, storeOf({ Pod: [runningPod(c, 1), runningPod(other, 1)] }), env).changes;
    expect(ops(mine)).not.toContain("create Pod demo-1");
    const theirs = operatorRoutes.reconcile(c, storeOf({ Pod: [runningPod(other, 1)] }), env).changes;
    expect(ops(theirs)).toContain("create Pod demo-1");
  });

  it("no status write when the status would not change", () => {
    const c = natsCluster({ size: 1 });
    const first = operatorRoutes.reconcile(c, storeOf({}), env).changes;
    const status = first.find((x) => x.op === "status")!.object as any;
    const again = operatorRoutes.reconcile({ ...c, status: status.status }, storeOf({}), env).changes;
    expect(ops(again)).not.toContain("status");
  });
});

describe("operator routes: a reconcile that failed", () => {
  it("a Warning Event and a Progressing=False condition, once per reason", () => {
    const c = natsCluster({ size: 1 });
    const changes = operatorRoutes.failed(c, "pods is forbidden", env);
    expect(ops(changes)).toEqual(["event ReconcileFailed", "status"]);
    const status = (changes[1] as { object: NatsCluster }).object.status!;
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: "Progressing",
        status: "False",
        reason: "ReconcileFailed",
        message: expect.stringContaining("pods is forbidden"),
      }),
    ]);
    expect(operatorRoutes.failed({ ...c, status }, "pods is forbidden", env)).toEqual([]);
    expect(ops(operatorRoutes.failed({ ...c, status }, "quota exceeded", env))).toEqual(["event ReconcileFailed", "status"]);
  });
});

describe("operator routes: each cluster's config API (-config-api)", () => {
  const running = (c: ReturnType<typeof natsCluster>, i: number, ip: string) => {
    const p = runningPod(c, i);
    p.status = { ...p.status, podIP: ip };
    return p;
  };
  it("served on the cluster's own NATS: its routes file, its pods, under the site", () => {
    const c = natsCluster({ size: 2 });
    const api = operatorRoutes.configApiOf(c, storeOf({ Pod: [running(c, 1, "10.88.0.5"), running(c, 2, "10.88.0.6")] }), "berlin");
    expect(api).toEqual({
      target: { cluster: "demo", namespace: "ns1", configMap: "demo-config", key: "routes.json", site: "berlin" },
      podSelector: "nats_cluster=demo",
      connect: { urls: ["nats://10.88.0.5:4222", "nats://10.88.0.6:4222"] },
    });
  });

  it("certificates to check: each TLS Secret's files where servers reload them; none where they read the mounts", () => {
    const tls = secret("tls", { "ca.pem": "CA", "server.pem": "CERT", "server-key.pem": "KEY" });
    const sidecar = natsCluster({ size: 1, tls: { serverSecret: "tls" }, pod: { enableConfigReload: true } });
    const sets = operatorRoutes.certificatesToCheck(sidecar, storeOf({ Secret: [tls] }));
    expect(sets.map((x) => [x.stem.replace(/-[0-9a-f]{12}$/, ""), x.ca, x.cert, x.key])).toEqual([["tls-server", "CA", "CERT", "KEY"]]);
    expect(operatorRoutes.certificatesToCheck(natsCluster({ size: 1, tls: { serverSecret: "tls" } }), storeOf({ Secret: [tls] }))).toEqual(
      [],
    );
  });

  it("says why not: no server running yet, or its config has no user for the operator yet", () => {
    expect(operatorRoutes.configApiOf(natsCluster({ size: 1 }), storeOf({}), undefined)).toEqual({ skip: "no server runs yet" });
    const c = natsCluster({ size: 1, auth: { clientsAuthSecret: "auth" } });
    expect(operatorRoutes.configApiOf(c, storeOf({ Pod: [running(c, 1, "10.88.0.5")] }), undefined)).toMatchObject({
      skip: expect.stringContaining("operator's user"),
    });
    const jwt = natsCluster({ size: 1, operatorConfig: { secret: "op", resolver: "full" } });
    expect(operatorRoutes.configApiOf(jwt, storeOf({ Pod: [running(jwt, 1, "10.88.0.5")] }), undefined)).toEqual({
      skip: "its clients authenticate with JWTs (operatorConfig), and the operator has no user in its accounts",
    });
  });

  it.each([
    ["clientsAuthSecret", { clientsAuthSecret: "auth" }],
    ["enableServiceAccounts", { enableServiceAccounts: true }],
  ])("where clients must authenticate (%s), connects as the operator's own user from the config Secret", (_, auth) => {
    const c = natsCluster({ size: 1, auth });
    const configSecret = { ...secret("demo", { "config-api-password": "pw-123" }), metadata: { name: "demo", namespace: "ns1" } };
    const api = operatorRoutes.configApiOf(c, storeOf({ Pod: [running(c, 1, "10.88.0.5")], Secret: [configSecret] }), undefined);
    expect(api).toMatchObject({ connect: { urls: ["nats://10.88.0.5:4222"], user: "satellite-config-api", password: "pw-123" } });
    expect(operatorRoutes.configApiOf(c, storeOf({ Pod: [running(c, 1, "10.88.0.5")] }), undefined)).toMatchObject({
      skip: expect.stringContaining("operator's user"),
    });
  });

  it("where clients present certificates (tls.verify), presents the server's own; verify_and_map clusters are skipped", () => {
    const c = natsCluster({ size: 1, tls: { serverSecret: "tls", verify: true } });
    const tls = {
      ...secret("tls", { "ca.pem": "CA", "server.pem": "CERT", "server-key.pem": "KEY" }),
      metadata: { name: "tls", namespace: "ns1" },
    };
    const api = operatorRoutes.configApiOf(c, storeOf({ Pod: [running(c, 1, "10.88.0.5")], Secret: [tls] }), undefined);
    expect(api).toMatchObject({ connect: { urls: ["tls://10.88.0.5:4222"], ca: "CA", cert: "CERT", key: "KEY" } });
    const mapped = natsCluster({ size: 1, tls: { serverSecret: "tls", verify: true }, auth: { tlsVerifyAndMap: true } });
    expect(operatorRoutes.configApiOf(mapped, storeOf({ Pod: [running(mapped, 1, "10.88.0.5")], Secret: [tls] }), undefined)).toMatchObject(
      {
        skip: expect.stringContaining("auth.tlsVerifyAndMap"),
      },
    );
  });
});
