import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { createKubeClient } from "../../runtime/kube/client.ts";
import { KubeError } from "../../runtime/kube/errors.ts";
import { loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";
import { binaries } from "../harness/binaries.ts";
import { type NatsServer, startHubAndLeaf, startNatsCluster, useKube, waitFor } from "../harness/index.ts";

const kube = useKube();
let ns: string;

beforeAll(async () => {
  ns = await kube.createNamespace("testbed");
});
afterAll(() => kube.close());

describe("control plane", () => {
  it("creates, reads and replaces a ConfigMap; a stale resourceVersion gets 409", async () => {
    const created = await kube.admin.create(kinds.ConfigMap, { metadata: { name: "smoke", namespace: ns }, data: { a: "1" } });
    const got = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "smoke" });
    expect(got.data).toEqual({ a: "1" });
    const replaced = await kube.admin.replace(kinds.ConfigMap, { ...got, data: { a: "2" } });
    expect(replaced.metadata!.resourceVersion).not.toBe(created.metadata!.resourceVersion);
    const stale = kube.admin.replace(kinds.ConfigMap, { ...got, data: { a: "3" } });
    await expect(stale).rejects.toMatchObject({ status: 409, reason: "Conflict" });
    expect((await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "smoke" })).data).toEqual({ a: "2" });
  });

  it("streams a watch event for a change", async () => {
    const cm = await kube.admin.create(kinds.ConfigMap, { metadata: { name: "watched", namespace: ns }, data: { v: "0" } });
    const abort = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      try {
        for await (const ev of kube.admin.watch(kinds.ConfigMap, ns, {
          resourceVersion: cm.metadata!.resourceVersion,
          fieldSelector: "metadata.name=watched",
          signal: abort.signal,
        })) {
          if (ev.type === "MODIFIED") {
            seen.push(ev.object.data!.v!);
            if (ev.object.data!.v === "1") return;
          }
        }
      } catch (e) {
        if (!abort.signal.aborted) throw e;
      }
    })();
    await kube.admin.patch(kinds.ConfigMap, { namespace: ns, name: "watched" }, { data: { v: "1" } });
    await Promise.race([watching, new Promise((_, rej) => setTimeout(() => rej(new Error("no watch event within 10 s")), 10_000))]);
    abort.abort();
    expect(seen).toEqual(["1"]);
  });

  it("refuses a ServiceAccount token that lacks a permission (RBAC is on)", async () => {
    const token = await kube.tokenFor(ns, "nobody");
    const client = createKubeClient(loadKubeconfig(kube.kubeconfigFor(token, ns, "nobody")));
    try {
      const err = await client.get(kinds.ConfigMap, { namespace: ns, name: "smoke" }).catch((e) => e);
      expect(err).toBeInstanceOf(KubeError);
      expect(err.status).toBe(403);
      expect(err.message).toContain(`system:serviceaccount:${ns}:nobody`);
    } finally {
      client.close();
    }
  });

  it("grants exactly what a Role binds", async () => {
    await kube.apply(
      `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: cm-reader }
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: cm-reader }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader }
subjects:
- { kind: ServiceAccount, name: reader, namespace: ${ns} }
`,
      { namespace: ns },
    );
    const client = createKubeClient(loadKubeconfig(kube.kubeconfigFor(await kube.tokenFor(ns, "reader"), ns, "reader")));
    try {
      await waitFor("the RoleBinding to take effect", () => client.get(kinds.ConfigMap, { namespace: ns, name: "smoke" }));
      const write = await client.patch(kinds.ConfigMap, { namespace: ns, name: "smoke" }, { data: { a: "x" } }).catch((e) => e);
      expect(write.status).toBe(403);
    } finally {
      client.close();
    }
  });
});

const versions: [string, () => string | undefined][] = [
  ["current nats-server", () => binaries().NATS_SERVER_BIN],
  ["Debian nats-server 2.9", () => binaries().NATS_SERVER_OLD_BIN || undefined],
];

describe.each(versions)("%s", (_label, bin) => {
  const started: NatsServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop()));
  });

  it("answers a request across a leafnode link, hub to leaf", async () => {
    const b = bin();
    expect(b, "Debian's nats-server package is installed by provision.sh").toBeTruthy();
    const { hub, leaf } = await startHubAndLeaf({ bin: b });
    started.push(hub, leaf);
    const responder = await connect({ servers: leaf.url });
    const requester = await connect({ servers: hub.url });
    try {
      responder.subscribe("smoke.echo", { callback: (_e, m) => void m.respond(`leaf says ${m.string()}`) });
      await responder.flush();
      // Subscription interest crosses the link asynchronously.
      const reply = await waitFor("a reply across the leafnode", () => requester.request("smoke.echo", "hi", { timeout: 500 }));
      expect(reply.string()).toBe("leaf says hi");
      expect((await hub.monitor("leafz")).leafnodes).toBe(1);
    } finally {
      await responder.close();
      await requester.close();
    }
  });

  it("forms a cluster of three with routes", async () => {
    const servers = await startNatsCluster(3, { bin: bin() });
    started.push(...servers);
    for (const s of servers) expect((await s.monitor("routez")).num_routes).toBeGreaterThanOrEqual(2);
    const a = await connect({ servers: servers[0]!.url });
    const c = await connect({ servers: servers[2]!.url });
    try {
      c.subscribe("smoke.routed", { callback: (_e, m) => void m.respond("routed") });
      await c.flush();
      const reply = await waitFor("a reply across routes", () => a.request("smoke.routed", "", { timeout: 500 }));
      expect(reply.string()).toBe("routed");
    } finally {
      await a.close();
      await c.close();
    }
  });
});
