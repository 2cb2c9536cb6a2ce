// spec.auth.enableServiceAccounts against a real kube-apiserver: satellite's operator, with
// manifests/operator.yaml's account and nothing more, asks the API server for ServiceAccount tokens
// (TokenRequest, bound to the Secret it writes them into) and renders the users into nats.conf; a
// real nats-server run with that authorization block lets the role's client in, within its
// permissions only, and keeps everyone else out.

import { readFileSync, writeFileSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import { type NatsServer, type Proc, startNatsServer, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import type { fakeKubelet } from "../harness/kubelet.ts";
import { startNamespacedOperator } from "../harness/satellite.ts";

const kube = useKube();
let ns: string;
let operator: Proc;
let kubelet: ReturnType<typeof fakeKubelet>;
const servers: NatsServer[] = [];

beforeAll(async () => {
  await kube.installCrd();
  ns = await kube.createNamespace("service-accounts");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  ({ operator, kubelet } = await startNamespacedOperator(kube, ns));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await kubelet?.stop();
  await operator?.stop();
  kube.close();
});

const role = (name: string, cluster: string, permissions: object) =>
  kube.apply(
    [
      {
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsServiceRole",
        metadata: { name, labels: { nats_cluster: cluster } },
        spec: { permissions },
      },
    ],
    {
      namespace: ns,
    },
  );
const serviceAccount = (name: string) => kube.apply([{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name } }], { namespace: ns });
const cluster = (name: string) => kube.admin.get(kinds.NatsCluster, { namespace: ns, name });
const configOf = async (name: string) => {
  const s = await kube.admin.get(kinds.Secret, { namespace: ns, name }).catch(() => undefined);
  return s?.data?.["nats.conf"] ? decodeBase64(s.data["nats.conf"]) : "";
};
const tokenIn = async (name: string) => {
  const s = await kube.admin.get(kinds.Secret, { namespace: ns, name }).catch(() => undefined);
  return s?.data?.token ? { secret: s, token: decodeBase64(s.data.token) } : undefined;
};
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
/** The authorization block of a rendered nats.conf, which a local nats-server runs as it is. */
const authorizationOf = (conf: string) => /^authorization \{\n[\s\S]*?\n\}$/m.exec(conf)![0];
async function serverWith(conf: string): Promise<NatsServer> {
  const s = await startNatsServer({ name: `sa-${servers.length}`, extra: authorizationOf(conf) });
  servers.push(s);
  return s;
}
const refused = (server: NatsServer, auth: { user?: string; pass?: string }) =>
  connect({ servers: server.url, ...auth, maxReconnectAttempts: 0, reconnect: false });
/** The next error the server sends this connection (a permissions violation). */
function nextError(nc: NatsConnection): Promise<string> {
  return new Promise((resolve) => {
    void (async () => {
      for await (const st of nc.status()) if (st.type === "error") return resolve(String(st.error));
    })();
  });
}

describe("auth.enableServiceAccounts on a real API server", () => {
  it("a NatsServiceRole and its ServiceAccount: a Secret with a real bound token; nats.conf's user lets that client in, within its permissions only", async () => {
    await kube.apply(
      [
        {
          apiVersion: "nats.io/v1alpha2",
          kind: "NatsCluster",
          metadata: { name: "sa" },
          spec: { size: 1, version: "2.14.9", auth: { enableServiceAccounts: true } },
        },
      ],
      { namespace: ns },
    );
    await serviceAccount("orders");
    await role("orders", "sa", { publish: ["orders.>"], subscribe: ["_INBOX.>", "orders.>"] });
    const { secret, token } = await waitFor("the token Secret", () => tokenIn("orders-sa-bound-token"));
    const sa = await kube.admin.get(kinds.ServiceAccount, { namespace: ns, name: "orders" });
    const claims = claimsOf(token);
    expect(claims.aud).toEqual([`nats://sa.${ns}.svc`]);
    expect(claims["kubernetes.io"]).toMatchObject({
      namespace: ns,
      serviceaccount: { name: "orders", uid: sa.metadata!.uid },
      secret: { name: "orders-sa-bound-token", uid: secret.metadata!.uid },
    });
    expect(claims.exp - claims.iat).toBe(86400);
    expect(secret.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: "NatsServiceRole", name: "orders", controller: true }),
    ]);

    const conf = await waitFor("the user in nats.conf", async () => {
      const c = await configOf("sa");
      return c.includes(`password: "${token}"`) && c;
    });
    expect(conf).toContain('user: "orders"');
    await waitFor("orders served, in the status", async () => (await cluster("sa")).status?.serviceAccounts?.users.includes("orders"));
    expect((await cluster("sa")).status?.serviceAccounts).toEqual({ users: ["orders"], waiting: [], ambiguous: [] });

    const server = await serverWith(conf);
    const nc = await connect({ servers: server.url, user: "orders", pass: token });
    const sub = nc.subscribe("orders.new", { max: 1 });
    nc.publish("orders.new", "x");
    for await (const m of sub) expect(m.string()).toBe("x");
    const denied = nextError(nc);
    nc.publish("payments.new", "x");
    expect(await denied).toMatch(/Permissions Violation for Publish to "payments.new"/);
    const deniedSub = nextError(nc);
    nc.subscribe("payments.>", { callback: () => {} });
    expect(await deniedSub).toMatch(/Permissions Violation for Subscription to "payments.>"/);
    await nc.close();
    await expect(refused(server, {})).rejects.toThrow(/Authorization Violation/);
    await expect(refused(server, { user: "orders", pass: `${token}x` })).rejects.toThrow(/Authorization Violation/);
  });

  it("a role whose ServiceAccount does not exist yet waits (status, one Event); the ServiceAccount made, its user comes in a reload, no server restarted", async () => {
    await role("late", "sa", { publish: ["late.>"] });
    await waitFor("late waiting", async () => (await cluster("sa")).status?.serviceAccounts?.waiting?.includes("late"));
    const events = (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=sa" })).items;
    expect(events.filter((e) => e.reason === "ServiceAccountMissing").map((e) => e.count ?? 1)).toEqual([1]);
    expect(await configOf("sa")).not.toContain('user: "late"');
    const pods = await kube.admin.list(kinds.Pod, ns, { labelSelector: "nats_cluster=sa" });
    const uids = pods.items.map((p) => p.metadata!.uid).sort();
    expect(uids).toHaveLength(1);

    await serviceAccount("late");
    const { token } = await waitFor("late's token", () => tokenIn("late-sa-bound-token"));
    const conf = await waitFor("late in nats.conf", async () => {
      const c = await configOf("sa");
      return c.includes(`password: "${token}"`) && c;
    });
    // The status is written after the config Secret, in the same reconcile.
    await waitFor("late served, in the status", async () => (await cluster("sa")).status?.serviceAccounts?.users.includes("late"));
    expect((await cluster("sa")).status?.serviceAccounts).toEqual({ users: ["late", "orders"], waiting: [], ambiguous: [] });
    const after = await kube.admin.list(kinds.Pod, ns, { labelSelector: "nats_cluster=sa" });
    expect(after.items.map((p) => p.metadata!.uid).sort()).toEqual(uids);
    const server = await serverWith(conf);
    await (await connect({ servers: server.url, user: "late", pass: token })).close();
  });

  it("deleting the role removes its user and its token Secret; its client is refused from then on", async () => {
    const { token } = (await tokenIn("late-sa-bound-token"))!;
    await kube.admin.remove(kinds.NatsServiceRole, { namespace: ns, name: "late" });
    const conf = await waitFor("late gone from nats.conf", async () => {
      const c = await configOf("sa");
      return !c.includes('user: "late"') && c.includes('user: "orders"') && c;
    });
    await waitFor("late's token Secret deleted", async () => !(await tokenIn("late-sa-bound-token")));
    const server = await serverWith(conf);
    await expect(refused(server, { user: "late", pass: token })).rejects.toThrow(/Authorization Violation/);
  });

  it("a token Secret deleted by hand: a new Secret and a new token, which nats.conf's user takes", async () => {
    const { token: old } = (await tokenIn("orders-sa-bound-token"))!;
    await kube.admin.remove(kinds.Secret, { namespace: ns, name: "orders-sa-bound-token" });
    const { token } = await waitFor("a new token", async () => {
      const t = await tokenIn("orders-sa-bound-token");
      return t && t.token !== old && t;
    });
    await waitFor("the new token in nats.conf", async () => (await configOf("sa")).includes(`password: "${token}"`));
    expect(await configOf("sa")).not.toContain(old);
  });

  it("a token Secret nats-operator made (a TokenRequest with the API server's default life, long over): taken over as it is, same password", async () => {
    await serviceAccount("legacy");
    const made = await kube.admin.create(kinds.Secret, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "legacy-sa-bound-token", namespace: ns, labels: { app: "nats", nats_cluster: "sa" } },
    });
    const request = {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        audiences: [`nats://sa.${ns}.svc`],
        boundObjectRef: { kind: "Secret", apiVersion: "v1", name: made.metadata!.name, uid: made.metadata!.uid },
      },
    };
    const issued = (await kube.admin.create(kinds.ServiceAccount, request as never, {
      ref: { namespace: ns, name: "legacy", subresource: "token" },
    })) as unknown as { status: { token: string } };
    const token = issued.status.token;
    expect(claimsOf(token).exp - claimsOf(token).iat).toBe(3600);
    await kube.admin.replace(kinds.Secret, { ...made, data: { token: Buffer.from(token).toString("base64") } });
    await role("legacy", "sa", { subscribe: ["legacy.>"] });
    await waitFor("the same token in nats.conf", async () => (await configOf("sa")).includes(`{ user: "legacy", password: "${token}"`));
    const secret = await kube.admin.get(kinds.Secret, { namespace: ns, name: "legacy-sa-bound-token" });
    expect(decodeBase64(secret.data!.token!)).toBe(token);
    expect(secret.metadata!.annotations?.["nats.io/token-adopted-at"]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(secret.metadata!.labels).toMatchObject({ "nats.io/cluster-namespace": ns });
    const events = (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=sa" })).items;
    expect(events.map((e) => e.reason)).toContain("TokenAdopted");
  });

  it("rotation: a token past 80% of its life (here a taken-over one, marked a day ago) is replaced by a new 24 h token, in the Secret and in nats.conf; the reload disconnects that role's clients only", async () => {
    const before = await kube.admin.get(kinds.Secret, { namespace: ns, name: "legacy-sa-bound-token" });
    const old = decodeBase64(before.data!.token!);
    // A server running the config from before, with a client of the role and one of another role connected.
    const running = await serverWith(await configOf("sa"));
    const legacyClient = await connect({ servers: running.url, user: "legacy", pass: old, maxReconnectAttempts: 0 });
    const ordersClient = await connect({ servers: running.url, user: "orders", pass: (await tokenIn("orders-sa-bound-token"))!.token });
    const dayAgo = new Date(Date.now() - 24 * 3600_000).toISOString();
    await kube.admin.patch(
      kinds.Secret,
      { namespace: ns, name: "legacy-sa-bound-token" },
      { metadata: { annotations: { "nats.io/token-adopted-at": dayAgo } } },
    );
    const { secret, token } = await waitFor("a new token", async () => {
      const t = await tokenIn("legacy-sa-bound-token");
      return t && t.token !== old && t;
    });
    expect(secret.metadata!.annotations?.["nats.io/token-adopted-at"]).toBeUndefined();
    expect(secret.metadata!.uid).toBe(before.metadata!.uid);
    const claims = claimsOf(token);
    expect(claims.exp - claims.iat).toBe(86400);
    expect(claims["kubernetes.io"].secret).toEqual({ name: "legacy-sa-bound-token", uid: before.metadata!.uid });
    const conf = await waitFor("the new token in nats.conf", async () => {
      const c = await configOf("sa");
      return c.includes(`{ user: "legacy", password: "${token}"`) && c;
    });
    expect(conf).not.toContain(old);
    const server = await serverWith(conf);
    await (await connect({ servers: server.url, user: "legacy", pass: token })).close();
    await expect(refused(server, { user: "legacy", pass: old })).rejects.toThrow(/Authorization Violation/);
    // What docs/operator.md says of the window: the reload of the new config disconnects the
    // role's clients (their password is the old token); other users' clients stay.
    writeFileSync(running.configPath, readFileSync(running.configPath, "utf8").replace(old, token));
    process.kill(running.pid, "SIGHUP");
    await legacyClient.closed();
    expect(legacyClient.isClosed()).toBe(true);
    await ordersClient.flush();
    expect(ordersClient.isClosed()).toBe(false);
    await ordersClient.close();
  });

  it("a role named as a clientsAuthSecret user is refused with a condition naming both; nothing is changed", async () => {
    await kube.apply(
      [
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "clash-auth" },
          stringData: { "clients-auth.json": JSON.stringify({ users: [{ username: "orders", password: "pw" }] }) },
        },
      ],
      { namespace: ns },
    );
    const before = await configOf("sa");
    await kube.admin.patch(
      kinds.NatsCluster,
      { namespace: ns, name: "sa" },
      { spec: { auth: { enableServiceAccounts: true, clientsAuthSecret: "clash-auth" } } },
    );
    const degraded = await waitFor("Degraded", async () => {
      const d = (await cluster("sa")).status?.conditions?.find((c) => c.type === "Degraded");
      return d?.status === "True" && d;
    });
    expect(degraded.message).toContain('spec.auth.clientsAuthSecret has a user "orders" and so does NatsServiceRole "orders"');
    expect(await configOf("sa")).toBe(before);
  });
});
