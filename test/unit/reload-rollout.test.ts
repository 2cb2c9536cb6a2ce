import { describe, expect, it } from "vitest";
import { type RolloutInput, rolloutStep, type ServerObservation } from "../../handlers/operator/reload-rollout.ts";
import { configDigest } from "../../handlers/reloader/digest.ts";
import type { Pod } from "../../handlers/types.ts";
import { natsCluster, now, runningPod } from "./operator-fixtures.ts";

const oldConf = 'server_name: $POD_NAME\nport: 4222\ncluster { name: "demo", port: 6222 }\n';
const newConf = 'server_name: $POD_NAME\nport: 4222\nmax_payload: 2048\ncluster { name: "demo", port: 6222 }\n';
const digest = (text: string, pod: string) =>
  (configDigest({ "nats.conf": text }, "nats.conf", { POD_NAME: pod }) as { digest: string }).digest;
const later = (ms: number) => new Date(Date.parse(now) + ms).toISOString();

/** Pods nudged toward `nudgedTo` (annotated with its digest) at `now`. */
function input(
  spec: object,
  servers: Record<string, Partial<ServerObservation> & { on: string }>,
  more: Partial<RolloutInput> = {},
  nudgedTo?: string,
): RolloutInput {
  const c = natsCluster({ size: 3, configReload: { mode: "operator" }, ...spec });
  const pods: Pod[] = [1, 2, 3].map((i) => {
    const p = runningPod(c, i);
    if (nudgedTo) {
      const name = p.metadata!.name!;
      p.metadata!.annotations = {
        ...p.metadata!.annotations,
        "nats.io/config-digest": digest(nudgedTo, name),
        "nats.io/config-nudge": now,
      };
    }
    return p;
  });
  return {
    cluster: c,
    pods,
    size: 3,
    rendered: newConf,
    renderedRevision: "20",
    lastGood: oldConf,
    lastGoodRevision: "10",
    servers: Object.fromEntries(
      Object.entries(servers).map(([pod, s]) => [
        pod,
        { serverId: `id-${pod}`, healthy: true, routes: 2, leafnodes: 1, ...s, digest: digest(s.on, pod) },
      ]),
    ),
    version: "2.14.9",
    connect: { urls: ["nats://10.88.0.2:4222"], user: "satellite", password: "pw" },
    now,
    ...more,
  };
}
const all = (conf: string, extra: Partial<ServerObservation> = {}) => ({
  "demo-1": { on: conf, ...extra },
  "demo-2": { on: conf, ...extra },
  "demo-3": { on: conf, ...extra },
});
const ops = (r: ReturnType<typeof rolloutStep>) =>
  r.changes.map((c) =>
    c.op === "reload" ? `reload ${c.pod}` : c.op === "replace" && c.kind === "Pod" ? `nudge ${c.object.metadata?.name}` : c.op,
  );

describe("operator reload: strategy all", () => {
  it("nudges every pod to the new digest, then reloads every server once the kubelet had a moment", () => {
    const r = rolloutStep(input({}, all(oldConf)));
    expect(ops(r)).toEqual(["nudge demo-1", "nudge demo-2", "nudge demo-3"]);
    const nudge = r.changes[0] as { object: Pod };
    expect(nudge.object.metadata?.annotations).toMatchObject({
      "nats.io/config-digest": digest(newConf, "demo-1"),
      "nats.io/config-nudge": now,
    });
    expect(r.target).toBe(newConf);
    expect(r.status).toMatchObject({
      state: "Rolling",
      revision: "20",
      servers: [{ pod: "demo-1", state: "outdated", revision: "10" }, {}, {}],
    });
    expect(r.requeueAfterMs).toBe(150);
    expect(ops(rolloutStep(input({}, all(oldConf), { now: later(100) }, newConf)))).toEqual([]);
    const next = rolloutStep(input({}, all(oldConf), { now: later(150) }, newConf));
    expect(ops(next)).toEqual(["reload demo-1", "reload demo-2", "reload demo-3"]);
    // Reloads are answered when done: their outcome is looked at straight away.
    expect(next.requeueAfterMs).toBe(0);
    expect(next.changes[0]).toMatchObject({
      op: "reload",
      serverId: "id-demo-1",
      digest: digest(newConf, "demo-1"),
      connect: { user: "satellite" },
    });
  });

  it("a reload that found the old file (the kubelet had not refreshed it) is tried again, and the pod nudged again after 3 s", () => {
    const tried = (at: string) => ({ lastReload: { digest: digest(newConf, "demo-1"), outcome: "reloaded" as const, at } });
    const s = (at: string) => ({ "demo-1": { on: oldConf, ...tried(at) }, "demo-2": { on: newConf }, "demo-3": { on: newConf } });
    const soon = rolloutStep(input({}, s(later(300)), { now: later(400) }, newConf));
    expect(ops(soon)).toEqual([]);
    expect(soon.status.servers?.[0]).toMatchObject({ state: "reloading", error: expect.stringContaining("kubelet has not refreshed") });
    expect(ops(rolloutStep(input({}, s(later(300)), { now: later(450) }, newConf)))).toEqual(["reload demo-1"]);
    expect(ops(rolloutStep(input({}, s(later(2_900)), { now: later(3_000) }, newConf)))).toEqual(["nudge demo-1"]);
    expect(ops(rolloutStep(input({}, s(later(2_500)), { now: later(3_000) }, newConf)))).toEqual(["nudge demo-1", "reload demo-1"]);
  });

  it("every server on the new config: it becomes the last good one, Current, one Event", () => {
    const r = rolloutStep(input({}, all(newConf)));
    expect(r.changes).toEqual([]);
    expect([r.lastGood, r.lastGoodRevision]).toEqual([newConf, "20"]);
    expect(r.condition).toMatchObject({ type: "ConfigCurrent", status: "True" });
    expect(r.events.map((e) => e.reason)).toEqual(["ConfigRolledOut"]);
    expect(r.requeueAfterMs).toBeUndefined();
  });

  it("a config nats-server refuses: recorded as refused, the Secret goes back to the last good config, and nothing more is reloaded", () => {
    const refused = {
      lastReload: { digest: digest(newConf, "demo-2"), outcome: "refused" as const, error: "nats-server refused the config: bad", at: now },
    };
    const r = rolloutStep(input({}, { "demo-1": { on: oldConf }, "demo-2": { on: oldConf, ...refused }, "demo-3": { on: oldConf } }));
    expect(r.target).toBe(oldConf);
    expect(r.status.refused).toMatchObject({ revision: "20", error: "demo-2: nats-server refused the config: bad" });
    expect(r.condition).toMatchObject({ status: "False", reason: "Refused" });
    expect(r.events).toMatchObject([{ type: "Warning", reason: "ConfigRefused" }]);
    expect(r.changes).toEqual([]);
    // Later, with the refusal in the status: the same rendered config is not tried again.
    const c = { ...input({}, all(oldConf)).cluster, status: { config: r.status } };
    const next = rolloutStep({ ...input({}, all(oldConf)), cluster: c });
    expect([next.target, next.changes, next.status.state]).toEqual([oldConf, [], "Refused"]);
  });

  it("a change only a restart applies is not reloaded (the pods are replaced)", () => {
    const moved = oldConf.replace("port: 6222", "port: 7222");
    const r = rolloutStep(input({}, all(oldConf), { rendered: moved }));
    expect(r.changes).toEqual([]);
    expect(r.status.servers?.[0]?.error).toMatch(/needs a restart/);
  });
});

describe("operator reload: strategy canary", () => {
  it("a canary that lost the leafnode links the others keep is not healthy", () => {
    const loaded = { lastReload: { digest: digest(newConf, "demo-1"), outcome: "reloaded" as const, at: now } };
    const s = { "demo-1": { on: newConf, leafnodes: 0, ...loaded }, "demo-2": { on: oldConf }, "demo-3": { on: oldConf } };
    const spec = { configReload: { mode: "operator", strategy: "canary", canaryTimeoutSeconds: 5 } };
    expect(rolloutStep(input(spec, s, { now: later(1_000) })).changes).toEqual([]);
    expect(rolloutStep(input(spec, s, { now: later(5_000) })).events).toMatchObject([
      { reason: "CanaryUnhealthy", message: expect.stringContaining("0 of 1 leafnode links") },
    ]);
  });

  it("a canary that just loaded it is judged after 2 s of running it, not at once", () => {
    const loaded = { lastReload: { digest: digest(newConf, "demo-1"), outcome: "reloaded" as const, at: now } };
    const s = { "demo-1": { on: newConf, ...loaded }, "demo-2": { on: oldConf }, "demo-3": { on: oldConf } };
    const spec = { configReload: { mode: "operator", strategy: "canary" } };
    expect(rolloutStep(input(spec, s, { now: later(500) })).changes).toEqual([]);
    expect(ops(rolloutStep(input(spec, s, { now: later(2_000) })))).toEqual(["nudge demo-2", "nudge demo-3"]);
  });

  it("a put's own strategy wins over the spec's", () => {
    expect(ops(rolloutStep({ ...input({}, all(oldConf)), renderedStrategy: "canary" }))).toEqual(["nudge demo-1"]);
    expect(
      ops(rolloutStep({ ...input({ configReload: { mode: "operator", strategy: "canary" } }, all(oldConf)), renderedStrategy: "all" })),
    ).toHaveLength(3);
  });

  it("the first server alone first", () => {
    expect(ops(rolloutStep(input({ configReload: { mode: "operator", strategy: "canary" } }, all(oldConf))))).toEqual(["nudge demo-1"]);
    const nudged = input({ configReload: { mode: "operator", strategy: "canary" } }, all(oldConf), { now: later(300) }, newConf);
    expect(ops(rolloutStep(nudged))).toEqual(["reload demo-1"]);
  });

  it("the rest once the canary runs it, healthy, with its routes", () => {
    const s = { "demo-1": { on: newConf }, "demo-2": { on: oldConf }, "demo-3": { on: oldConf } };
    expect(ops(rolloutStep(input({ configReload: { mode: "operator", strategy: "canary" } }, s)))).toEqual([
      "nudge demo-2",
      "nudge demo-3",
    ]);
  });

  it("an unhealthy canary is waited for, then the config is refused and rolled back", () => {
    const loaded = { lastReload: { digest: digest(newConf, "demo-1"), outcome: "reloaded" as const, at: now } };
    const s = { "demo-1": { on: newConf, healthy: true, routes: 0, ...loaded }, "demo-2": { on: oldConf }, "demo-3": { on: oldConf } };
    const spec = { configReload: { mode: "operator", strategy: "canary", canaryTimeoutSeconds: 5 } };
    const waiting = rolloutStep(input(spec, s, { now: later(1_000) }));
    expect([waiting.changes, waiting.requeueAfterMs, waiting.target]).toEqual([[], 150, newConf]);
    const r = rolloutStep(input(spec, s, { now: later(5_000) }));
    expect(r.target).toBe(oldConf);
    expect(r.events).toMatchObject([
      { reason: "CanaryUnhealthy", message: expect.stringContaining("routes to 0 of 2 servers, 1 of 1 leafnode links") },
    ]);
    // Rolled back: the canary, on the refused config, is moved back to the last good one.
    const c = { ...input(spec, s).cluster, status: { config: r.status } };
    expect(ops(rolloutStep({ ...input(spec, s), cluster: c }))).toEqual(["nudge demo-1"]);
  });
});
