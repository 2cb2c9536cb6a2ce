// Who may change what, with NATS accounts as docs/config-api.md shows them: the controller in its own
// account exports the config API; an admin account imports it (share: true) and may put; a viewer
// may read but is refused by nats-server itself when it publishes a put. Every change leaves an
// Event on the routes file naming who asked, as nats-server named them.

import { readFileSync } from "node:fs";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { type NatsServer, type Proc, startNatsServer, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

// The accounts of docs/config-api.md's "Who may change what" (checked below: the same but for passwords).
const accounts = `accounts {
  SATELLITE: {
    users: [ { user: "satellite", password: "s" } ]
    exports: [ { service: "_SAT.>" } ]
  }
  ADMIN: {
    users: [ { user: "admin", password: "a" } ]
    imports: [ { service: { account: SATELLITE, subject: "_SAT.>" }, share: true } ]
  }
  VIEW: {
    users: [ { user: "viewer", password: "v", permissions: { publish: { deny: ["_SAT.*.config.put", "_SAT.*.config.rollback"] } } } ]
    imports: [ { service: { account: SATELLITE, subject: "_SAT.>" }, share: true } ]
  }
}`;

const kube = useKube();
let ns: string;
let server: NatsServer;
let controller: Proc;
let admin: NatsConnection;
let viewer: NatsConnection;
const seed = ["nats://nats-0.nats:6222", "nats://nats-1.nats:6222", "nats://nats-2.nats:6222"];
const ask = async (nc: NatsConnection, subject: string, body: unknown = "") =>
  JSON.parse(new TextDecoder().decode((await nc.request(subject, JSON.stringify(body), { timeout: 3_000 })).data));

beforeAll(async () => {
  ns = await kube.createNamespace("who");
  await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
  await kube.apply(manifest("controller.yaml"), { namespace: ns });
  server = await startNatsServer({ name: "accounts", extra: accounts });
  const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite"), ns, "satellite");
  controller = startSatellite(["run", "-s", server.url, "-user", "satellite", "-password", "s", "-name", "nats", "-log-format", "json"], {
    env: { KUBECONFIG: kubeconfig },
  });
  await waitForLog(controller, "serving config API");
  admin = await connect({ servers: server.url, user: "admin", pass: "a", name: "ops console" });
  viewer = await connect({ servers: server.url, user: "viewer", pass: "v" });
  await waitFor("the config API through the import", async () => (await ask(admin, "_SAT.nats.config.get")).ok);
});

afterAll(async () => {
  await admin?.close();
  await viewer?.close();
  await controller?.stop();
  await server?.stop();
  kube.close();
});

describe("who may change what", () => {
  it("uses the accounts docs/config-api.md shows (passwords and comments aside)", () => {
    const doc = readFileSync(new URL("../../docs/config-api.md", import.meta.url), "utf8");
    const shown = /^```\n(accounts \{[\s\S]*?)^```$/m.exec(doc)?.[1];
    const plain = (conf: string) =>
      conf
        .replace(/#.*$/gm, "")
        .replace(/password: "[^"]*"/g, 'password: "…"')
        .replace(/\s+/g, " ")
        .trim();
    expect(shown, "docs/config-api.md shows an accounts block").toBeDefined();
    expect(plain(accounts)).toBe(plain(shown!));
  });

  it("a viewer reads, and its put is refused by nats-server: the routes file stays as it was", async () => {
    const before = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    expect((await ask(viewer, "_SAT.nats.config.get")).ok).toBe(true);
    await expect(ask(viewer, "_SAT.nats.config.put", { routes: [...seed, "nats://evil:6222"] })).rejects.toThrow(/permission|timeout/i);
    const after = await kube.admin.get(kinds.ConfigMap, { namespace: ns, name: "nats-config" });
    expect(after.metadata!.resourceVersion).toBe(before.metadata!.resourceVersion);
  });

  it("an admin's put leaves an Event naming the admin, its account and its client; the history keeps who too", async () => {
    const reply = await ask(admin, "_SAT.nats.config.put", { routes: [...seed, "nats://admin-added:6222"] });
    expect(reply).toMatchObject({ ok: true, changed: true });
    const events = await waitFor("the ConfigChanged Event", async () => {
      const list = (await kube.admin.list(kinds.Event, ns, { fieldSelector: "involvedObject.name=nats-config,reason=ConfigChanged" }))
        .items;
      return list.length > 0 && list;
    });
    expect(events[0]!.message).toMatch(
      /^config\.put by user "admin" in account ADMIN \(client "ops console", 127\.0\.0\.1\): routes added nats:\/\/admin-added:6222$/,
    );
    const get = await ask(admin, "_SAT.nats.config.get");
    expect(get.history[0].replacedBy).toBe('user "admin" in account ADMIN (client "ops console", 127.0.0.1)');
  });
});
