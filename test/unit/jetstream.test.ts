import { describe, expect, it } from "vitest";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import { bytesOf } from "../../handlers/operator/quantity.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import type { ServerObservation } from "../../handlers/operator/reload-rollout.ts";
import type { PersistentVolumeClaim, Pod, Secret } from "../../handlers/types.ts";
import { condition, natsCluster, now, runningPod, secret, summary, view } from "./operator-fixtures.ts";

const spec = { size: 3, version: "2.14.9", jetstream: { enabled: true, fileStorage: { size: "1Gi" } } };
const podChanges = (r: ReturnType<typeof reconcileCluster>) => summary(r).filter((s) => s.endsWith(" Pod") || / Pod /.test(s));
const created = <T>(r: ReturnType<typeof reconcileCluster>, kind: string) =>
  r.changes.filter((x) => x.op === "create" && x.kind === kind).map((x) => (x as unknown as { object: T }).object);

describe("quantities", () => {
  it("reads binary and decimal suffixes, and refuses what is not bytes", () => {
    expect([bytesOf("1Gi"), bytesOf("500M"), bytesOf("1.5Ki"), bytesOf(1024), bytesOf("2e3")]).toEqual([2 ** 30, 5e8, 1536, 1024, 2000]);
    expect([bytesOf("500m"), bytesOf("-1Gi"), bytesOf("1 GB"), bytesOf("")]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("spec.jetstream", () => {
  it("renders explicit store limits in the store directory on each server's claim", () => {
    const r = reconcileCluster(view(natsCluster({ ...spec, jetstream: { ...spec.jetstream, domain: "edge" } })));
    const conf = decodeBase64(created<Secret>(r, "Secret")[0]!.data!["nats.conf"]!);
    expect(conf).toContain(
      'jetstream {\n  store_dir: "/data/jetstream"\n  max_memory_store: 268435456\n  max_file_store: 1073741824\n  domain: "edge"\n}',
    );
    expect(conf).toContain("server_name: $POD_NAME");
  });

  it("makes one claim per server, before its pod, and mounts it there; GOMEMLIMIT and max_memory_store follow the memory limit", () => {
    const c = natsCluster({ ...spec, pod: { resources: { limits: { memory: "2Gi" } } } });
    const r = reconcileCluster(view(c));
    const order = summary(r).filter((s) => /Pod|PersistentVolumeClaim/.test(s));
    expect(order.slice(0, 3)).toEqual([
      "create PersistentVolumeClaim jetstream-demo-1",
      "create PersistentVolumeClaim jetstream-demo-2",
      "create PersistentVolumeClaim jetstream-demo-3",
    ]);
    const claim = created<PersistentVolumeClaim>(r, "PersistentVolumeClaim")[0]!;
    expect(claim.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } });
    expect(claim.metadata?.ownerReferences).toBeUndefined();
    const pod = created<Pod>(r, "Pod")[1]!;
    expect(pod.spec?.volumes).toContainEqual({ name: "jetstream", persistentVolumeClaim: { claimName: "jetstream-demo-2" } });
    expect(pod.spec?.containers[0]?.volumeMounts).toContainEqual({ name: "jetstream", mountPath: "/data" });
    expect(pod.spec?.containers[0]?.env).toContainEqual({ name: "GOMEMLIMIT", value: String(Math.floor(2 ** 31 * 0.9)) });
    expect(pod.spec?.containers[0]?.startupProbe?.httpGet?.path).toBe("/healthz");
    expect(pod.spec?.containers[0]?.readinessProbe?.httpGet?.path).toBe("/healthz?js-server-only=true");
    expect(decodeBase64(created<Secret>(r, "Secret")[0]!.data!["nats.conf"]!)).toContain(`max_memory_store: ${2 ** 29}`);
  });

  it("refuses a spec without a file store size, or a memory store the container cannot hold", () => {
    const none = reconcileCluster(view(natsCluster({ size: 3, jetstream: { enabled: true } })));
    expect(none.changes).toEqual([]);
    expect(condition(none, "Degraded")?.message).toContain("spec.jetstream.fileStorage.size is required");
    const tooBig = reconcileCluster(
      view(
        natsCluster({
          ...spec,
          jetstream: { ...spec.jetstream, memoryStorage: { size: "1Gi" } },
          pod: { resources: { limits: { memory: "512Mi" } } },
        }),
      ),
    );
    expect(condition(tooBig, "Degraded")?.message).toContain("does not fit in the container's memory limit");
  });

  it("whenDeleted: Delete makes the cluster own the claims; whenScaled: Delete removes the claim of a removed server", () => {
    const c = natsCluster({
      ...spec,
      size: 2,
      jetstream: { ...spec.jetstream, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" } },
    });
    expect(created<PersistentVolumeClaim>(reconcileCluster(view(c)), "PersistentVolumeClaim")[0]!.metadata?.ownerReferences?.[0]?.uid).toBe(
      "uid-demo",
    );
    const claims = [1, 2, 3].map((i) => ({ metadata: { name: `jetstream-demo-${i}`, namespace: "ns1", uid: `c${i}` } }));
    const pods = [1, 2].map((i) => runningPod(c, i));
    const removedByUs = { ...c, status: { jetstream: { removed: ["demo-3"] } } };
    expect(summary(reconcileCluster({ ...view(removedByUs), pods, claims }))).toContain("delete PersistentVolumeClaim jetstream-demo-3");
    expect(summary(reconcileCluster({ ...view(c), pods, claims }))).not.toContain("delete PersistentVolumeClaim jetstream-demo-3");
    const kept = natsCluster({ ...spec, size: 2 });
    expect(summary(reconcileCluster({ ...view(kept), pods: [1, 2].map((i) => runningPod(kept, i)), claims }))).not.toContain(
      "delete PersistentVolumeClaim jetstream-demo-3",
    );
  });
});

describe("zones and server tags", () => {
  const confOf = (r: ReturnType<typeof reconcileCluster>) => decodeBase64(created<Secret>(r, "Secret")[0]!.data!["nats.conf"]!);

  it("each server's first tag is its zone, from the node's zone label its pod gets at binding; then the spec's tags; unique_tag as asked", () => {
    const c = natsCluster({ ...spec, jetstream: { ...spec.jetstream, serverTags: ["ssd", "team:a b"], uniqueTag: "zone" } });
    const r = reconcileCluster(view(c));
    const conf = confOf(r);
    expect(conf).toContain('server_tags: [$NATS_ZONE_TAG, "ssd", "team:a b"]');
    expect(conf).toMatch(/jetstream \{[^}]*\n {2}unique_tag: "zone"\n\}/);
    const env = created<Pod>(r, "Pod")[0]!.spec!.containers[0]!.env!;
    expect(env).toContainEqual({
      name: "NATS_ZONE",
      valueFrom: { fieldRef: { fieldPath: "metadata.labels['topology.kubernetes.io/zone']" } },
    });
    expect(env.slice(env.findIndex((e) => e.name === "NATS_ZONE"))).toContainEqual({ name: "NATS_ZONE_TAG", value: "zone:$(NATS_ZONE)" });
    const plain = confOf(reconcileCluster(view(natsCluster(spec))));
    expect(plain).toContain("server_tags: [$NATS_ZONE_TAG]");
    expect(plain).not.toContain("unique_tag");
    const noJs = reconcileCluster(view(natsCluster({ size: 3 })));
    expect(confOf(noJs)).not.toContain("server_tags");
    expect(created<Pod>(noJs, "Pod")[0]!.spec!.containers[0]!.env!.map((e) => e.name)).not.toContain("NATS_ZONE_TAG");
  });

  it("no zone tag while a server's pod predates it (it has no such env var): it comes with the replaced pods", () => {
    const c = natsCluster(spec);
    const old = runningPod(c, 1);
    old.spec!.containers[0]!.env = old.spec!.containers[0]!.env!.filter((e) => !e.name.startsWith("NATS_ZONE"));
    const r = reconcileCluster(view(c, { pods: [old, runningPod(c, 2), runningPod(c, 3)] }));
    const conf = decodeBase64((r.changes.find((x) => x.kind === "Secret") as { object: Secret }).object.data!["nats.conf"]!);
    expect(conf).not.toContain("NATS_ZONE_TAG");
  });

  it("refuses a spec tag that would pass for the zone's", () => {
    const r = reconcileCluster(view(natsCluster({ ...spec, jetstream: { ...spec.jetstream, serverTags: ["zone:a"] } })));
    expect(condition(r, "Degraded")?.message).toContain(
      'spec.jetstream.serverTags: "zone:a": each server gets its own zone: tag from its node; use another prefix',
    );
    expect(r.changes.filter((x) => x.kind !== "Event")).toEqual([]);
  });
});

describe("rollouts gated on JetStream", () => {
  const healthy = (leader: string, behind: string[] = []): Record<string, ServerObservation> =>
    Object.fromEntries(
      ["demo-1", "demo-2", "demo-3"].map((pod) => [
        pod,
        {
          serverId: pod,
          healthy: true,
          routes: 2,
          leafnodes: 0,
          jetstream: {
            enabled: true,
            leader,
            peers: ["demo-1", "demo-2", "demo-3"].filter((p) => p !== leader).map((name) => ({ name, current: !behind.includes(name) })),
          },
        },
      ]),
    );
  const old = natsCluster(spec);
  const upgraded = natsCluster({ ...spec, version: "2.15.0" }, { generation: 2 });
  const rolling = (servers: Record<string, ServerObservation>, over = {}) =>
    reconcileCluster({
      ...view(upgraded),
      pods: [1, 2, 3].map((i) => runningPod(old, i)),
      claims: [1, 2, 3].map((i) => ({ metadata: { name: `jetstream-demo-${i}` } })),
      servers,
      ...over,
    });

  it("stops one server at a time, the meta leader last", () => {
    expect(podChanges(rolling(healthy("demo-3")))).toEqual(["delete Pod demo-2"]);
    expect(podChanges(rolling(healthy("demo-1")))).toEqual(["delete Pod demo-3"]);
    expect(rolling(healthy("demo-3")).status.jetstream).toMatchObject({
      metaLeader: "demo-3",
      peers: [
        { name: "demo-1", current: true },
        { name: "demo-2", current: true },
      ],
    });
  });

  it("waits while a server's /healthz fails or a meta peer is behind, and looks again soon", () => {
    const notCurrent = healthy("demo-1");
    notCurrent["demo-2"] = { ...notCurrent["demo-2"]!, healthy: false, healthError: "JetStream stream 'A > ORDERS' is not current" };
    const r = rolling(notCurrent);
    expect(podChanges(r)).toEqual([]);
    expect(condition(r, "Progressing")).toMatchObject({
      status: "True",
      reason: "WaitingForJetStream",
      message: expect.stringContaining("ORDERS"),
    });
    expect(r.status.jetstream?.notCurrent).toEqual([{ server: "demo-2", error: "JetStream stream 'A > ORDERS' is not current" }]);
    expect(r.requeueAfterMs).toBe(2_000);
    expect(podChanges(rolling(healthy("demo-1", ["demo-2"])))).toEqual([]);
    const unanswered = healthy("demo-1");
    delete unanswered["demo-3"];
    expect(podChanges(rolling(unanswered))).toEqual([]);
  });

  it("a server frozen mid-roll (not Ready, no answer) is waited for as JetStream, and after a minute is a pause with one Warning", () => {
    const frozen = healthy("demo-1");
    delete frozen["demo-2"];
    const pods = [1, 2, 3].map((i) => runningPod(old, i, { ready: i !== 2 }));
    const first = rolling(frozen, { pods });
    expect(podChanges(first)).toEqual([]);
    expect(condition(first, "Progressing")).toMatchObject({
      status: "True",
      reason: "WaitingForJetStream",
      message: expect.stringContaining("no answer from the monitoring port of demo-2"),
    });
    const later = "2026-11-21T12:01:30.000Z";
    const paused = rolling(frozen, { pods, cluster: { ...upgraded, status: first.status }, now: later });
    expect(condition(paused, "Progressing")).toMatchObject({ status: "False", reason: "JetStreamNotCurrent" });
    expect(paused.events).toEqual([
      { type: "Warning", reason: "JetStreamNotCurrent", message: "rollout paused: no answer from the monitoring port of demo-2" },
    ]);
    expect(podChanges(paused)).toEqual([]);
  });

  it("no gate while JetStream is being turned on (the running servers do not have it yet)", () => {
    const off = Object.fromEntries(
      ["demo-1", "demo-2", "demo-3"].map((pod) => [
        pod,
        { serverId: pod, healthy: true, routes: 2, leafnodes: 0, jetstream: { enabled: false, peers: [] } },
      ]),
    );
    expect(podChanges(rolling(off))).toEqual(["delete Pod demo-3"]);
  });

  it("waiting a minute is a pause: Progressing=False, one Warning Event, and still no server stopped", () => {
    const behind = healthy("demo-1", ["demo-2"]);
    const first = rolling(behind);
    expect(first.status.jetstream?.waitingSince).toBe(now);
    const later = "2026-11-21T12:01:30.000Z";
    const paused = rolling(behind, { cluster: { ...upgraded, status: first.status }, now: later });
    expect(podChanges(paused)).toEqual([]);
    expect(condition(paused, "Progressing")).toMatchObject({ status: "False", reason: "JetStreamNotCurrent" });
    expect(paused.events).toEqual([expect.objectContaining({ type: "Warning", reason: "JetStreamNotCurrent" })]);
    expect(rolling(behind, { cluster: { ...upgraded, status: paused.status }, now: later }).events).toEqual([]);
  });
});

describe("scale-down of a JetStream cluster", () => {
  const configSecret = {
    ...secret("demo", { "system-password": "sys-pw" }),
    metadata: {
      name: "demo",
      namespace: "ns1",
      ownerReferences: [{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", name: "demo", uid: "uid-demo", controller: true }],
    },
  };
  const five = natsCluster({ ...spec, size: 5 });
  const servers = (streams: { name: string; replicas: number; servers: string[] }[], offline: string[] = []) =>
    Object.fromEntries(
      [1, 2, 3, 4, 5]
        .map((i) => `demo-${i}`)
        .filter((pod) => !offline.includes(pod))
        .map((pod) => [
          pod,
          {
            serverId: pod,
            healthy: true,
            routes: 4,
            leafnodes: 0,
            jetstream: {
              enabled: true,
              leader: "demo-1",
              peers: ["demo-2", "demo-3", "demo-4", "demo-5"].map((name) => ({
                name,
                current: !offline.includes(name),
                ...(offline.includes(name) ? { offline: true } : {}),
              })),
              streams: streams.filter((st) => st.servers.includes(pod)).map((st) => ({ account: "$G", ...st })),
            },
          } satisfies ServerObservation,
        ]),
    );
  const shrinking = (size: number, streams: Parameters<typeof servers>[0], pods = [1, 2, 3, 4, 5], offline: string[] = []) => {
    const c = natsCluster({ ...spec, size }, { generation: 2 });
    return reconcileCluster({
      ...view(c),
      pods: pods.map((i) => runningPod(five, i)),
      claims: [1, 2, 3, 4, 5].map((i) => ({ metadata: { name: `jetstream-demo-${i}` } })),
      servers: servers(streams, offline),
      configSecret,
    });
  };

  it("refuses when a stream has more replicas than the servers left, with a condition and a Warning Event", () => {
    const r = shrinking(2, [{ name: "ORDERS", replicas: 3, servers: ["demo-1", "demo-2", "demo-3"] }]);
    expect(podChanges(r)).toEqual([]);
    expect(condition(r, "Progressing")).toMatchObject({
      status: "False",
      reason: "ScaleDownRefused",
      message: expect.stringContaining("stream ORDERS (account $G) has 3 replicas"),
    });
    expect(r.events).toContainEqual(expect.objectContaining({ type: "Warning", reason: "ScaleDownRefused" }));
  });

  it("refuses when a single-replica stream lives only on a server that would go", () => {
    const r = shrinking(3, [{ name: "LOGS", replicas: 1, servers: ["demo-5"] }]);
    expect(podChanges(r)).toEqual([]);
    expect(condition(r, "Progressing")?.message).toContain("stream LOGS (account $G) is kept only on demo-5");
  });

  it("otherwise removes the highest server, and once its pod is gone removes its meta peer as the system user", () => {
    const streams = [{ name: "ORDERS", replicas: 3, servers: ["demo-1", "demo-2", "demo-3"] }];
    const first = shrinking(3, streams);
    expect(podChanges(first)).toEqual(["delete Pod demo-5"]);
    expect(first.status.jetstream?.removed).toEqual(["demo-5"]);
    const c = natsCluster({ ...spec, size: 3 }, { generation: 2 });
    const gone = reconcileCluster({
      ...view({ ...c, status: first.status }),
      pods: [1, 2, 3, 4].map((i) => runningPod(five, i)),
      servers: servers(streams, ["demo-5"]),
      configSecret,
    });
    const remove = gone.changes.filter((x) => x.op === "remove-peer");
    expect(remove).toEqual([
      expect.objectContaining({ server: "demo-5", connect: expect.objectContaining({ user: "satellite", password: "sys-pw" }) }),
    ]);
    expect(podChanges(gone)).toEqual([]);
  });

  it("removes no peer it did not remove itself: servers gone by themselves are reported as stale", () => {
    const c = natsCluster(spec);
    const r = reconcileCluster({
      ...view(c),
      pods: [1, 2].map((i) => runningPod(c, i)),
      servers: servers([], ["demo-3", "demo-4", "demo-5"]),
      configSecret,
    });
    expect(r.changes.filter((x) => x.op === "remove-peer")).toEqual([]);
    expect(r.status.jetstream?.stalePeers).toEqual(["demo-3", "demo-4", "demo-5"]);
  });
});

describe("names JetStream data is tied to", () => {
  const c = natsCluster(spec);
  const first = reconcileCluster(view(c));
  const configSecret = (first.changes.find((x) => x.op === "create" && x.kind === "Secret") as { object: Secret }).object;
  configSecret.metadata = { ...configSecret.metadata, resourceVersion: "5" };
  const holding = (n: number): Record<string, ServerObservation> => ({
    "demo-1": {
      serverId: "a",
      healthy: true,
      routes: 2,
      leafnodes: 0,
      jetstream: {
        enabled: true,
        leader: "demo-1",
        peers: [],
        streams: Array.from({ length: n }, (_, i) => ({ account: "$G", name: `S${i}`, replicas: 3, servers: ["demo-1"] })),
      },
    },
  });
  const renamed = {
    metadata: { name: "demo-config", namespace: "ns1", resourceVersion: "7" },
    data: { "routes.json": JSON.stringify({ name: "other", routes: [] }) },
  };

  it("refuses a cluster rename once JetStream holds a stream, and says so", () => {
    const r = reconcileCluster({ ...view(c), configSecret, routesConfigMap: renamed, servers: holding(1) });
    expect(r.changes.filter((x) => x.kind === "Secret")).toEqual([]);
    expect(condition(r, "Degraded")?.message).toContain(
      "JetStream holds 1 stream here, so the cluster name (demo → other) must not change",
    );
  });

  it("refuses new server names (a site set on the operator) too, but allows both while no stream exists", () => {
    const r = reconcileCluster({ ...view(c), configSecret, servers: holding(2), site: "berlin" });
    expect(condition(r, "Degraded")?.message).toContain("the server names ($POD_NAME → $SERVER_NAME)");
    const empty = reconcileCluster({ ...view(c), configSecret, routesConfigMap: renamed, servers: holding(0) });
    expect(summary(empty)).toContain("replace Secret demo");
  });
});
