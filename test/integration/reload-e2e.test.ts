// The seed's picture on one machine: a real API server; three nats-server processes playing the
// three pods (127.0.0.2-4, standard ports), each with a satellite reloader; a ground nats-server
// linked by leafnodes; the controller. Requests come from the ground.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { useKube, waitFor } from "../harness/index.ts";
import { waitForLog } from "../harness/satellite.ts";
import { type SeedPicture, type SeedServer, seedNatsConf, startSeedPicture } from "../harness/seed-picture.ts";

const kube = useKube();
let seed: SeedPicture;
let ns: string;
let servers: SeedServer[];
let routes: string[];
let natsConf: string;
let gc: NatsConnection;

async function put(body: object, timeout = 20_000) {
  const m = await gc.request("_SAT.nats.config.put", JSON.stringify(body), { timeout });
  return JSON.parse(m.string());
}
const varz = (i: number) => seed.monitor(i, "varz");
/** The controller's count of the reloads its servers' reloaders reported, with `outcome`. */
async function reloadsCounted(outcome: string): Promise<number> {
  const series = `satellite_reloads_total{mode="sidecar",namespace="${ns}",natscluster="nats",outcome="${outcome}"} `;
  const line = (await seed.metrics()).split("\n").find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length)) : 0;
}

beforeAll(async () => {
  seed = await startSeedPicture(kube, { firstReloaderViaSystem: true });
  ({ ns, servers, routes } = seed);
  natsConf = seedNatsConf;
  gc = await connect({ servers: seed.ground.url });
  await waitFor("the controller reachable from the ground", async () =>
    (await gc.request("_SAT.nats.config.get", "", { timeout: 1_000 })).string().includes('"ok":true'),
  );
}, 120_000);

afterAll(async () => {
  await gc?.close();
  await seed?.stop();
  kube.close();
});

describe("a config change from the ground reaches every server", () => {
  it("a new cluster name and a 4th route: all three reload, and the reply lists each confirmation", async () => {
    const next = [...routes, "nats://127.0.0.5:6222"];
    const before = await Promise.all([0, 1, 2].map(varz));
    const reply = await put({ name: "CLUSTER_A", routes: next, wait: "5s" });
    expect(reply).toMatchObject({ ok: true, changed: true, name: "CLUSTER_A", reload: { complete: true, ok: true } });
    expect(reply.reload.servers.map((s: any) => [s.pod, s.server, s.state, s.configRevision])).toEqual(
      servers.map((s) => [s.pod, s.pod, "reloaded", reply.revision]),
    );
    for (const [i, s] of servers.entries()) {
      const log = readFileSync(join(s.dir, "nats.log"), "utf8");
      expect(log).toContain("Cluster name updated to CLUSTER_A");
      const v = await varz(i);
      expect(v.config_load_time).not.toBe(before[i].config_load_time);
      expect(reply.reload.servers[i].configLoadTime).toBe(v.config_load_time);
      await waitFor(`${s.pod} trying the new route`, async () => readFileSync(join(s.dir, "nats.log"), "utf8").includes("127.0.0.5:6222"));
      expect(JSON.parse(readFileSync(join(s.dir, "routes.json"), "utf8"))).toEqual({ name: "CLUSTER_A", routes: next });
    }
    for (const i of [0, 1, 2]) expect((await seed.monitor(i, "routez")).num_routes).toBeGreaterThanOrEqual(2);
    // The controller's /metrics counted each server's reload, and timed it.
    await waitFor("3 reloads counted", async () => (await reloadsCounted("reloaded")) >= 3);
    expect(await seed.metrics()).toMatch(/^satellite_reload_duration_seconds_count\{mode="sidecar"\} ([3-9]|\d{2,})$/m);
    const status = JSON.parse((await gc.request("_SAT.nats.status", "", { timeout: 5_000 })).string());
    expect(status.servers.map((s: any) => [s.name, s.config?.revision, s.config?.state])).toEqual(
      servers.map((s) => [s.pod, reply.revision, "reloaded"]),
    );
  });

  it("a config nats-server refuses leaves every server running its last good config, and the reply says why", async () => {
    const cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    // Someone edits nats.conf by hand with a typo; then a routes change comes through the API.
    await kube.admin.replace(kinds.ConfigMap, {
      ...cm,
      data: { ...cm.data, "nats.conf": cm.data!["nats.conf"]!.replace("port: 4222", 'port: 4222\nwrite_deadline: "soon"') },
    });
    // The hand edit is reloaded (and refused) first; then the put's change: two rounds of refusals.
    const reply = await put({ name: "CLUSTER_A", routes: routes, wait: "12s" });
    expect(reply).toMatchObject({ ok: true, changed: true, reload: { complete: true, ok: false } });
    const [s0, s1, s2] = reply.reload.servers;
    expect(s0).toMatchObject({ pod: "nats-0", state: "failed" });
    expect(s0.error).toContain('error parsing write_deadline: time: invalid duration "soon"');
    for (const s of [s1, s2]) {
      expect(s.state).toBe("failed");
      expect(s.error).toContain("did not load the new config");
    }
    for (const [i, s] of servers.entries()) {
      expect(seed.nats[i]!.running()).toBe(true);
      expect((await fetch(`http://${s.ip}:8222/healthz`)).ok).toBe(true);
      expect(readFileSync(join(s.dir, "nats.conf"), "utf8")).not.toContain("write_deadline");
    }
    const evs = (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=nats-config,reason=ReloadFailed" })).items;
    expect(evs.length).toBeGreaterThanOrEqual(3);
    expect(await reloadsCounted("failed")).toBeGreaterThanOrEqual(3);
    // Fixing the typo heals it.
    const bad = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    await kube.admin.replace(kinds.ConfigMap, { ...bad, data: { ...bad.data, "nats.conf": natsConf } });
    const fixed = await put({ name: "CLUSTER_B", routes: routes, wait: "5s" });
    expect(fixed.reload).toMatchObject({ complete: true, ok: true });
  });

  it("a change nats-server cannot reload is detected and reported, not sent", async () => {
    const cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    const loads = await Promise.all([0, 1, 2].map(async (i) => (await varz(i)).config_load_time));
    await kube.admin.replace(kinds.ConfigMap, { ...cm, data: { ...cm.data, "nats.conf": natsConf.replace("port: 6222", "port: 6223") } });
    const reply = await put({ name: "CLUSTER_B", routes: [...routes, "nats://127.0.0.6:6222"], wait: "5s" });
    expect(reply.reload).toMatchObject({ complete: true, ok: false });
    for (const s of reply.reload.servers)
      expect(s.error).toContain("the cluster port (cluster.port) changed: nats-server applies that only on restart");
    expect(await Promise.all([0, 1, 2].map(async (i) => (await varz(i)).config_load_time))).toEqual(loads);
    // Put the port back: the next change reloads normally.
    const now = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    await kube.admin.replace(kinds.ConfigMap, { ...now, data: { ...now.data, "nats.conf": natsConf } });
    expect((await put({ name: "CLUSTER_C", routes, wait: "5s" })).reload).toMatchObject({ complete: true, ok: true });
  });

  it("a reloader killed mid-change catches up when it comes back", async () => {
    seed.reloaders[1]!.signal("SIGKILL");
    await seed.reloaders[1]!.exited;
    // Long enough for the leafnode links, closed by the new cluster name, to come back (about 1 s).
    const reply = await put({ name: "CLUSTER_D", routes, wait: "3s" });
    expect(reply.reload.complete).toBe(false);
    expect(reply.reload.servers.find((s: any) => s.pod === "nats-1").state).toBe("pending");
    seed.reloaders[1] = seed.startReloader(1);
    await waitFor(
      "nats-1 on CLUSTER_D",
      async () => readFileSync(join(servers[1]!.dir, "nats.log"), "utf8").includes("Cluster name updated to CLUSTER_D"),
      15_000,
    );
    expect((await put({ name: "CLUSTER_D", routes, wait: "5s" })).reload).toMatchObject({ complete: true, ok: true });
  });

  it("a reloader NATS refuses still writes and reloads; its reports resume once NATS takes it", async () => {
    await seed.reloaders[2]!.stop();
    // The server knows no user "nobody": every connect is refused (as with TLS or creds it lacks).
    seed.reloaders[2] = seed.startReloader(2, ["-user", "nobody", "-password", "wrong"]);
    await waitForLog(seed.reloaders[2]!, /no NATS connection for reload reports|NATS connection for reload reports closed/);
    const before = (await varz(2)).config_load_time;
    const reply = await put({ name: "CLUSTER_F", routes, wait: "2s" });
    expect(reply.reload.servers.find((s: any) => s.pod === "nats-2").state).toBe("pending");
    await waitFor(
      "nats-2 on CLUSTER_F without NATS",
      async () => readFileSync(join(servers[2]!.dir, "nats.log"), "utf8").includes("Cluster name updated to CLUSTER_F"),
      15_000,
    );
    expect((await varz(2)).config_load_time).not.toBe(before);
    expect(seed.reloaders[2]!.running()).toBe(true);
    await seed.reloaders[2]!.stop();
    seed.reloaders[2] = seed.startReloader(2);
    await waitForLog(seed.reloaders[2]!, "connected to NATS");
    expect((await put({ name: "CLUSTER_F", routes, wait: "5s" })).reload).toMatchObject({ complete: true, ok: true });
  });

  it("a controller killed after writing still leaves every server converged", async () => {
    const cm = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    const req = gc
      .request("_SAT.nats.config.put", JSON.stringify({ name: "CLUSTER_E", routes, wait: "5s" }), { timeout: 3_000 })
      .catch(() => undefined);
    await waitFor(
      "the write",
      async () =>
        (await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" })).metadata!.resourceVersion !==
        cm.metadata!.resourceVersion,
    );
    seed.controller.signal("SIGKILL");
    await req;
    for (const s of servers) {
      await waitFor(
        `${s.pod} on CLUSTER_E`,
        async () => readFileSync(join(s.dir, "nats.log"), "utf8").includes("Cluster name updated to CLUSTER_E"),
        15_000,
      );
    }
    seed.controller = seed.startController();
    await waitForLog(seed.controller, "serving config API");
    const again = await waitFor("the restarted controller", () =>
      put({ name: "CLUSTER_E", routes, wait: "5s" }, 6_000).catch(() => undefined),
    );
    expect(again).toMatchObject({ ok: true, changed: false, reload: { complete: true, ok: true } });
  });
});
