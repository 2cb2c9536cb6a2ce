// Each phase of the reconcile on its own (handlers/operator/phases/), with plain objects.
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../handlers/operator/base64.ts";
import { desiredDisruptionBudget } from "../../handlers/operator/disruption-budget.ts";
import { invalidStatus, pausedStatus, servingStatus } from "../../handlers/operator/phases/cluster-status.ts";
import { credentials, systemConnect } from "../../handlers/operator/phases/credentials.ts";
import { observe } from "../../handlers/operator/phases/observe.ts";
import { foreignObjects } from "../../handlers/operator/phases/ownership.ts";
import { renderConfig } from "../../handlers/operator/phases/render.ts";
import { serveConfig } from "../../handlers/operator/phases/serve-config.ts";
import { serverPods } from "../../handlers/operator/phases/server-pods.ts";
import { supportingObjects } from "../../handlers/operator/phases/supporting-objects.ts";
import { clientsAuthKey } from "../../handlers/operator/server-config.ts";
import { validateCluster } from "../../handlers/operator/validate.ts";
import type { Secret } from "../../handlers/types.ts";
import { describe as describeChange, natsCluster, now, runningPod, secret, view } from "./operator-fixtures.ts";

const users = JSON.stringify({ users: [{ username: "app", password: "pw" }] });
const owner = (c: ReturnType<typeof natsCluster>) => ({
  ownerReferences: [{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", name: "demo", uid: c.metadata.uid!, controller: true }],
});

describe("observe (read the view)", () => {
  it("decodes every Secret value once, folds spec.logging into natsConfig and tells owned, live and ready pods apart", () => {
    const c = natsCluster({ size: 2, logging: { debug: true }, tls: { serverSecret: "tls" } });
    const deleting = runningPod(c, 2, { deleting: true });
    const stranger = { ...runningPod(c, 3), metadata: { ...runningPod(c, 3).metadata, ownerReferences: [] } };
    const seen = observe(
      view(c, {
        pods: [runningPod(c, 1), deleting, stranger],
        secrets: { tls: secret("tls", { "ca.pem": "CA TEXT" }), gone: undefined },
        configSecret: {
          ...secret("demo", { "nats.conf": "listen: 4222\n", "system-password": "s3cret" }),
          metadata: { name: "demo", ...owner(c) },
        },
      }),
    );
    expect(seen.secrets).toEqual({ tls: { "ca.pem": "CA TEXT" }, gone: undefined });
    expect(seen.configText).toEqual({ "nats.conf": "listen: 4222\n", "system-password": "s3cret" });
    expect(seen.spec.natsConfig).toEqual({ debug: true, trace: undefined });
    expect(seen.owned.map((p) => p.metadata?.name)).toEqual(["demo-1", "demo-2"]);
    expect(seen.live.map((p) => p.metadata?.name)).toEqual(["demo-1"]);
    expect(seen.ready).toBe(1);
    expect(seen.size).toBe(2);
  });

  it("reads the routes file and names servers by -site in a fleet", () => {
    const c = natsCluster({ size: 1 });
    const routesConfigMap = {
      metadata: { name: "demo-config", namespace: "ns1", resourceVersion: "77" },
      data: { "routes.json": JSON.stringify({ name: "EDGE", routes: ["nats://x:6222"] }) },
    };
    const seen = observe(view(c, { routesConfigMap, site: "paris" }));
    expect(seen.routesFile).toMatchObject({ name: "EDGE", routes: ["nats://x:6222"] });
    expect(seen.routesRevision).toBe("77");
    expect(seen.serverName("demo-1")).toBe("paris-ns1-demo-1");
  });
});

describe("validate", () => {
  it("reads the decoded auth Secret and names missing keys", () => {
    const c = natsCluster({ auth: { clientsAuthSecret: "auth" }, tls: { serverSecret: "tls" } });
    const r = validateCluster(c, { auth: { [clientsAuthKey]: users }, tls: { "ca.pem": "x" } });
    expect(r.clientsAuth?.users?.[0]?.username).toBe("app");
    expect(r.problems).toEqual([
      'spec.tls.serverSecret: secret "tls" has no key "server.pem" (serverSecretCertFileName)',
      'spec.tls.serverSecret: secret "tls" has no key "server-key.pem" (serverSecretKeyFileName)',
    ]);
  });
});

describe("validate: gateways, websocket and the other TLS Secrets", () => {
  const keys = { "ca.pem": "x", "server.pem": "x", "server-key.pem": "x" };
  it("a TLS Secret for a port the cluster does not open, unknown cipher or curve names, and their missing client TLS are refused", () => {
    const c = natsCluster({
      tls: { gatewaySecret: "gw", leafnodeSecret: "ln", websocketSecret: "ws", cipherSuites: ["ASDF"], curvePreferences: ["FOO"] },
      auth: { tlsVerifyAndMap: true },
    });
    expect(validateCluster(c, { gw: keys, ln: keys, ws: keys }).problems).toEqual([
      "spec.tls.gatewaySecret secures a port this cluster does not open: set spec.gatewayConfig, or leave it out",
      "spec.tls.leafnodeSecret secures a port this cluster does not open: set spec.leafnodeConfig.hostPort, or leave it out",
      "spec.tls.websocketSecret secures a port this cluster does not open: set spec.websocketConfig, or leave it out",
      "spec.tls.cipherSuites applies to the client port's TLS: set spec.tls.serverSecret too, or leave it out",
      "spec.tls.curvePreferences applies to the client port's TLS: set spec.tls.serverSecret too, or leave it out",
      "spec.auth.tlsVerifyAndMap applies to the client port's TLS: set spec.tls.serverSecret too, or leave it out",
      expect.stringMatching(
        /^spec\.tls\.cipherSuites has "ASDF", which nats-server 2\.14\.9 does not take \(satellite allows no insecure cipher suite\): use TLS_AES_128_GCM_SHA256, /,
      ),
      'spec.tls.curvePreferences has "FOO", which nats-server 2.14.9 does not take: use X25519MLKEM768, X25519, CurveP256, CurveP384, CurveP521',
    ]);
  });

  it("each TLS Secret is checked for its keys; a gateway without url, a bad handshake timeout and websocket before 2.2.0 are refused", () => {
    const c = natsCluster({
      version: "2.1.9",
      gatewayConfig: { gateways: [{ name: "west" }, { name: "east", url: "http://east:7222" }] },
      websocketConfig: { handshakeTimeout: "5 seconds" },
      tls: { gatewaySecret: "gw", websocketSecret: "ws", websocketSecretCertFileName: "tls.crt" },
    });
    expect(validateCluster(c, { gw: keys, ws: keys }).problems).toEqual([
      'spec.tls.websocketSecret: secret "ws" has no key "tls.crt" (websocketSecretCertFileName)',
      'spec.gatewayConfig.gateways[0] ("west") has no url: give the remote gateway\'s URL',
      'spec.gatewayConfig.gateways[1] ("east") url "http://east:7222" is not a nats:// or tls:// URL with a host, e.g. nats://west-mgmt.nats.svc:7222',
      'spec.websocketConfig.handshakeTimeout "5 seconds" is not a duration: use e.g. "5s"',
      "spec.websocketConfig needs nats-server 2.2.0 or later (the first with WebSocket); spec.version is 2.1.9",
    ]);
  });
});

describe("render: the gateway name is the cluster name", () => {
  it("gatewayConfig.name names the cluster; a routes file naming it otherwise is refused", () => {
    const c = natsCluster({ size: 1, gatewayConfig: { name: "east" } });
    const seen = observe(view(c));
    const r = renderConfig(seen, credentials(seen, undefined), false);
    expect(r.clusterName).toBe("east");
    expect(r.conf).toContain('gateway {\n  name: "east"');
    const renamed = { ...seen, routesFile: { name: "other", routes: [], rest: {} } };
    expect(renderConfig(renamed, credentials(renamed, undefined), false).problems).toEqual([
      'the routes file (config.put) names the cluster "other", but spec.gatewayConfig.name is "east" and nats-server requires the two to be equal: put the routes with that name, or without one',
    ]);
  });
});

describe("credentials", () => {
  it("keeps the passwords the config Secret holds; makes new ones from entropy only when there are none", () => {
    const c = natsCluster({ jetstream: { enabled: true, fileStorage: { size: "1Gi" } } });
    const fresh = credentials(observe(view(c)), undefined);
    expect(fresh).toEqual({
      problems: [],
      systemPassword: "fixture-entropy",
      systemLogin: { password: "fixture-entropy" },
      secretData: { "system-password": encodeBase64("fixture-entropy") },
    });
    const kept = credentials(observe(view(c, { configSecret: secret("demo", { "system-password": "old" }) })), undefined);
    expect(kept.systemPassword).toBe("old");
    expect(credentials(observe(view(c, { entropy: undefined })), undefined).problems).toEqual([
      "no password for the system user yet (the operator supplies one)",
    ]);
  });

  it("adds the config API's user to spec.auth's users, and refuses a user of the same name", () => {
    const c = natsCluster({ auth: { clientsAuthSecret: "auth" } });
    const seen = observe(view(c));
    const r = credentials(seen, { users: [{ username: "app", password: "pw" }] });
    expect(r.clientsAuth?.users?.map((u) => u.username)).toEqual(["app", "satellite-config-api"]);
    expect(Object.keys(r.secretData)).toEqual(["config-api-password"]);
    expect(credentials(seen, { users: [{ username: "satellite-config-api", password: "x" }] }).problems[0]).toMatch(
      /operator's own: rename it/,
    );
  });

  it("reaches the servers over TLS with the decoded CA, checking the certificate against the cluster's names (not the pod IP)", () => {
    const c = natsCluster({ size: 1, tls: { serverSecret: "tls" } });
    const pod = runningPod(c, 1);
    pod.status!.podIP = "10.0.0.5";
    const seen = observe(view(c, { pods: [pod], secrets: { tls: secret("tls", { "ca.pem": "PEM" }) } }));
    expect(systemConnect(seen, { password: "pw" })).toEqual({
      urls: ["tls://10.0.0.5:4222"],
      user: "satellite",
      password: "pw",
      ca: "PEM",
      tlsNames: [
        "demo.ns1.svc",
        "demo.ns1.svc.cluster.local",
        "demo.ns1",
        "demo",
        "demo-1.demo-mgmt.ns1.svc",
        "demo-1.demo-mgmt.ns1.svc.cluster.local",
      ],
    });
  });
});

describe("systemConnect with tls.verify", () => {
  it("presents the server's own certificate where servers verify clients'", () => {
    const c = natsCluster({ size: 1, configReload: { mode: "operator" }, tls: { serverSecret: "tls", verify: true } });
    const pod = runningPod(c, 1);
    pod.status!.podIP = "10.0.0.5";
    const seen = observe(
      view(c, { pods: [pod], secrets: { tls: secret("tls", { "ca.pem": "CA", "server.pem": "CERT", "server-key.pem": "KEY" }) } }),
    );
    expect(systemConnect(seen, { password: "pw" })).toMatchObject({ urls: ["tls://10.0.0.5:4222"], ca: "CA", cert: "CERT", key: "KEY" });
  });
});

describe("render", () => {
  const noCreds = { problems: [], secretData: {} };
  it("routes to every pod, then extra routes, then the routes file's, each once", () => {
    const c = natsCluster({ size: 2, extraRoutes: [{ cluster: "other" }, { route: "nats://a:6222" }] });
    const routesConfigMap = {
      metadata: { name: "demo-config" },
      data: { "routes.json": JSON.stringify({ routes: ["nats://a:6222", "nats://b:6222"] }) },
    };
    const r = renderConfig(observe(view(c, { routesConfigMap })), noCreds, false);
    expect(r.routes).toEqual([
      "nats://demo-1.demo-mgmt.ns1.svc:6222",
      "nats://demo-2.demo-mgmt.ns1.svc:6222",
      "nats://other-mgmt.ns1.svc:6222",
      "nats://a:6222",
      "nats://b:6222",
    ]);
    expect(r.conf).toContain('name: "demo"');
  });

  it("renders nothing after earlier problems", () => {
    const r = renderConfig(observe(view(natsCluster({ size: 1 }))), noCreds, true);
    expect(r.conf).toBeUndefined();
    expect(r.problems).toEqual([]);
  });

  it("refuses to rename a cluster whose servers hold streams", () => {
    const c = natsCluster({ size: 1, jetstream: { enabled: true, fileStorage: { size: "1Gi" } } });
    const before = renderConfig(observe(view(c)), { ...noCreds, systemPassword: "pw" }, false).conf!;
    const routesConfigMap = { metadata: { name: "demo-config" }, data: { "routes.json": JSON.stringify({ name: "RENAMED", routes: [] }) } };
    const servers = {
      "demo-1": {
        serverId: "N1",
        healthy: true,
        routes: 0,
        leafnodes: 0,
        jetstream: { enabled: true, peers: [], streams: [{ account: "A", name: "ORDERS", replicas: 1, servers: ["demo-1"] }] },
      },
    };
    const seen = observe(view(c, { routesConfigMap, servers, configSecret: secret("demo", { "nats.conf": before }) }));
    const r = renderConfig(seen, { ...noCreds, systemPassword: "pw" }, false);
    expect(r.conf).toBeUndefined();
    expect(r.problems[0]).toMatch(/JetStream holds 1 stream here, so the cluster name \(demo → RENAMED\) must not change/);
  });
});

describe("ownership", () => {
  it("names the config Secret and Services another owner holds", () => {
    const c = natsCluster({ size: 1 });
    const foreign: Secret = { metadata: { name: "demo", namespace: "ns1" } };
    const seen = observe(
      view(c, { configSecret: foreign, services: [{ metadata: { name: "demo-mgmt", ...owner(c) } }, { metadata: { name: "demo" } }] }),
    );
    expect(foreignObjects(seen)).toEqual([
      'secret "demo" already exists and is not controlled by this NatsCluster: rename or delete it',
      'service "demo" already exists and is not controlled by this NatsCluster: rename or delete it',
    ]);
  });
});

describe("serve the config", () => {
  const rendered = (conf: string) => ({ conf, routes: ["nats://r:6222"], clusterName: "demo", tlsFiles: {}, problems: [] });
  const creds = { problems: [], secretData: {} };

  it("creates the routes file and the config Secret, then replaces the Secret only when the config changes", () => {
    const c = natsCluster({ size: 1 });
    const first = serveConfig(observe(view(c)), rendered("a: 1\n"), creds);
    expect(first.changes.map(describeChange)).toEqual(["create ConfigMap demo-config", "create Secret demo"]);
    const have = (first.changes[1] as { object: Secret }).object;
    const routesConfigMap = { metadata: { name: "demo-config", resourceVersion: undefined } };
    const same = serveConfig(observe(view(c, { configSecret: have, routesConfigMap })), rendered("a: 1\n"), creds);
    expect(same).toEqual({ changes: [], events: [], target: "a: 1\n" });
    const changed = serveConfig(observe(view(c, { configSecret: have, routesConfigMap })), rendered("a: 2\n"), creds);
    expect(changed.changes.map(describeChange)).toEqual(["replace Secret demo"]);
    expect(decodeBase64((changed.changes[0] as { object: Secret }).object.data!["nats.conf"]!)).toBe("a: 2\n");
    expect(changed.events).toEqual([
      { type: "Normal", reason: "ConfigUpdated", message: "server config changed (1 routes, cluster name demo); servers reload it" },
    ]);
  });

  it("operator mode: the first Secret holds the config as the last good one too, and the system password", () => {
    const c = natsCluster({ size: 1, configReload: { mode: "operator" } });
    const r = serveConfig(observe(view(c, { routesConfigMap: { metadata: { name: "demo-config" } } })), rendered("a: 1\n"), {
      ...creds,
      systemPassword: "pw",
      systemLogin: { password: "pw" },
    });
    const data = (r.changes[0] as { object: Secret }).object.data!;
    expect(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, decodeBase64(v)]))).toEqual({
      "nats.conf": "a: 1\n",
      "last-good.conf": "a: 1\n",
      "system-password": "pw",
    });
    expect(r.rollout).toBeUndefined();
  });
});

describe("supporting objects", () => {
  it("makes the reloader's account and role only with the sidecar, and puts a changed Service right", () => {
    const plain = natsCluster({ size: 1 });
    expect(supportingObjects(observe(view(plain))).map(describeChange)).toEqual(["create Service demo", "create Service demo-mgmt"]);
    const withReloader = natsCluster({ size: 1, pod: { enableConfigReload: true } });
    const live = supportingObjects(observe(view(withReloader))).flatMap((x) =>
      x.op === "create" && x.kind === "Service" ? [x.object] : [],
    );
    const changed = { ...live[0]!, spec: { ...live[0]!.spec, ports: [] } };
    expect(supportingObjects(observe(view(withReloader, { services: [changed, live[1]!] }))).map(describeChange)).toEqual([
      "create ServiceAccount demo-reloader",
      "create Role demo-reloader",
      "create RoleBinding demo-reloader",
      "replace Service demo",
    ]);
  });
});

describe("PodDisruptionBudget", () => {
  const budget = (c: ReturnType<typeof natsCluster>) =>
    supportingObjects(observe(view(c, { disruptionBudget: null }))).find((x) => x.kind === "PodDisruptionBudget");
  const maxUnavailable = (c: ReturnType<typeof natsCluster>) =>
    (c.spec?.size ?? 0) - (budget(c) as { object: { spec: { minAvailable: number } } }).object.spec.minAvailable;
  const js = { enabled: true, fileStorage: { size: "1Gi" } };

  it("makes one per cluster, owned by it, selecting its servers only", () => {
    const c = natsCluster({ size: 3 });
    expect(budget(c)).toMatchObject({
      op: "create",
      object: {
        metadata: { name: "demo", namespace: "ns1", ownerReferences: [{ kind: "NatsCluster", name: "demo", controller: true }] },
        spec: { minAvailable: 2, selector: { matchLabels: { app: "nats", nats_cluster: "demo" } } },
      },
    });
  });

  it("one server at a time; with JetStream never the meta group's quorum", () => {
    expect([1, 2, 3, 5].map((size) => maxUnavailable(natsCluster({ size })))).toEqual([1, 1, 1, 1]);
    expect([1, 2, 3, 4, 5].map((size) => maxUnavailable(natsCluster({ size, jetstream: js })))).toEqual([0, 0, 1, 1, 1]);
    expect(maxUnavailable(natsCluster({ size: 2, jetstream: js, podDisruptionBudget: { maxUnavailable: 1 } }))).toBe(1);
  });

  it("puts a changed budget right, keeps a converged one, and will not take over another's", () => {
    const c = natsCluster({ size: 3, jetstream: js });
    const live = desiredDisruptionBudget(natsCluster({ size: 3 }));
    const edited = { ...live, spec: { ...live.spec, minAvailable: undefined, maxUnavailable: 1 } };
    const changes = supportingObjects(observe(view(c, { disruptionBudget: edited }))).filter((x) => x.kind === "PodDisruptionBudget");
    expect(changes).toMatchObject([{ op: "replace", object: { spec: { minAvailable: 2, maxUnavailable: undefined } } }]);
    const grown = natsCluster({ size: 1, jetstream: js });
    expect(supportingObjects(observe(view(grown, { disruptionBudget: live }))).map(describeChange)).toContain(
      "replace PodDisruptionBudget demo",
    );
    expect(supportingObjects(observe(view(c))).map(describeChange)).not.toContain("replace PodDisruptionBudget demo");
    const foreign = { ...live, metadata: { ...live.metadata, ownerReferences: [] } };
    expect(foreignObjects(observe(view(c, { disruptionBudget: foreign })))).toEqual([
      'poddisruptionbudget "demo" already exists and is not controlled by this NatsCluster: rename or delete it',
    ]);
  });
});

describe("server pods", () => {
  it("creates the missing pods with the template's hash and says so", () => {
    const c = natsCluster({ size: 2 });
    const r = serverPods(observe(view(c, { pods: [runningPod(c, 1)] })), "conf", undefined);
    expect(r.changes.map(describeChange)).toEqual(["create Pod demo-2"]);
    expect(r.plan.reason).toBe("CreatingPods");
    expect(r.jetstream).toBeUndefined();
  });

  it("JetStream: a claim before each pod, and the gate's findings for the status", () => {
    const c = natsCluster({ size: 1, jetstream: { enabled: true, fileStorage: { size: "1Gi" } } });
    const r = serverPods(observe(view(c)), "conf", { password: "pw" });
    expect(r.changes.map(describeChange)).toEqual(["create PersistentVolumeClaim jetstream-demo-1", "create Pod demo-1"]);
    expect(r.jetstream).toEqual({ status: {}, wait: "the JetStream meta group has no leader", stalePeers: [], removed: [] });
  });
});

describe("status", () => {
  const c = natsCluster({ size: 1 });
  it("paused: one Normal Event when it starts, none while it lasts", () => {
    const first = pausedStatus(observe(view(c)), []);
    expect(first.events).toEqual([{ type: "Normal", reason: "Paused", message: "reconciling is paused (spec.paused)" }]);
    const again = pausedStatus(observe(view({ ...c, status: first.status })), []);
    expect(again.events).toEqual([]);
  });

  it("invalid: Degraded lists the problems; the Warning Event is not repeated for the same ones", () => {
    const first = invalidStatus(observe(view(c)), ["a", "b"]);
    expect(first.status.conditions?.find((x) => x.type === "Degraded")).toMatchObject({ status: "True", message: "a; b" });
    expect(first.events).toEqual([{ type: "Warning", reason: "InvalidSpec", message: "a; b" }]);
    expect(invalidStatus(observe(view({ ...c, status: first.status })), ["a", "b"]).events).toEqual([]);
  });

  it("serving: a rollout waiting a minute for JetStream becomes JetStreamNotCurrent with one Warning Event", () => {
    const js = natsCluster({ size: 1, jetstream: { enabled: true, fileStorage: { size: "1Gi" } } });
    const since = new Date(Date.parse(now) - 61_000).toISOString();
    const seen = observe(view({ ...js, status: { jetstream: { waitingSince: since } } }));
    const pods = {
      changes: [],
      events: [],
      plan: { changes: [], events: [], reason: "WaitingForJetStream", message: "no server is stopped until JetStream is current: x" },
      pods: [],
      template: { labels: {}, annotations: {}, spec: { containers: [] } },
      hash: "h",
      jetstream: { status: {}, wait: "x", stalePeers: [], removed: [] },
    };
    const r = servingStatus(seen, pods, undefined);
    expect(r.status.conditions?.find((x) => x.type === "Progressing")).toMatchObject({ status: "False", reason: "JetStreamNotCurrent" });
    expect(r.events).toEqual([{ type: "Warning", reason: "JetStreamNotCurrent", message: "rollout paused: x" }]);
    expect(r.status.jetstream?.waitingSince).toBe(since);
    expect(r.requeueAfterMs).toBe(2_000);
    const later = servingStatus(observe(view({ ...js, status: r.status })), pods, undefined);
    expect(later.events).toEqual([]);
  });
});
