// Adopting a nats-operator cluster with auth.enableServiceAccounts, on the real node: nats-operator
// v0.8.3 itself (built from the Go module proxy, as adopt.test.ts) runs 3 servers whose users are
// two NatsServiceRoles with their ServiceAccounts' tokens. It is stopped, satellite's CRDs are
// applied over its own and satellite's operator deployed from the manifests. satellite takes the
// token Secrets over as they are: throughout, checked every 100 ms, a client with a role's token
// gets in and one without credentials does not, and a client connected before stays connected.

import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, describe, expect, it } from "vitest";
import { startNatsOperator } from "../harness/nats-operator.ts";
import { onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import type { Proc } from "../harness/process.ts";

const node = onNode();
const ns = "sat-adopt-sa";
const crd = fileURLToPath(new URL("../../manifests/crd.yaml", import.meta.url));
const tokenSecret = (role: string) => `${role}-nats-bound-token`;
const tokenOf = async (role: string): Promise<string | undefined> => {
  const s = await node.kubectlJson("get", "secret", tokenSecret(role), "-n", ns).catch(() => undefined);
  return s?.data?.token ? Buffer.from(s.data.token, "base64").toString() : undefined;
};

/**
 * Every 100 ms, on the next server in turn: a client with `token` connects and round-trips a
 * message on a subject its role allows, and one without credentials is refused. Counts each
 * outcome until stopped.
 */
function watchAuth(pods: () => PodView[], user: string, token: string) {
  const seen = { ticks: 0, allowedFailed: [] as string[], anonymousIn: [] as string[] };
  let stopping = false;
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      const list = pods();
      const pod = list[i % list.length]!;
      const servers = `nats://${pod.ip}:4222`;
      const tick = new Date().toISOString();
      try {
        const nc = await connect({ servers, user, pass: token, reconnect: false, timeout: 2_000 });
        const sub = nc.subscribe("orders.check", { max: 1 });
        nc.publish("orders.check", tick);
        for await (const m of sub) if (m.string() !== tick) seen.allowedFailed.push(`${tick} ${pod.name}: wrong message`);
        await nc.close();
      } catch (e) {
        seen.allowedFailed.push(`${tick} ${pod.name}: ${(e as Error).message}`);
      }
      try {
        const anon = await connect({ servers, reconnect: false, timeout: 2_000 });
        seen.anonymousIn.push(`${tick} ${pod.name}`);
        await anon.close();
      } catch {
        // refused, as it must be
      }
      seen.ticks++;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    seen,
    async stop() {
      stopping = true;
      await loop;
      return seen;
    },
  };
}

describe.runIf(!node.info.unavailable).sequential("adopting nats-operator 0.8.3's enableServiceAccounts cluster", () => {
  skipAfterAFailedStep();
  let natsOperator: Proc | undefined;
  let theirs: PodView[] = [];
  const tokens: Record<string, string> = {};
  let watcher: ReturnType<typeof watchAuth> | undefined;
  let connected: NatsConnection | undefined;
  let disconnects = 0;

  afterAll(async () => {
    await watcher?.stop();
    await connected?.close();
    await natsOperator?.stop();
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("nats-operator runs 3 servers whose users are two NatsServiceRoles with their ServiceAccounts' tokens", async () => {
    await node.kubectl("create", "namespace", ns);
    natsOperator = startNatsOperator(node.info.kubeconfig, ns);
    await waitFor(
      "nats-operator's CRDs established",
      async () => {
        const established = async (name: string) => {
          const c = await node.kubectlJson("get", "crd", name).catch(() => undefined);
          return c?.status?.conditions?.some((x: { type: string; status: string }) => x.type === "Established" && x.status === "True");
        };
        return (await established("natsclusters.nats.io")) && (await established("natsserviceroles.nats.io"));
      },
      60_000,
      500,
    );
    // Roles and ServiceAccounts first: nats-operator renders their users into the first config.
    const role = (name: string, publish: string[], subscribe: string[]) => ({
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsServiceRole",
      metadata: { name, namespace: ns, labels: { nats_cluster: "nats" } },
      spec: { permissions: { publish, subscribe } },
    });
    for (const doc of [
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "orders", namespace: ns } },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "admin", namespace: ns } },
      role("orders", ["orders.>"], ["orders.>", "_INBOX.>"]),
      role("admin", [">"], [">"]),
    ])
      await node.apply(JSON.stringify(doc));
    await node.apply(
      JSON.stringify({
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name: "nats", namespace: ns },
        spec: { size: 3, version: node.info.images.natsPreviousVersion, auth: { enableServiceAccounts: true } },
      }),
    );
    theirs = await node.readyPods(ns, "nats_cluster=nats", 3, 150_000);
    for (const r of ["orders", "admin"]) tokens[r] = await waitFor(`nats-operator's ${tokenSecret(r)}`, () => tokenOf(r), 60_000, 500);
    // nats-operator asked for no life: the API server's default hour.
    const claims = JSON.parse(Buffer.from(tokens.orders!.split(".")[1]!, "base64url").toString());
    expect(claims.exp - claims.iat).toBe(3600);
    // Its servers take the token (its config Secret reaches the pods through the kubelet's volume sync).
    await waitFor(
      "nats-operator's servers accept the orders token",
      async () => {
        for (const p of theirs)
          await (await connect({ servers: `nats://${p.ip}:4222`, user: "orders", pass: tokens.orders!, reconnect: false })).close();
        return true;
      },
      150_000,
      1_000,
    );
    connected = await connect({ servers: `nats://${theirs[0]!.ip}:4222`, user: "orders", pass: tokens.orders! });
    void (async () => {
      for await (const s of connected!.status()) if (s.type === "disconnect") disconnects++;
    })();
    watcher = watchAuth(() => theirs, "orders", tokens.orders!);
  }, 360_000);

  it("satellite takes it over: the same users with the same tokens, no window without auth, every 100 ms", async () => {
    await natsOperator!.stop();
    await node.kubectl("apply", "--server-side", "--force-conflicts", "-f", crd);
    await node.applyManifests(ns, { only: ["operator.yaml"] });
    await node.kubectl("rollout", "status", "deployment/satellite-operator", "-n", ns, "--timeout=120s");
    const status = await waitFor(
      "satellite's status with both roles served",
      async () => {
        const s = (await node.kubectlJson("get", "natscluster", "nats", "-n", ns)).status;
        const progressing = s?.conditions?.find((x: { type: string }) => x.type === "Progressing");
        return progressing?.reason === "Complete" && s?.serviceAccounts?.users?.length === 2 && s;
      },
      120_000,
      500,
    );
    expect(status.serviceAccounts).toEqual({ users: ["admin", "orders"], waiting: [], ambiguous: [] });
    const conf = Buffer.from((await node.kubectlJson("get", "secret", "nats", "-n", ns)).data["nats.conf"], "base64").toString();
    for (const r of ["orders", "admin"]) {
      expect(conf).toContain(`{ user: "${r}", password: "${tokens[r]}"`);
      expect(await tokenOf(r)).toBe(tokens[r]);
      const s = await node.kubectlJson("get", "secret", tokenSecret(r), "-n", ns);
      expect(s.metadata.annotations["nats.io/token-adopted-at"]).toMatch(/^\d{4}-/);
    }
    const events = await node.kubectlJson("get", "events", "-n", ns, "--field-selector", "reason=TokenAdopted");
    expect(events.items).toHaveLength(2);
    // The same pods (no restart), and the servers' config as satellite renders it, reached the
    // servers: keep watching through the kubelet's volume sync and the reload.
    const now = await node.readyPods(ns, "nats_cluster=nats", 3);
    expect(now.map((p) => [p.name, p.uid, p.restarts])).toEqual(theirs.map((p) => [p.name, p.uid, 0]));
    await new Promise((r) => setTimeout(r, 90_000));
    const seen = await watcher!.stop();
    watcher = undefined;
    expect(seen.ticks).toBeGreaterThan(100);
    expect(seen.allowedFailed).toEqual([]);
    expect(seen.anonymousIn).toEqual([]);
    expect(disconnects).toBe(0);
    expect(connected!.isClosed()).toBe(false);
  }, 360_000);
});
