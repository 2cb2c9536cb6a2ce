// spec.auth.clusterAuthSecret / gatewayAuthSecret (nats-operator's route and gateway
// authorization): the Secret read as nats-operator read it, the authorization blocks and the
// credentials in the URLs the servers dial, refusals that name the Secret and key, and a
// password that shows nowhere but in the config Secret.
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "../../handlers/operator/base64.ts";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { type RolloutInput, rolloutStep } from "../../handlers/operator/reload-rollout.ts";
import { renderServerConfig, type ServerConfigInput } from "../../handlers/operator/server-config.ts";
import { type PeerAuth, parsePeerAuth, withCredentials } from "../../handlers/operator/server-config-peer-auth.ts";
import { referencedSecrets } from "../../handlers/operator/validate.ts";
import { configDigest } from "../../handlers/reloader/digest.ts";
import { routeCredentialsChanged } from "../../handlers/reloader/reloadable.ts";
import type { Secret } from "../../handlers/types.ts";
import { condition, natsCluster, now, runningPod, summary, view } from "./operator-fixtures.ts";

const password = "p@ss:w/rd %?#é";
const routeAuth: PeerAuth = { username: "route user", password };
const routeJson = JSON.stringify({ username: "route user", password });
const gatewayJson = JSON.stringify({ username: "gw", password: "gw-secret", timeout: 4 });

/** A Secret with its values as UTF-8 (the fixtures' btoa takes Latin-1 only). */
const secret = (name: string, data: Record<string, string>): Secret => ({
  metadata: { name, namespace: "ns1" },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, encodeBase64(v)])),
});
const parsed = (json: unknown) => parsePeerAuth(typeof json === "string" ? json : JSON.stringify(json));
const render = (spec: NatsClusterSpec, more: Partial<ServerConfigInput>) => {
  const r = renderServerConfig({
    cluster: { ...natsCluster(spec), metadata: { name: "nats", namespace: "edge-1" } },
    clusterName: "nats",
    routes: ["nats://nats-1.nats-mgmt.edge-1.svc:6222", "nats-route://own:pw@far.example.com:6222", "nats://[::1]:6222"],
    ...more,
  });
  if ("error" in r) throw new Error(r.error.message);
  return r.text;
};
const between = (text: string, start: string) => text.slice(text.indexOf(start), text.indexOf("\n}\n", text.indexOf(start)) + 3);

describe("the Secret's JSON, as nats-operator's AuthorizationConfig", () => {
  it("takes username, password and timeout", () => {
    expect(parsed({ username: "a", password: "b", timeout: 2.5 })).toEqual({ value: { username: "a", password: "b", timeout: 2.5 } });
    expect(parsed({ username: "a", password: "b" })).toEqual({ value: { username: "a", password: "b" } });
  });

  it.each([
    [
      { users: [{ username: "a", password: "b" }] },
      `has "users", but nats-server takes a single user here: give "username" and "password" instead`,
    ],
    [{ token: "t" }, `has "token", which nats-server does not take here: give "username" and "password" instead`],
    [{ username: "a", password: "b", user: "c" }, `has unknown field "user"; known fields are username, password, timeout`],
    [{ password: "b" }, `has no "username"`],
    [{ username: "a" }, `has no "password"`],
    [{ username: "a", password: "" }, `has no "password"`],
    [{ username: 1, password: "b" }, `"username" must be a string, not a number`],
    [{ username: "a", password: "b\nc" }, `"password" contains a newline (U+000A) at position 1, which nats.conf cannot hold`],
    [{ username: "a", password: "b", timeout: -1 }, `"timeout" must be a number of seconds, 0 or more`],
    [["a"], `must be a JSON object with "username" and "password", not a list`],
  ])("refuses %j", (json, message) => {
    expect(parsed(json)).toEqual({ error: { code: 400, message } });
  });

  it("refuses text that is not JSON without quoting it: the password is not echoed", () => {
    const r = parsed(`{"username": "a", "password": hunter2}`);
    expect(r).toMatchObject({ error: { message: expect.stringMatching(/^not valid JSON/) } });
    expect(JSON.stringify(r)).not.toContain("hunter2");
  });
});

describe("credentials in the URLs the servers dial", () => {
  it("percent-encodes the user and password; a URL naming its own user keeps it", () => {
    const url = withCredentials("nats://nats-1.nats-mgmt.edge-1.svc:6222", routeAuth);
    expect(url).toBe("nats://route%20user:p%40ss%3Aw%2Frd%20%25%3F%23%C3%A9@nats-1.nats-mgmt.edge-1.svc:6222");
    const back = new URL(url);
    expect([decodeURIComponent(back.username), decodeURIComponent(back.password), back.hostname]).toEqual([
      "route user",
      password,
      "nats-1.nats-mgmt.edge-1.svc",
    ]);
    expect(withCredentials("nats://own:pw@far:6222", routeAuth)).toBe("nats://own:pw@far:6222");
    expect(withCredentials("nats://[::1]:6222/x?y", routeAuth)).toMatch(/^nats:\/\/route%20user:[^@/]+@\[::1\]:6222\/x\?y$/);
    expect(withCredentials("nats://a:6222", undefined)).toBe("nats://a:6222");
  });
});

describe("rendered nats.conf", () => {
  it("routes: an authorization block, and every route URL without a user of its own carries the credentials", () => {
    const text = render({ auth: { clusterAuthSecret: "route-auth" } }, { clusterAuth: routeAuth });
    expect(between(text, "cluster {")).toBe(`cluster {
  name: "nats"
  listen: "0.0.0.0:6222"
  routes: [
    "nats://route%20user:p%40ss%3Aw%2Frd%20%25%3F%23%C3%A9@nats-1.nats-mgmt.edge-1.svc:6222"
    "nats-route://own:pw@far.example.com:6222"
    "nats://route%20user:p%40ss%3Aw%2Frd%20%25%3F%23%C3%A9@[::1]:6222"
  ]
  authorization {
    user: "route user"
    password: "p@ss:w/rd %?#é"
  }
}
`);
  });

  it("the timeout: clusterAuthTimeout when above 0, else the Secret's, else none (nats-server's default, as nats-operator left it)", () => {
    const timeout = (spec: NatsClusterSpec, auth: PeerAuth) =>
      /timeout: (\S+)/.exec(between(render(spec, { clusterAuth: auth }), "cluster {"))?.[1];
    expect(timeout({ auth: { clusterAuthTimeout: 5 } }, { ...routeAuth, timeout: 2 })).toBe("5");
    expect(timeout({ auth: { clusterAuthTimeout: 0 } }, { ...routeAuth, timeout: 2 })).toBe("2");
    expect(timeout({}, routeAuth)).toBeUndefined();
  });

  it("no Secret, no authorization and URLs as they were", () => {
    const text = render({}, {});
    expect(text).not.toContain("authorization");
    expect(text).toContain(`"nats://nats-1.nats-mgmt.edge-1.svc:6222"`);
  });

  const gatewayConfig = {
    gateways: [
      { name: "nats", url: "nats://nats-mgmt.edge-1.svc:7222" },
      { name: "west", url: "nats://west-user:west-pw@west.example.com:7222" },
    ],
  };
  const gwAuth = { username: "gw", password: "gw secret", timeout: 4 };

  it("gateways: an authorization block with gatewayAuthTimeout; remote URLs as the spec gives them (2.2.0 and later dial with their own credentials)", () => {
    const text = render({ gatewayConfig, auth: { gatewayAuthSecret: "gw", gatewayAuthTimeout: 3 } }, { gatewayAuth: gwAuth });
    expect(between(text, "gateway {")).toBe(`gateway {
  name: "nats"
  listen: "0.0.0.0:7222"
  authorization {
    user: "gw"
    password: "gw secret"
    timeout: 3
  }
  gateways: [
    { name: "nats", url: "nats://nats-mgmt.edge-1.svc:7222" }
    { name: "west", url: "nats://west-user:west-pw@west.example.com:7222" }
  ]
}
`);
    expect(between(text, "cluster {")).not.toContain("authorization");
  });

  it("gateways before 2.2.0 dial a URL without a user with none: the gateways' credentials go into it", () => {
    const text = render({ version: "2.1.9", gatewayConfig, auth: { gatewayAuthSecret: "gw" } }, { gatewayAuth: gwAuth });
    expect(text).toContain(`{ name: "nats", url: "nats://gw:gw%20secret@nats-mgmt.edge-1.svc:7222" }`);
    expect(text).toContain(`{ name: "west", url: "nats://west-user:west-pw@west.example.com:7222" }`);
    expect(text).toContain("timeout: 4");
  });
});

describe("the reconcile", () => {
  const spec: NatsClusterSpec = { size: 2, auth: { clusterAuthSecret: "route-auth" } };
  const good = { "route-auth": secret("route-auth", { "cluster-auth.json": routeJson }) };
  const configOf = (secrets: Record<string, Secret | undefined>, s = spec) => {
    const r = reconcileCluster(view(natsCluster(s), { secrets }));
    const config = r.changes.find((x) => x.op === "create" && x.kind === "Secret") as { object: Secret } | undefined;
    return { r, conf: config && decodeBase64(config.object.data!["nats.conf"]!) };
  };

  it("watches the Secrets it names, so a change of one is reconciled", () => {
    expect(referencedSecrets(natsCluster({ auth: { clusterAuthSecret: "a", gatewayAuthSecret: "b" }, gatewayConfig: {} }))).toEqual([
      "a",
      "b",
    ]);
  });

  it("renders the routes' authorization into the config Secret; the password shows in no Event or status", () => {
    const { r, conf } = configOf(good);
    expect(condition(r, "Degraded")?.status).toBe("False");
    expect(conf).toContain(`user: "route user"`);
    expect(conf).toContain(`"nats://route%20user:p%40ss%3Aw%2Frd%20%25%3F%23%C3%A9@demo-1.demo-mgmt.ns1.svc:6222"`);
    const outside = JSON.stringify([r.events, r.status, r.changes.filter((x) => !(x.op === "create" && x.kind === "Secret"))]);
    expect(outside).not.toContain("p@ss");
    expect(outside).not.toContain("p%40ss");
  });

  it("takes the Secret's only key when it has no cluster-auth.json, as nats-operator took any", () => {
    expect(configOf({ "route-auth": secret("route-auth", { "auth.json": routeJson }) }).conf).toContain(`user: "route user"`);
  });

  it.each([
    ["a missing Secret", {}, `spec.auth.clusterAuthSecret: secret "route-auth" not found in namespace "ns1"`],
    [
      "a Secret with keys, none of them cluster-auth.json",
      { "route-auth": secret("route-auth", { a: routeJson, b: routeJson }) },
      `spec.auth.clusterAuthSecret: secret "route-auth" has keys "a", "b" and none is "cluster-auth.json": put the authorization JSON under that key`,
    ],
    [
      "a Secret that is not JSON",
      { "route-auth": secret("route-auth", { "cluster-auth.json": `{"username": "u", "password": ${password}}` }) },
      `spec.auth.clusterAuthSecret: secret "route-auth" key "cluster-auth.json": not valid JSON`,
    ],
    [
      "a Secret with a list of users",
      { "route-auth": secret("route-auth", { "cluster-auth.json": JSON.stringify({ users: [{ username: "u", password }] }) }) },
      `spec.auth.clusterAuthSecret: secret "route-auth" key "cluster-auth.json": has "users", but nats-server takes a single user here: give "username" and "password" instead`,
    ],
  ])("%s: refused, naming the Secret and key; nothing is created", (_name, secrets, message) => {
    const { r, conf } = configOf(secrets);
    expect(summary(r)).toEqual([]);
    expect(conf).toBeUndefined();
    expect(condition(r, "Degraded")).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(condition(r, "Degraded")?.message).toContain(message);
    expect(JSON.stringify([r.events, r.status])).not.toContain("p@ss");
  });

  it("gatewayAuthSecret: rendered with spec.gatewayConfig, refused without it", () => {
    const gw = { gw: secret("gw", { "gateway-auth.json": gatewayJson }) };
    const withGateway = configOf(gw, { size: 1, gatewayConfig: {}, auth: { gatewayAuthSecret: "gw" } });
    expect(between(withGateway.conf!, "gateway {")).toContain(`password: "gw-secret"`);
    const without = configOf(gw, { size: 1, auth: { gatewayAuthSecret: "gw" } });
    expect(summary(without.r)).toEqual([]);
    expect(condition(without.r, "Degraded")?.message).toContain(
      "spec.auth.gatewayAuthSecret authorizes gateways, which this cluster does not open: set spec.gatewayConfig, or leave it out",
    );
  });
});

describe("a change of the routes' credentials (configReload.mode operator)", () => {
  const conf = (user: string, pass: string, timeout = 2) =>
    `server_name: $POD_NAME\nport: 4222\ncluster {\n  name: "demo"\n  port: 6222\n  routes: ["nats://${user}:${pass}@demo-1.demo-mgmt.ns1.svc:6222"]\n  authorization {\n    user: "${user}"\n    password: "${pass}"\n    timeout: ${timeout}\n  }\n}\n`;

  it("is seen in the user or password, not in the timeout or elsewhere", () => {
    expect(routeCredentialsChanged(conf("a", "b"), conf("a", "c"))).toBe(true);
    expect(routeCredentialsChanged(conf("a", "b"), conf("x", "b"))).toBe(true);
    expect(routeCredentialsChanged("port: 4222\n", conf("a", "b"))).toBe(true);
    expect(routeCredentialsChanged(conf("a", "b"), conf("a", "b", 5))).toBe(false);
    expect(routeCredentialsChanged("port: 4222\n", "port: 4223\n")).toBe(false);
  });

  it("goes to every server at once even under the canary strategy: a lone canary with new credentials has no routes by design", () => {
    const c = natsCluster({ size: 3, configReload: { mode: "operator", strategy: "canary" } });
    const digest = (text: string, pod: string) =>
      (configDigest({ "nats.conf": text }, "nats.conf", { POD_NAME: pod }) as { digest: string }).digest;
    const input = (rendered: string): RolloutInput => ({
      cluster: c,
      pods: [1, 2, 3].map((i) => runningPod(c, i)),
      size: 3,
      rendered,
      lastGood: conf("a", "b"),
      servers: Object.fromEntries(
        [1, 2, 3].map((i) => [
          `demo-${i}`,
          { serverId: `id-${i}`, healthy: true, routes: 2, leafnodes: 0, digest: digest(conf("a", "b"), `demo-${i}`) },
        ]),
      ),
      version: "2.14.9",
      connect: { urls: [], user: "satellite", password: "pw" },
      now,
    });
    const nudged = (rendered: string) =>
      rolloutStep(input(rendered))
        .changes.filter((x) => x.op === "replace")
        .map((x) => (x as { object: { metadata?: { name?: string } } }).object.metadata?.name);
    expect(nudged(conf("a", "new"))).toEqual(["demo-1", "demo-2", "demo-3"]);
    expect(nudged(conf("a", "b", 5))).toEqual(["demo-1"]);
  });
});
