import { describe, expect, it } from "vitest";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import { jwtAccountsOf } from "../../handlers/operator/operator-jwt.ts";
import { credentials } from "../../handlers/operator/phases/credentials.ts";
import { observe } from "../../handlers/operator/phases/observe.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import type { Secret } from "../../handlers/types.ts";
import { accountKey, fakeJwt, natsCluster, operatorKey, secret, sysCreds, view } from "./operator-fixtures.ts";

const opJwt = fakeJwt(operatorKey);
const accountJwt = fakeJwt(accountKey);
const secrets: Record<string, Secret> = {
  op: secret("op", { "op.jwt": `${opJwt}\n`, [accountKey]: accountJwt }),
  sys: secret("sys", { "sys.creds": sysCreds }),
};
const jwtCluster = (spec: NatsClusterSpec) =>
  natsCluster({ size: 3, operatorConfig: { secret: "op", systemAccount: accountKey, resolver: "full" }, ...spec });

/** The nats.conf the reconcile writes into the config Secret, and its problems. */
function configOf(spec: NatsClusterSpec, s: Record<string, Secret> = secrets) {
  const r = reconcileCluster(view(jwtCluster(spec), { secrets: s }));
  const config = r.changes.find((c) => c.op === "create" && c.kind === "Secret") as { object: Secret } | undefined;
  const degraded = r.status?.conditions?.find((c) => c.type === "Degraded" && c.status === "True");
  return { conf: config && decodeBase64(config.object.data!["nats.conf"]!), degraded: degraded?.message, changes: r.changes };
}

describe("operatorConfig: JWT accounts", () => {
  it("writes the operator JWT, the system account, the NATS-based resolver and the preloaded accounts into nats.conf", () => {
    const { conf, degraded } = configOf({});
    expect(degraded).toBeUndefined();
    expect(conf).toContain(`operator: "${opJwt}"`);
    expect(conf).toContain(`system_account: ${accountKey}`);
    expect(conf).toContain('resolver {\n  type: full\n  dir: "/var/run/nats/jwt"\n  allow_delete: false\n  interval: "2m"\n}');
    expect(conf).toContain(`resolver_preload {\n  ${accountKey}: "${accountJwt}"\n}`);
    expect(conf).not.toMatch(/authorization|accounts \{/);
  });

  it("keeps the resolver's accounts on the JetStream claim where there is one", () => {
    const { conf } = configOf({
      jetstream: { enabled: true, fileStorage: { size: "1Gi" } },
      operatorConfig: { secret: "op", resolver: "full", systemCredentialsSecret: "sys" },
    });
    expect(conf).toContain('dir: "/data/jwt"');
  });

  it("takes nats-operator's resolvers: an account server's URL, or MEMORY", () => {
    expect(configOf({ operatorConfig: { secret: "op", resolver: "URL(https://accounts.example:9090/jwt/v1/accounts/)" } }).conf).toContain(
      'resolver: "URL(https://accounts.example:9090/jwt/v1/accounts/)"',
    );
    expect(configOf({ operatorConfig: { secret: "op", resolver: "MEMORY" } }).conf).toContain("resolver: MEMORY\n");
  });

  it("acts as the system user with the creds the user gives, and puts no user of its own into the config", () => {
    const c = jwtCluster({
      jetstream: { enabled: true, fileStorage: { size: "1Gi" } },
      operatorConfig: { secret: "op", resolver: "full", systemCredentialsSecret: "sys" },
    });
    const creds = credentials(observe(view(c, { secrets })), undefined);
    expect(creds).toMatchObject({ problems: [], systemLogin: { creds: sysCreds } });
    expect(creds.systemPassword).toBeUndefined();
  });

  it.each([
    ["the Secret missing", { operatorConfig: { secret: "nope", resolver: "full" } }, secrets, /secret "nope" not found/],
    ["no op.jwt", { operatorConfig: { secret: "sys", resolver: "full" } }, secrets, /has no key "op.jwt"/],
    [
      "an account JWT as the operator's",
      { operatorConfig: { secret: "bad", resolver: "full" } },
      { bad: secret("bad", { "op.jwt": accountJwt }) },
      /is not an operator JWT/,
    ],
    [
      "a preload under another account's key",
      { operatorConfig: { secret: "bad", resolver: "full" } },
      { bad: secret("bad", { "op.jwt": opJwt, [accountKey]: fakeJwt(`A${"Q".repeat(55)}`) }) },
      /key "A[B]+" is not that account's JWT/,
    ],
    [
      "a system account that is no key",
      { operatorConfig: { secret: "op", systemAccount: "SYS", resolver: "full" } },
      secrets,
      /not an account public key/,
    ],
    ["a resolver it does not know", { operatorConfig: { secret: "op", resolver: "URL(ftp://x)" } }, secrets, /is not a resolver/],
    [
      "users of spec.auth",
      { auth: { clientsAuthSecret: "auth" } },
      { ...secrets, auth: secret("auth", { "clients-auth.json": '{"users":[]}' }) },
      /spec.auth.clientsAuthSecret does not go with spec.operatorConfig/,
    ],
    ["the reloader sidecar", { pod: { enableConfigReload: true } }, secrets, /enableConfigReload does not go with spec.operatorConfig/],
    [
      "JetStream without a system user's creds",
      { jetstream: { enabled: true, fileStorage: { size: "1Gi" } } },
      secrets,
      /set operatorConfig.systemCredentialsSecret/,
    ],
    [
      "a system user's creds nothing uses",
      { operatorConfig: { secret: "op", resolver: "full", systemCredentialsSecret: "sys" } },
      secrets,
      /used only with spec.jetstream or configReload.mode operator/,
    ],
    [
      "creds that are not a creds file",
      { configReload: { mode: "operator" as const }, operatorConfig: { secret: "op", resolver: "full", systemCredentialsSecret: "bad" } },
      { ...secrets, bad: secret("bad", { "sys.creds": "password" }) },
      /is not a creds file/,
    ],
  ] as [string, NatsClusterSpec, Record<string, Secret>, RegExp][])("refuses %s, and makes nothing", (_, spec, s, message) => {
    const r = configOf(spec, s);
    expect(r.degraded).toMatch(message);
    expect(r.changes.filter((c) => c.op === "create" && (c.kind === "Pod" || c.kind === "Secret"))).toEqual([]);
  });

  it("reads only what it names", () => {
    expect(jwtAccountsOf(natsCluster({ size: 1 }), {})).toEqual({ problems: [] });
  });
});
