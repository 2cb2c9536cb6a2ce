import { describe, expect, it } from "vitest";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { serverVersion, versionProblems } from "../../handlers/operator/server-version.ts";
import type { Pod, Secret } from "../../handlers/types.ts";
import { condition, natsCluster, secret, summary, view } from "./operator-fixtures.ts";

const created = <T>(r: ReturnType<typeof reconcileCluster>, kind: string) =>
  (r.changes.find((x) => x.op === "create" && x.kind === kind) as { object: T } | undefined)?.object;
const confOf = (r: ReturnType<typeof reconcileCluster>) => atob(created<Secret>(r, "Secret")!.data!["nats.conf"]!);

describe("what each nats-server version takes (read off its history and the official images)", () => {
  it.each([
    ["1.4.1", "/gnatsd", false, false, false, false],
    ["2.0.0", "/nats-server", false, false, false, false],
    ["2.1.9", "/nats-server", true, false, true, false],
    ["2.6.1", "/nats-server", true, true, true, false],
    ["2.7.2", "/nats-server", true, true, true, true],
    ["2.7.3", "nats-server", true, true, true, true],
    ["2.14.9", "nats-server", true, true, true, true],
    ["2.6.1-alpine", "nats-server", true, true, true, false],
    ["latest", "nats-server", true, true, true, true],
  ])(
    "%s: starts %s; server_name %s, cluster name %s, allow_responses %s, /healthz %s",
    (tag, binary, serverName, clusterName, allowResponses, healthz) => {
      expect(serverVersion(tag)).toMatchObject({ tag, binary, serverName, clusterName, allowResponses, healthz });
    },
  );

  it("the JetStream probe flags (2.10.0) and the config digest (2.11.0); a tag that is no version is the newest for them too", () => {
    expect(serverVersion("2.9.10")).toMatchObject({ healthzJetStreamOnly: false, configDigest: false });
    expect(serverVersion("2.10.0")).toMatchObject({ healthzJetStreamOnly: true, configDigest: false });
    expect(serverVersion("2.11.0")).toMatchObject({ healthzJetStreamOnly: true, configDigest: true });
    expect(serverVersion("latest")).toMatchObject({ healthzJetStreamOnly: true, configDigest: true });
    const latest = reconcileCluster(view(natsCluster({ size: 1, version: "latest", configReload: { mode: "operator" } })));
    expect(condition(latest, "Degraded")).toMatchObject({ status: "False" });
    const old = reconcileCluster(view(natsCluster({ size: 1, version: "2.10.7", configReload: { mode: "operator" } })));
    expect(condition(old, "Degraded")?.message).toContain("needs nats-server 2.11.0 or later");
  });

  it("refuses 1.x and JetStream before 2.9.0, each naming the minimum", () => {
    expect(versionProblems("1.0.4", { jetstream: false })[0]).toMatch(
      /1\.x \(gnatsd\).*the minimum is 2\.0\.0; set spec\.version to 2\.1\.9 or later/,
    );
    expect(versionProblems("2.6.1", { jetstream: true })).toEqual([
      "spec.jetstream needs nats-server 2.9.0 or later (its /healthz tells when JetStream is current); spec.version is 2.6.1",
    ]);
    expect(versionProblems("2.9.0", { jetstream: true })).toEqual([]);
    expect(versionProblems("latest", { jetstream: true })).toEqual([]);
  });

  it("a nightly (synadia/nats-server:nightly-YYYYMMDD) has what nats-server's main branch had that day; alpine puts it on PATH", () => {
    // nats-operator's websocket.yaml: main then called itself 2.2.0-beta.24, with websocket and cluster names, no /healthz.
    expect(serverVersion("nightly-20201008")).toMatchObject({
      binary: "nats-server",
      serverName: true,
      clusterName: true,
      healthz: false,
      gatewayOwnCredentials: false,
      configDigest: false,
    });
    expect(serverVersion("nightly-20220125")).toMatchObject({ healthz: true, healthzJetStreamOnly: false, gatewayOwnCredentials: true });
    expect(serverVersion("nightly-20200601")).toMatchObject({ clusterName: false, serverName: true });
    expect(versionProblems("nightly-20201008", { jetstream: false, websocket: true })).toEqual([]);
    expect(versionProblems("nightly-20200601", { jetstream: true, websocket: true })).toEqual([
      "spec.jetstream needs nats-server 2.9.0 or later (its /healthz tells when JetStream is current); spec.version is nightly-20200601",
      "spec.websocketConfig needs nats-server 2.2.0 or later (the first with WebSocket); spec.version is nightly-20200601",
    ]);
    const r = reconcileCluster(view(natsCluster({ size: 1, version: "nightly-20201008" })));
    expect(created<Pod>(r, "Pod")!.spec!.containers[0]!.readinessProbe?.httpGet?.path).toBe("/varz");
  });
});

describe("a cluster on an older server", () => {
  it("2.1.9: started by absolute path, probed on /varz, lame duck by the same binary; no cluster name in its config", () => {
    const r = reconcileCluster(view(natsCluster({ size: 1, version: "2.1.9" })));
    const nats = created<Pod>(r, "Pod")!.spec!.containers[0]!;
    expect(nats.command).toEqual(["/nats-server", "--config", "/etc/nats-config/nats.conf"]);
    expect(nats.readinessProbe?.httpGet?.path).toBe("/varz");
    expect(nats.livenessProbe?.httpGet?.path).toBe("/varz");
    expect(nats.lifecycle?.preStop?.exec?.command).toEqual(["/nats-server", "--signal", "ldm=/var/run/nats/nats.pid"]);
    const conf = confOf(r);
    expect(conf).toContain("server_name: $POD_NAME");
    expect(conf).not.toMatch(/^\s+name:/m);
  });

  it("2.0.0: no server_name either, and the config API's user without allow_responses", () => {
    const c = natsCluster({ size: 1, version: "2.0.0", auth: { clientsAuthSecret: "auth" } });
    const r = reconcileCluster(
      view(c, { secrets: { auth: secret("auth", { "clients-auth.json": '{"users":[{"username":"a","password":"b"}]}' }) } }),
    );
    const conf = confOf(r);
    expect(conf).not.toContain("server_name");
    expect(conf).toContain("satellite-config-api");
    expect(conf).not.toContain("allow_responses");
  });

  it("the newest: what it always had (nats-server on PATH, /healthz, a cluster name)", () => {
    const r = reconcileCluster(view(natsCluster({ size: 1, version: "2.14.9" })));
    const nats = created<Pod>(r, "Pod")!.spec!.containers[0]!;
    expect(nats.command![0]).toBe("nats-server");
    expect(nats.readinessProbe?.httpGet?.path).toBe("/healthz");
    expect(confOf(r)).toMatch(/^\s+name: "demo"$/m);
  });

  it("1.0.4 (the seed's example) is refused before anything is made", () => {
    const r = reconcileCluster(view(natsCluster({ size: 3, version: "1.0.4" })));
    expect(summary(r)).toEqual([]);
    expect(condition(r, "Degraded")).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(condition(r, "Degraded")?.message).toContain("the minimum is 2.0.0");
    expect(r.events).toEqual([{ type: "Warning", reason: "InvalidSpec", message: condition(r, "Degraded")!.message }]);
  });

  it("a cluster name put through the config API is refused on a server that has none, naming what to do", () => {
    const routesConfigMap = { metadata: { name: "demo-config" }, data: { "routes.json": JSON.stringify({ name: "EDGE", routes: [] }) } };
    const r = reconcileCluster(view(natsCluster({ size: 1, version: "2.1.9" }), { routesConfigMap }));
    expect(summary(r)).toEqual([]);
    expect(condition(r, "Degraded")?.message).toMatch(/names the cluster "EDGE", but nats-server 2\.1\.9 has no cluster name/);
    const own = { metadata: { name: "demo-config" }, data: { "routes.json": JSON.stringify({ name: "demo", routes: [] }) } };
    expect(
      condition(reconcileCluster(view(natsCluster({ size: 1, version: "2.1.9" }), { routesConfigMap: own })), "Degraded"),
    ).toMatchObject({
      status: "False",
    });
  });
});
