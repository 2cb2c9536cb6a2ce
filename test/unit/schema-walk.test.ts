// No silent no-op: every field manifests/crd.yaml serves in a NatsCluster's spec either changes
// what the reconcile does or is refused (Degraded=True). The walk takes each leaf of the schema,
// sets it to a sample value over a context that makes it matter (its parent's required siblings,
// the Secrets it names), and compares the reconcile with and without it. Fields whose effect
// only shows in a moment of a cluster's life (a canary, a scale-down) have a witness here.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { rolloutStep } from "../../handlers/operator/reload-rollout.ts";
import { configDigest } from "../../handlers/reloader/digest.ts";
import type { Secret } from "../../handlers/types.ts";
import { accountKey, fakeJwt, natsCluster, now, operatorKey, runningPod, secret, sysCreds, view } from "./operator-fixtures.ts";

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: string[];
  additionalProperties?: unknown;
  default?: unknown;
  required?: string[];
};
const crd = parseAllDocuments(readFileSync(fileURLToPath(new URL("../../manifests/crd.yaml", import.meta.url)), "utf8"))
  .map((d) => d.toJS())
  .find((d) => d?.kind === "CustomResourceDefinition" && d.spec.names.kind === "NatsCluster");
const specSchema: Schema = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;

/** Every leaf of the spec: scalars, lists of scalars and open maps; list items as `name[0]`. */
function leaves(s: Schema, path: string[] = []): string[][] {
  if (s.type === "object" && s.properties) return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, [...path, k]));
  if (s.type === "array" && s.items?.type === "object" && s.items.properties)
    return leaves(s.items, [...path.slice(0, -1), `${path.at(-1)}[0]`]);
  return [path];
}

const tlsKeys = ["ca.pem", "server.pem", "server-key.pem", "route.pem", "route-key.pem", "custom.pem"];
const secrets: Record<string, Secret> = {
  srv: secret("srv", Object.fromEntries(tlsKeys.map((k) => [k, "x"]))),
  rt: secret("rt", Object.fromEntries(tlsKeys.map((k) => [k, "x"]))),
  gw: secret("gw", Object.fromEntries(tlsKeys.map((k) => [k, "x"]))),
  ln: secret("ln", Object.fromEntries(tlsKeys.map((k) => [k, "x"]))),
  ws: secret("ws", Object.fromEntries(tlsKeys.map((k) => [k, "x"]))),
  auth: secret("auth", { "clients-auth.json": '{"users":[{"username":"a","password":"b"}]}' }),
  creds: secret("creds", { "user.creds": "x", "other.creds": "y" }),
  op: secret("op", { "op.jwt": fakeJwt(operatorKey) }),
  op0: secret("op0", { "op.jwt": fakeJwt(`O${"C".repeat(55)}`) }),
  sys: secret("sys", { "sys.creds": sysCreds }),
  routeauth: secret("routeauth", { "cluster-auth.json": '{"username":"r","password":"p"}' }),
  gwauth: secret("gwauth", { "gateway-auth.json": '{"username":"g","password":"p"}' }),
};

/** What a field needs around it to matter. */
const contexts: [RegExp, NatsClusterSpec][] = [
  [/^tls\.(?!serverSecret$|routesSecret$)/, { tls: { serverSecret: "srv", routesSecret: "rt" } }],
  [/^tls\.gateway/, { gatewayConfig: {} }],
  [/^tls\.gateway(?!Secret$)/, { tls: { gatewaySecret: "gw" } }],
  [/^tls\.leafnode/, { leafnodeConfig: { hostPort: 7422 } }],
  [/^tls\.leafnode(?!Secret$)/, { tls: { leafnodeSecret: "ln" } }],
  [/^tls\.websocket/, { websocketConfig: {} }],
  [/^tls\.websocket(?!Secret$)/, { tls: { websocketSecret: "ws" } }],
  [/^auth\.tlsVerifyAndMap$/, { tls: { serverSecret: "srv" } }],
  [/^gatewayConfig\.gateways\[0\]\./, { gatewayConfig: { gateways: [{ name: "other", url: "nats://other:7222" }] } }],
  [/^auth\.clientsAuthTimeout$/, { auth: { clientsAuthSecret: "auth" } }],
  [/^auth\.clusterAuthTimeout$/, { auth: { clusterAuthSecret: "routeauth" } }],
  [/^auth\.gatewayAuth/, { gatewayConfig: {} }],
  [/^auth\.gatewayAuthTimeout$/, { auth: { gatewayAuthSecret: "gwauth" } }],
  [/^leafnodeConfig\.remotes\[0\]\.(?!url$)/, { leafnodeConfig: { remotes: [{ url: "nats://hub:7422" }] } }],
  [
    /^leafnodeConfig\.remotes\[0\]\.credentialsSecret\.key$/,
    { leafnodeConfig: { remotes: [{ url: "nats://hub:7422", credentialsSecret: { name: "creds" } }] } },
  ],
  [/^jetstream\.(?!enabled$)/, { jetstream: { enabled: true, fileStorage: { size: "1Gi" } } }],
  [/^jetstream\.enabled$/, { jetstream: { fileStorage: { size: "1Gi" } } }],
  [/^pod\.reloader/, { pod: { enableConfigReload: true } }],
  [/^pod\.metrics/, { pod: { enableMetrics: true } }],
  [/^pod\.advertiseExternalIP$/, { pod: { enableClientsHostPort: true } }],
  [/^pod\.bootconfig/, { pod: { advertiseExternalIP: true, enableClientsHostPort: true } }],
  [/^configReload\.(strategy|canaryTimeoutSeconds)$/, { configReload: { mode: "operator" } }],
  [/^operatorConfig\.(?!secret$)/, { operatorConfig: { secret: "op", resolver: "full" } }],
  [/^operatorConfig\.secret$/, { operatorConfig: { secret: "op0", resolver: "full" } }],
];

/** Sample values where the type's generic one would not show anything. */
const samples: Record<string, unknown> = {
  size: 3,
  version: "2.10.0",
  serverImage: "registry.local/nats",
  "extraRoutes[0].cluster": "other",
  "extraRoutes[0].route": "nats://elsewhere:6222",
  "natsConfig.write_deadline": "10s",
  "pod.tolerations[0].operator": "Exists",
  "pod.tolerations[0].effect": "NoSchedule",
  "pod.natsEnv[0].name": "GODEBUG",
  // One server by default: one may be down (minAvailable 0); 0 makes it minAvailable 1.
  "podDisruptionBudget.maxUnavailable": 0,
  "tls.serverSecret": "srv",
  "tls.routesSecret": "rt",
  "tls.gatewaySecret": "gw",
  "tls.leafnodeSecret": "ln",
  "tls.websocketSecret": "ws",
  "tls.cipherSuites": ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"],
  "tls.curvePreferences": ["CurveP384"],
  "gatewayConfig.gateways[0].url": "nats://another:7222",
  "websocketConfig.handshakeTimeout": "5s",
  "auth.clientsAuthSecret": "auth",
  "auth.clusterAuthSecret": "routeauth",
  "auth.gatewayAuthSecret": "gwauth",
  "leafnodeConfig.remotes[0].url": "nats://hub:7422",
  "leafnodeConfig.remotes[0].urls": ["nats://hub-b:7422"],
  "leafnodeConfig.remotes[0].credentialsSecret.name": "creds",
  "leafnodeConfig.remotes[0].credentialsSecret.key": "other.creds",
  "jetstream.domain": "hub",
  "jetstream.memoryStorage.size": "64Mi",
  "jetstream.fileStorage.size": "2Gi",
  "jetstream.fileStorage.accessModes": ["ReadWriteMany"],
  "jetstream.persistentVolumeClaimRetentionPolicy.whenDeleted": "Delete",
  "jetstream.persistentVolumeClaimRetentionPolicy.whenScaled": "Delete",
  "configReload.mode": "operator",
  "operatorConfig.secret": "op",
  "operatorConfig.systemAccount": accountKey,
  "operatorConfig.resolver": "MEMORY",
  "operatorConfig.systemCredentialsSecret": "sys",
  "configReload.strategy": "canary",
  "configReload.canaryTimeoutSeconds": 600,
  lameDuckDurationSeconds: 45,
  // The opposite of the restricted defaults, which the field is laid over.
  "pod.securityContext.runAsNonRoot": false,
  "pod.securityContext.seccompProfile.type": "Localhost",
  "pod.containerSecurityContext.runAsNonRoot": false,
  "pod.containerSecurityContext.readOnlyRootFilesystem": false,
  "pod.containerSecurityContext.seccompProfile.type": "Localhost",
};

function sample(path: string, s: Schema): unknown {
  if (path in samples) return samples[path];
  if (/FileName$/.test(path)) return "custom.pem";
  if (s.enum) return s.enum.find((e) => e !== s.default) ?? s.enum[0];
  if (s.type === "boolean") return true;
  if (s.type === "integer") return 30;
  if (s.type === "number") return 2.5;
  if (s.type === "array") return ["x"];
  if (s.type === "object") return path.endsWith("limits") || path.endsWith("requests") ? { memory: "1Gi" } : { a: "b" };
  return "x";
}

const schemaAt = (path: string[]): Schema =>
  path.reduce<Schema>((s, k) => {
    const m = /^(.*)\[0\]$/.exec(k);
    return m ? s.properties![m[1]!]!.items! : s.properties![k]!;
  }, specSchema);

/** `spec` with `value` at `path` (list items as `name[0]`), merged into what is there. */
function withValue(spec: NatsClusterSpec, path: string[], value: unknown): NatsClusterSpec {
  const out = structuredClone(spec) as Record<string, any>;
  let at = out;
  for (const [i, k] of path.entries()) {
    const m = /^(.*)\[0\]$/.exec(k);
    const last = i === path.length - 1;
    if (m) {
      at[m[1]!] ??= [{}];
      at = at[m[1]!][0];
    } else if (last) at[k] = value;
    else at = at[k] ??= {};
  }
  return out as NatsClusterSpec;
}

/**
 * nats-operator switches whose every value runs the same under satellite, deliberately: what
 * satellite always does is what the switch asks for (or better). docs/operator.md says so for each,
 * in its "Same either way" item.
 */
const sameEitherWay: Record<string, string> = {
  useServerName: "servers are always named by their pod",
  "pod.disableGatewaysHostPort": "no host port is bound for gateways",
  "pod.disableLeafnodesHostPort": "no host port is bound for leafnodes",
  "pod.disableWebsocketsHostPort": "no host port is bound for websocket",
};
const operatorDoc = readFileSync(fileURLToPath(new URL("../../docs/operator.md", import.meta.url)), "utf8");
/** The "Same either way" item of docs/operator.md's NatsCluster reference: up to the next item. */
const sameEitherWayDoc = /^- \*\*Same either way:\*\*[\s\S]*?(?=^- |^$)/m.exec(operatorDoc)?.[0] ?? "";

/** Fields whose effect shows only at a moment of a cluster's life: the moment, with and without the field. */
const witnesses: Record<string, (spec: NatsClusterSpec) => unknown> = {
  // A rollout to a new config: canary reloads one server first, all reloads every server.
  "configReload.strategy": (spec) => rollout(spec, 0),
  // A canary that has been unhealthy for 20 s: refused after 15 s by default, still waited for at 600.
  "configReload.canaryTimeoutSeconds": (spec) => rollout({ ...spec, configReload: { ...spec.configReload, strategy: "canary" } }, 20_000),
  // A scale-down of a JetStream cluster that passed its check, its server gone: the claim is deleted with Delete.
  "jetstream.persistentVolumeClaimRetentionPolicy.whenScaled": (spec) => {
    const c = natsCluster({ ...spec, size: 1 }, {});
    const pods = [runningPod(c, 1)];
    const claims = [1, 2].map((i) => ({ metadata: { name: `jetstream-demo-${i}` } }));
    const r = reconcileCluster(view({ ...c, status: { jetstream: { removed: ["demo-2"] } } }, { pods, claims }));
    return r.changes.filter((x) => x.op === "delete");
  },
};

function rollout(spec: NatsClusterSpec, canarySince: number) {
  const c = natsCluster({ ...spec, size: 3 });
  const oldConf = 'server_name: $POD_NAME\nport: 4222\ncluster { name: "demo", port: 6222 }\n';
  const newConf = 'server_name: $POD_NAME\nport: 4222\nmax_payload: 2048\ncluster { name: "demo", port: 6222 }\n';
  const digest = (t: string, pod: string) =>
    (configDigest({ "nats.conf": t }, "nats.conf", { POD_NAME: pod }) as { digest: string }).digest;
  const at = new Date(Date.parse(now) - canarySince).toISOString();
  const on = (pod: string) => (canarySince && pod === "demo-1" ? newConf : oldConf);
  const servers = Object.fromEntries(
    ["demo-1", "demo-2", "demo-3"].map((pod) => [
      pod,
      {
        serverId: pod,
        healthy: !(canarySince && pod === "demo-1"),
        routes: 2,
        leafnodes: 0,
        digest: digest(on(pod), pod),
        ...(canarySince && pod === "demo-1" ? { lastReload: { digest: digest(newConf, pod), outcome: "reloaded" as const, at } } : {}),
      },
    ]),
  );
  const r = rolloutStep({
    cluster: c,
    pods: [1, 2, 3].map((i) => runningPod(c, i)),
    size: 3,
    rendered: newConf,
    lastGood: oldConf,
    servers,
    version: "2.14.9",
    connect: { urls: [], user: "satellite", password: "pw" },
    now,
  });
  return { changes: r.changes.map((x) => x.op), condition: r.condition };
}

const outcome = (spec: NatsClusterSpec) => {
  const r = reconcileCluster(view(natsCluster(spec), { secrets, disruptionBudget: null }));
  return { changes: r.changes, degraded: r.status.conditions?.find((c) => c.type === "Degraded") };
};

describe("no silent no-op: every field of the NatsCluster schema does something or is refused", () => {
  const paths = leaves(specSchema).map((p) => p.join("."));

  it("the walk finds every field (and a typo in the schema would show here)", () => {
    expect(paths.length).toBeGreaterThan(70);
    expect(paths).toContain("auth.enableServiceAccounts");
    expect(paths).toContain("leafnodeConfig.remotes[0].credentialsSecret.key");
  });

  it.each(paths)("%s", (path) => {
    const parts = path.split(".");
    const base = contexts
      .filter(([re]) => re.test(path))
      .reduce<NatsClusterSpec>((s, [, ctx]) => mergeDeep(s, ctx), {
        size: 1,
      });
    const value = sample(path, schemaAt(parts));
    const spec = withValue(base, parts, value);
    if (path in sameEitherWay) {
      expect(outcome(withValue(base, parts, false)), `${path}: ${sameEitherWay[path]}`).toEqual(outcome(spec));
      expect(sameEitherWayDoc, `docs/operator.md's "Same either way" says what ${path} does under satellite`).toContain(`\`${path}\``);
      return;
    }
    const witness = witnesses[path];
    if (witness) {
      expect(witness(spec), `${path}: the same with and without it`).not.toEqual(witness(base));
      return;
    }
    const without = outcome(base);
    const withIt = outcome(spec);
    expect(without.degraded?.status, `${path}: its context alone is refused: ${without.degraded?.message}`).toBe("False");
    const refused = withIt.degraded?.status === "True";
    const changed = JSON.stringify(withIt.changes) !== JSON.stringify(without.changes);
    expect(refused || changed, `${path} = ${JSON.stringify(value)} changes nothing and is not refused`).toBe(true);
  });

  it("pod.reloaderImageTag alone (the walk found it ignored): satellite's own image at that tag", () => {
    const r = reconcileCluster(view(natsCluster({ size: 1, pod: { enableConfigReload: true, reloaderImageTag: "0.0.9" } })));
    const pod = r.changes.find((x) => x.op === "create" && x.kind === "Pod") as { object: { spec: { containers: { image: string }[] } } };
    expect(pod.object.spec.containers[1]!.image).toBe("ghcr.io/satellite-nats/satellite:0.0.9");
  });

  it("the refused ones say which field and what to do", () => {
    for (const [path, value] of [["auth.clientsAuthFile", "auth.json"]] as const) {
      const { degraded } = outcome(withValue({ size: 1 }, path.split("."), value));
      expect(degraded).toMatchObject({ status: "True", reason: "InvalidSpec" });
      expect(degraded?.message).toContain(`spec.${path}`);
      expect(degraded?.message).toContain("nothing of this cluster is changed until it is cleared");
    }
  });
});

function mergeDeep(a: Record<string, any>, b: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...a };
  for (const [k, v] of Object.entries(b))
    out[k] = v && typeof v === "object" && !Array.isArray(v) && a[k] && typeof a[k] === "object" ? mergeDeep(a[k], v) : v;
  return out;
}
