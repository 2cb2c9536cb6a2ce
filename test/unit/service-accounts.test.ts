// spec.auth.enableServiceAccounts, the pure part: users from NatsServiceRoles and ServiceAccount
// tokens, merged with the other users; clashes refused; when a token is asked for and replaced;
// nats-operator's token Secrets taken over as they are.
import { describe, expect, it } from "vitest";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import type { NatsCluster } from "../../handlers/operator/natscluster.ts";
import type { NatsServiceRole } from "../../handlers/operator/natsservicerole.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import {
  annotationTokenAdopted,
  labelClusterNamespace,
  refreshAtMs,
  tokenClaims,
  tokenDue,
} from "../../handlers/operator/service-account-token.ts";
import { clustersToReconcile } from "../../handlers/operator/triggers.ts";
import type { Change, Secret, ServiceAccount } from "../../handlers/types.ts";
import { natsCluster, now, secret, view } from "./operator-fixtures.ts";

const nowS = Date.parse(now) / 1000;
const b64url = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
/** A token as the API server's TokenRequest gives it (the signature is not read). */
function jwt(claims: { iat: number; exp: number; sa?: string; secret?: string; aud?: string[] }): string {
  return [
    b64url({ alg: "RS256", kid: "k" }),
    b64url({
      aud: claims.aud ?? ["nats://demo.ns1.svc"],
      iat: claims.iat,
      exp: claims.exp,
      sub: "system:serviceaccount:ns1:app",
      "kubernetes.io": {
        namespace: "ns1",
        serviceaccount: { name: "app", uid: claims.sa ?? "uid-sa-app" },
        secret: { name: "app-demo-bound-token", uid: claims.secret ?? "uid-token" },
      },
    }),
    "c2lnbmF0dXJl",
  ].join(".");
}

const role = (name: string, permissions: NatsServiceRole["spec"] = { permissions: { publish: ["orders.>"], subscribe: ["replies.*"] } }) =>
  ({
    apiVersion: "nats.io/v1alpha2",
    kind: "NatsServiceRole",
    metadata: { name, namespace: "ns1", uid: `uid-role-${name}`, labels: { nats_cluster: "demo" } },
    spec: permissions,
  }) as NatsServiceRole;
const account = (name: string, ns = "ns1"): ServiceAccount => ({ metadata: { name, namespace: ns, uid: `uid-sa-${name}` } });
function tokenSecret(token: string | undefined, extra: { ours?: boolean; annotations?: Record<string, string>; ns?: string } = {}): Secret {
  const s = secret("app-demo-bound-token", token ? { token } : {});
  s.metadata = {
    ...s.metadata,
    namespace: extra.ns ?? "ns1",
    uid: "uid-token",
    resourceVersion: "7",
    labels: { app: "nats", nats_cluster: "demo", ...(extra.ours === false ? {} : { [labelClusterNamespace]: "ns1" }) },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
  return s;
}

const cluster = (auth: NatsCluster["spec"] = {}) => natsCluster({ size: 1, auth: { enableServiceAccounts: true }, ...auth }) as NatsCluster;
function run(c: NatsCluster, roles: NatsServiceRole[], accounts: ServiceAccount[], tokenSecrets: Secret[], over = {}) {
  return reconcileCluster(view(c, { serviceRoles: { roles, accounts, tokenSecrets }, ...over }));
}
const confOf = (changes: Change[]) => {
  const s = changes.find((c) => c.op === "create" && c.kind === "Secret" && c.object.metadata?.name === "demo");
  return s && s.op === "create" && s.kind === "Secret" ? decodeBase64(s.object.data!["nats.conf"]!) : undefined;
};
const degraded = (r: ReturnType<typeof run>) => r.status.conditions?.find((c) => c.type === "Degraded");

describe("enableServiceAccounts: users from NatsServiceRoles", () => {
  const token = jwt({ iat: nowS - 3600, exp: nowS + 23 * 3600 });

  it("a role with its ServiceAccount and token: a user of the role's name, the token its password, the role's permissions, beside the operator's own", () => {
    const r = run(cluster(), [role("app")], [account("app")], [tokenSecret(token)]);
    expect(degraded(r)?.status).toBe("False");
    const conf = confOf(r.changes)!;
    expect(conf).toContain(`{ user: "app", password: "${token}", permissions: { publish: ["orders.>"], subscribe: ["replies.*"] } }`);
    expect(conf).toContain('user: "satellite-config-api"');
    expect(r.status.serviceAccounts).toEqual({ users: ["app"], waiting: [], ambiguous: [] });
    expect(r.changes.some((c) => c.op === "token")).toBe(false);
  });

  it("the operator's own clients authenticate too: the reloader sidecar as satellite-reloader (its password from the config Secret)", () => {
    const c = natsCluster({ size: 1, pod: { enableConfigReload: true }, auth: { enableServiceAccounts: true } });
    const r = run(c, [], [], []);
    expect(confOf(r.changes)).toContain('user: "satellite-reloader"');
    const pod = r.changes.find((x) => x.op === "create" && x.kind === "Pod");
    const reloader = pod?.op === "create" && pod.kind === "Pod" ? pod.object.spec!.containers.find((x) => x.name !== "nats") : undefined;
    expect(reloader?.args).toEqual(expect.arrayContaining(["-user", "satellite-reloader"]));
    expect(reloader?.env).toContainEqual({
      name: "NATS_PASSWORD",
      valueFrom: { secretKeyRef: { name: "demo", key: "reloader-password" } },
    });
  });

  it("with clientsAuthSecret: both sets of users in one authorization block", () => {
    const auth = secret("clients", { "clients-auth.json": JSON.stringify({ users: [{ username: "alice", password: "pw" }] }) });
    const c = cluster({ auth: { enableServiceAccounts: true, clientsAuthSecret: "clients" } });
    const conf = confOf(run(c, [role("app")], [account("app")], [tokenSecret(token)], { secrets: { clients: auth } }).changes)!;
    expect(conf.match(/authorization \{/g)).toHaveLength(1);
    expect(conf).toContain('user: "alice"');
    expect(conf).toContain('user: "app"');
  });

  it("no role yet: the operator's users only, so clients without credentials are still refused", () => {
    const conf = confOf(run(cluster(), [], [], []).changes)!;
    expect(conf).toContain("authorization {");
    expect(conf).toContain('user: "satellite-config-api"');
  });

  it("a name in clientsAuthSecret and in a role is refused, saying both", () => {
    const auth = secret("clients", { "clients-auth.json": JSON.stringify({ users: [{ username: "app", password: "pw" }] }) });
    const c = cluster({ auth: { enableServiceAccounts: true, clientsAuthSecret: "clients" } });
    const r = run(c, [role("app")], [account("app")], [tokenSecret(token)], { secrets: { clients: auth } });
    expect(degraded(r)).toMatchObject({ status: "True" });
    expect(degraded(r)?.message).toContain('spec.auth.clientsAuthSecret has a user "app" and so does NatsServiceRole "app"');
    expect(r.changes).toEqual([]);
  });

  it("a role named as the operator's own user is refused", () => {
    const r = run(cluster(), [role("satellite-config-api")], [account("satellite-config-api")], []);
    expect(degraded(r)?.message).toContain(`NatsServiceRole "satellite-config-api" is named as one of the operator's own NATS users`);
  });

  it("ServiceAccounts of the role's name in two namespaces (cluster-wide): the one already holding the token stays; else the cluster's namespace's; else none, reported once", () => {
    const elsewhere = tokenSecret(token, { ns: "apps" });
    const bound = run(cluster(), [role("app")], [account("app"), account("app", "apps")], [elsewhere]);
    expect(degraded(bound)?.status).toBe("False");
    expect(confOf(bound.changes)).toContain(`{ user: "app", password: "${token}"`);
    expect(bound.changes.some((c) => c.op === "token")).toBe(false);

    const fresh = run(cluster(), [role("app")], [account("app", "other"), account("app")], []);
    const t = fresh.changes.find((c) => c.op === "token");
    expect(t?.op === "token" && t.secret.metadata?.namespace).toBe("ns1");

    const two = run(cluster(), [role("app")], [account("app", "a"), account("app", "b")], []);
    expect(degraded(two)?.status).toBe("False");
    expect(two.changes.some((c) => c.op === "token")).toBe(false);
    expect(confOf(two.changes)).not.toContain('user: "app"');
    expect(two.status.serviceAccounts).toEqual({ users: [], waiting: [], ambiguous: ["app"] });
    const said = two.events.filter((e) => e.reason === "ServiceAccountAmbiguous");
    expect(said.map((e) => e.message)).toEqual([
      expect.stringContaining(`ServiceAccounts "app" in namespaces "a", "b" would be two NATS users of one name`),
    ]);
    const again = run({ ...cluster(), status: two.status }, [role("app")], [account("app", "a"), account("app", "b")], []);
    expect(again.events.filter((e) => e.reason === "ServiceAccountAmbiguous")).toEqual([]);
  });

  it("a role's subject nats-server would not take is refused", () => {
    const r = run(cluster(), [role("app", { permissions: { publish: ["a..b"] } })], [account("app")], [tokenSecret(token)]);
    expect(degraded(r)?.message).toContain(`NatsServiceRole "app": permissions.publish[0] "a..b" is not a valid subject`);
  });

  it("no ServiceAccount yet: no user, the role waits in the status, and a Warning Event says so once", () => {
    const r = run(cluster(), [role("app")], [], []);
    expect(confOf(r.changes)).not.toContain('user: "app"');
    expect(r.status.serviceAccounts).toEqual({ users: [], waiting: ["app"], ambiguous: [] });
    expect(r.events.filter((e) => e.reason === "ServiceAccountMissing")).toHaveLength(1);
    const again = run({ ...cluster(), status: r.status }, [role("app")], [], []);
    expect(again.events.filter((e) => e.reason === "ServiceAccountMissing")).toEqual([]);
  });

  it("a ServiceAccount and no Secret: a token change for a new Secret beside it, owned by the role, bound to it, for the cluster's audience", () => {
    const r = run(cluster(), [role("app")], [account("app")], []);
    const t = r.changes.find((c) => c.op === "token");
    expect(t).toEqual({
      op: "token",
      serviceAccount: "app",
      audience: "nats://demo.ns1.svc",
      expirationSeconds: 86400,
      secret: {
        apiVersion: "v1",
        kind: "Secret",
        type: "Opaque",
        metadata: {
          name: "app-demo-bound-token",
          namespace: "ns1",
          labels: { app: "nats", nats_cluster: "demo", [labelClusterNamespace]: "ns1" },
          ownerReferences: [
            { apiVersion: "nats.io/v1alpha2", kind: "NatsServiceRole", name: "app", uid: "uid-role-app", controller: true },
          ],
        },
      },
    });
    expect(r.changes[0]).toBe(t);
    expect(confOf(r.changes)).not.toContain('user: "app"');
  });

  it("a ServiceAccount in another namespace (cluster-wide operator): the Secret beside it, with no owner (none can be across namespaces)", () => {
    const r = run(cluster(), [role("app")], [account("app", "apps")], []);
    const t = r.changes.find((c) => c.op === "token");
    expect(t?.op === "token" && t.secret.metadata).toMatchObject({ namespace: "apps", name: "app-demo-bound-token" });
    expect(t?.op === "token" && t.secret.metadata?.ownerReferences).toBeUndefined();
    expect(t?.op === "token" && t.audience).toBe("nats://demo.ns1.svc");
  });

  it("a token Secret whose role is gone, or whose ServiceAccount is gone, is deleted", () => {
    const r = run(cluster(), [], [], [tokenSecret(token)]);
    expect(r.changes).toContainEqual({ op: "delete", kind: "Secret", namespace: "ns1", name: "app-demo-bound-token", uid: "uid-token" });
    const noSa = run(cluster(), [role("app")], [], [tokenSecret(token)]);
    expect(noSa.changes).toContainEqual({ op: "delete", kind: "Secret", namespace: "ns1", name: "app-demo-bound-token", uid: "uid-token" });
  });

  it("a Secret of that name holding another namespace's cluster's token is refused, not taken", () => {
    const s = tokenSecret(token);
    s.metadata!.labels![labelClusterNamespace] = "elsewhere";
    expect(degraded(run(cluster(), [role("app")], [account("app")], [s]))?.message).toContain("holds the token of cluster elsewhere/demo");
  });
});

describe("token rotation", () => {
  it("reads the life from the token's claims and replaces it at 80%", () => {
    const claims = tokenClaims(jwt({ iat: 1000, exp: 1000 + 86400 }))!;
    expect(claims).toEqual({
      aud: ["nats://demo.ns1.svc"],
      iat: 1000,
      exp: 87400,
      serviceAccountUid: "uid-sa-app",
      boundSecretUid: "uid-token",
    });
    expect(refreshAtMs(claims)).toBe((1000 + 0.8 * 86400) * 1000);
    expect(tokenClaims("not-a-jwt")).toBeUndefined();
  });

  it("before 80%: the token stays, and the reconcile asks to run again when it is due", () => {
    const token = jwt({ iat: nowS - 3600, exp: nowS + 23 * 3600 });
    const r = run(cluster(), [role("app")], [account("app")], [tokenSecret(token)]);
    expect(r.requeueAfterMs).toBe((0.8 * 86400 - 3600) * 1000);
  });

  it("at 80%: a new token into the same Secret (at the resourceVersion seen); the old one stays the password until then", () => {
    const token = jwt({ iat: nowS - 0.8 * 86400, exp: nowS + 0.2 * 86400 });
    const r = run(cluster(), [role("app")], [account("app")], [tokenSecret(token)]);
    const t = r.changes.find((c) => c.op === "token");
    expect(t?.op === "token" && t.secret.metadata).toMatchObject({ name: "app-demo-bound-token", uid: "uid-token", resourceVersion: "7" });
    expect(r.events).toContainEqual(
      expect.objectContaining({ reason: "TokenRequested", message: expect.stringContaining("80% of its life") }),
    );
    expect(confOf(r.changes)).toContain(`password: "${token}"`);
  });

  it("a token for an earlier ServiceAccount of the name, or bound to an earlier Secret, or for another audience, is replaced now", () => {
    const want = { serviceAccountUid: "uid-sa-app", secretUid: "uid-token", audience: "nats://demo.ns1.svc" };
    const ok = { iat: nowS, exp: nowS + 86400 };
    const at = Date.parse(now);
    expect(tokenDue(jwt(ok), want, at)).toEqual({ refreshAtMs: (nowS + 0.8 * 86400) * 1000 });
    expect(tokenDue(jwt({ ...ok, sa: "old" }), want, at)).toEqual({ reason: "its token is for an earlier ServiceAccount of that name" });
    expect(tokenDue(jwt({ ...ok, secret: "old" }), want, at)).toEqual({ reason: "its token is bound to an earlier Secret of that name" });
    expect(tokenDue(jwt({ ...ok, aud: ["x"] }), want, at)).toEqual({ reason: "its token is not for audience nats://demo.ns1.svc" });
    expect(tokenDue(undefined, want, at)).toEqual({ reason: "it has no token yet" });
  });
});

describe("adoption of nats-operator's token Secrets", () => {
  // nats-operator asked for no expiry: the API server's default hour, long past.
  const theirs = jwt({ iat: nowS - 30 * 86400, exp: nowS - 30 * 86400 + 3600, secret: "uid-token" });

  it("its token stays the password (same user, same permissions) and the Secret is marked as taken over, now", () => {
    const r = run(cluster(), [role("app")], [account("app")], [tokenSecret(theirs, { ours: false })]);
    expect(r.changes.some((c) => c.op === "token")).toBe(false);
    expect(confOf(r.changes)).toContain(`{ user: "app", password: "${theirs}"`);
    const adopt = r.changes.find((c) => c.op === "replace" && c.kind === "Secret");
    expect(adopt?.op === "replace" && adopt.object.metadata).toMatchObject({
      labels: { [labelClusterNamespace]: "ns1" },
      annotations: { [annotationTokenAdopted]: now },
      resourceVersion: "7",
    });
    expect(adopt?.op === "replace" && adopt.kind === "Secret" && adopt.object.data).toEqual(tokenSecret(theirs).data);
    expect(r.events).toContainEqual(expect.objectContaining({ reason: "TokenAdopted" }));
  });

  it("taken over, it is replaced at 80% of a token's life counted from the takeover", () => {
    const adoptedAt = new Date(Date.parse(now) - 3600_000).toISOString();
    const s = tokenSecret(theirs, { annotations: { [annotationTokenAdopted]: adoptedAt } });
    const r = run(cluster(), [role("app")], [account("app")], [s]);
    expect(r.changes.some((c) => c.op === "token")).toBe(false);
    expect(r.requeueAfterMs).toBe((0.8 * 86400 - 3600) * 1000);
    const later = new Date(Date.parse(adoptedAt) + 0.8 * 86400_000).toISOString();
    const due = run(cluster(), [role("app")], [account("app")], [s], { now: later });
    const t = due.changes.find((c) => c.op === "token");
    expect(t?.op === "token" && t.secret.metadata?.annotations).toEqual({});
  });
});

describe("triggers", () => {
  const c = cluster();
  it("a ServiceAccount anywhere, a token Secret beside it, and a role of the namespace reconcile the clusters with enableServiceAccounts", () => {
    expect(clustersToReconcile("ServiceAccount", account("app", "apps"), [c])).toEqual(["ns1/demo"]);
    expect(clustersToReconcile("Secret", { metadata: { name: "app-demo-bound-token", namespace: "apps" } }, [c])).toContain("ns1/demo");
    expect(clustersToReconcile("NatsServiceRole", role("app"), [c])).toEqual(["ns1/demo"]);
    expect(clustersToReconcile("ServiceAccount", account("app", "apps"), [natsCluster({ size: 1 })])).toEqual([]);
  });
});
