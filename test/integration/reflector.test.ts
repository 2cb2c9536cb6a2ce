import { afterAll, beforeAll, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { createKubeClient } from "../../runtime/kube/client.ts";
import { loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";
import { startReflector } from "../../runtime/kube/reflector.ts";
import { createLogger } from "../../runtime/log.ts";
import { useKube, waitFor } from "../harness/index.ts";

const kube = useKube();
let ns: string;
const lines: string[] = [];
const log = createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) });

beforeAll(async () => {
  ns = await kube.createNamespace("reflector");
});
afterAll(() => kube.close());

it("lists, then follows additions, changes and deletions", async () => {
  await kube.admin.create(kinds.ConfigMap, { metadata: { name: "before", namespace: ns, labels: { r: "1" } }, data: { v: "0" } });
  const r = startReflector<any>(kube.admin, kinds.ConfigMap, { namespace: ns, labelSelector: "r=1", log });
  const events: string[] = [];
  r.onChange((t, o) => events.push(`${t} ${o.metadata.name}`));
  try {
    await r.synced;
    expect(r.list().map((o) => o.metadata.name)).toEqual(["before"]);
    await kube.admin.create(kinds.ConfigMap, { metadata: { name: "after", namespace: ns, labels: { r: "1" } }, data: { v: "0" } });
    await kube.admin.create(kinds.ConfigMap, { metadata: { name: "unlabelled", namespace: ns }, data: { v: "0" } });
    await kube.admin.patch(kinds.ConfigMap, { namespace: ns, name: "before" }, { data: { v: "1" } });
    await kube.admin.remove(kinds.ConfigMap, { namespace: ns, name: "after" });
    await waitFor("the deletion", async () => events.includes("DELETED after"));
    expect(events).toEqual(["ADDED before", "ADDED after", "MODIFIED before", "DELETED after"]);
    expect(r.get("before")?.data).toEqual({ v: "1" });
    expect(r.get("unlabelled")).toBeUndefined();
  } finally {
    r.stop();
  }
});

it("restarts a silent watch and misses nothing meanwhile", async () => {
  const from = lines.length;
  const r = startReflector<any>(kube.admin, kinds.ConfigMap, { namespace: ns, fieldSelector: "metadata.name=quiet", log, watchdogMs: 300 });
  try {
    await r.synced;
    expect(r.get("quiet")).toBeUndefined();
    await waitFor(
      "the watchdog to restart the silent watch",
      async () => lines.slice(from).some((l) => l.includes("watch went silent")),
      5_000,
    );
    await kube.admin.create(kinds.ConfigMap, { metadata: { name: "quiet", namespace: ns }, data: { v: "x" } });
    await waitFor("the object after watch restarts", async () => r.get("quiet")?.data?.v === "x");
  } finally {
    r.stop();
  }
});

it("keeps what this process wrote unless the cache already has something newer", async () => {
  const cm = await kube.admin.create(kinds.ConfigMap, { metadata: { name: "mine", namespace: ns }, data: { v: "1" } });
  const r = startReflector<any>(kube.admin, kinds.ConfigMap, { namespace: ns, fieldSelector: "metadata.name=mine", log });
  try {
    await r.synced;
    const next = await kube.admin.replace(kinds.ConfigMap, { ...cm, data: { v: "2" } });
    r.observe(next);
    expect(r.get("mine")?.data.v).toBe("2");
    r.observe(cm);
    expect(r.get("mine")?.data.v).toBe("2");
  } finally {
    r.stop();
  }
});

it("keeps no managedFields in its cache (server-side-apply bookkeeping nobody reads)", async () => {
  const created = await kube.admin.create(kinds.ConfigMap, { metadata: { name: "slim", namespace: ns }, data: { v: "1" } });
  expect(created.metadata!.managedFields?.length).toBeGreaterThan(0);
  const r = startReflector<any>(kube.admin, kinds.ConfigMap, { namespace: ns, fieldSelector: "metadata.name=slim", log });
  try {
    await r.synced;
    expect(r.get("slim")?.data).toEqual({ v: "1" });
    expect(r.get("slim")?.metadata.managedFields).toBeUndefined();
  } finally {
    r.stop();
  }
});

it("names the missing CustomResourceDefinition when the API server does not serve a resource", async () => {
  const r = startReflector<any>(
    kube.admin,
    { kind: "Widget", group: "nope.example.com", version: "v1", resource: "widgets", namespaced: true },
    { namespace: ns, log },
  );
  try {
    await waitFor("the warning", async () =>
      lines.some((l) => l.includes("does not serve widgets.nope.example.com/v1: install its CustomResourceDefinition")),
    );
  } finally {
    r.stop();
  }
});

it("decodes watch events whole: multi-byte characters split across chunks arrive intact", async () => {
  await kube.admin.create(kinds.ConfigMap, { metadata: { name: "utf8", namespace: ns }, data: { v: "0" } });
  const r = startReflector<any>(kube.admin, kinds.ConfigMap, { namespace: ns, fieldSelector: "metadata.name=utf8", log });
  try {
    await r.synced;
    // 3-byte characters over a few hundred KB: most chunk boundaries of the watch stream split one.
    const text = `café ${"€ ✓ ü ".repeat(40_000)} naïve`;
    const other = "kept as it was: ✓";
    const written = await kube.admin.patch(kinds.ConfigMap, { namespace: ns, name: "utf8" }, { data: { v: text, other } });
    await waitFor(
      "the change through the watch",
      async () => r.get("utf8")?.metadata.resourceVersion === written.metadata!.resourceVersion,
    );
    expect(r.get("utf8")?.data.v === text).toBe(true);
    expect(r.get("utf8")?.data.other).toBe(other);
  } finally {
    r.stop();
  }
});

it("lists in pages", async () => {
  for (let i = 0; i < 5; i++)
    await kube.admin.create(kinds.ConfigMap, {
      metadata: { name: `page-${i}`, namespace: ns, labels: { paged: "yes" } },
      data: { v: "0" },
    });
  const r = startReflector<any>(kube.admin, kinds.ConfigMap, { namespace: ns, labelSelector: "paged=yes", log, pageSize: 2 });
  try {
    await r.synced;
    expect(
      r
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(["page-0", "page-1", "page-2", "page-3", "page-4"]);
  } finally {
    r.stop();
  }
});

it("backs off a watch that fails at once (RBAC without watch) instead of looping LIST+WATCH", async () => {
  await kube.apply(
    [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "list-only", namespace: ns },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "list-only", namespace: ns },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "list-only" },
        subjects: [{ kind: "ServiceAccount", name: "list-only", namespace: ns }],
      },
    ],
    { namespace: ns },
  );
  const client = createKubeClient(loadKubeconfig(kube.kubeconfigFor(await kube.tokenFor(ns, "list-only"), ns, "list-only")));
  const seen: string[] = [];
  const mine = createLogger({ level: "debug", format: "json", write: (l) => seen.push(l) });
  const r = startReflector<any>(client, kinds.ConfigMap, { namespace: ns, log: mine });
  try {
    await r.synced;
    // Deliberate: the test counts the retries that 3 s allow, so 3 s must pass.
    await new Promise((res) => setTimeout(res, 3_000));
    const retries = seen.filter((l) => l.includes("list/watch failed")).length;
    // Jittered doubling from 200 ms: at most 5 tries in 3 s (a reset after each LIST made it ~20).
    expect(retries).toBeGreaterThanOrEqual(2);
    expect(retries).toBeLessThanOrEqual(5);
    expect(seen.find((l) => l.includes("list/watch failed"))).toMatch(/forbidden|403/i);
  } finally {
    r.stop();
    client.close();
  }
});
