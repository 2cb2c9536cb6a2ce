// spec.operatorConfig (JWT accounts) with what NATS users make them with: nsc makes the operator,
// its system account, an account and users; the Secret holds the operator JWT and the system
// account's JWT (preloaded); three real nats-servers run the config satellite renders from it.
// A user's creds connect, a client without any is refused, and an account pushed afterwards with
// `nsc push` (the NATS-based resolver) takes users at once, on every server, without a restart.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsCluster } from "../../handlers/operator/natscluster.ts";
import { jwtAccountsOf } from "../../handlers/operator/operator-jwt.ts";
import type { SecretTexts } from "../../handlers/operator/phases/observe.ts";
import { renderServerConfig } from "../../handlers/operator/server-config.ts";
import { binaries } from "../harness/binaries.ts";
import { freePorts, type Proc, startProcess, waitFor } from "../harness/index.ts";
import { nscWorkspace } from "../harness/nsc.ts";

const dir = mkdtempSync(join(tmpdir(), "satellite-jwt-"));

let nsc: ReturnType<typeof nscWorkspace>["nsc"];
let creds: ReturnType<typeof nscWorkspace>["creds"];
let accountId: ReturnType<typeof nscWorkspace>["accountId"];
const running: Proc[] = [];
let clients: number[] = [];
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
});

const cluster = (systemAccount: string): NatsCluster => ({
  apiVersion: "nats.io/v1alpha2",
  kind: "NatsCluster",
  metadata: { name: "jwt", namespace: "edge-1" },
  spec: { serverImage: "nats", operatorConfig: { secret: "operator-jwt", systemAccount, resolver: "full" } },
});

beforeAll(async () => {
  ({ nsc, creds, accountId } = nscWorkspace());
  nsc("add", "operator", "--generate-signing-key", "--sys", "--name", "OP");
  nsc("add", "account", "APP");
  nsc("add", "user", "-a", "APP", "app");
  const ports = await freePorts(9);
  clients = ports.slice(0, 3);
  const routes = ports.slice(3, 6).map((p) => `nats://127.0.0.1:${p}`);
  // Accounts are pushed to the cluster, as nsc pushes them: to the operator's account server URL.
  nsc("edit", "operator", "--account-jwt-server-url", `nats://127.0.0.1:${clients[0]}`);
  const sys = accountId("SYS");
  const secrets: SecretTexts = {
    "operator-jwt": { "op.jwt": nsc("describe", "operator", "--raw"), [sys]: nsc("describe", "account", "SYS", "--raw") },
  };
  const jwt = jwtAccountsOf(cluster(sys), secrets);
  expect(jwt.problems).toEqual([]);
  for (const i of [0, 1, 2]) {
    const rendered = renderServerConfig({
      cluster: cluster(sys),
      clusterName: "jwt",
      routes,
      jwtAccounts: jwt.accounts!,
      paths: { pidFile: join(dir, `s${i}`, "nats.pid") },
      ports: { client: clients[i]!, cluster: ports[3 + i]!, monitor: ports[6 + i]! },
    });
    if ("error" in rendered) throw new Error(rendered.error.message);
    const file = join(dir, `s${i}.conf`);
    writeFileSync(file, rendered.text);
    running.push(
      startProcess(`jwt-${i}`, binaries().NATS_SERVER_BIN, ["-c", file], join(dir, `s${i}.log`), { ...process.env, POD_NAME: `jwt-${i}` }),
    );
  }
  for (const [i, p] of running.entries())
    await waitFor(`jwt-${i} routed to both others`, async () => {
      if (!p.running()) throw new Error(`jwt-${i} exited:\n${p.tail(10)}`);
      const r = (await (await fetch(`http://127.0.0.1:${ports[6 + i]}/routez`)).json()) as { num_routes: number };
      return r.num_routes >= 2;
    });
}, 120_000);

const asUser = (port: number, account: string, user: string) =>
  connect({
    servers: `nats://127.0.0.1:${port}`,
    authenticator: credsAuthenticator(new TextEncoder().encode(creds(account, user))),
    reconnect: false,
  });

describe("operatorConfig: JWT accounts on real servers", () => {
  it("a client without creds is refused, and so is a user of an account not pushed yet", async () => {
    await expect(connect({ servers: `nats://127.0.0.1:${clients[0]}`, reconnect: false })).rejects.toThrow(/Authorization Violation/i);
    // APP was never pushed: the servers do not know it yet.
    await expect(asUser(clients[0]!, "APP", "app")).rejects.toThrow(/Authorization Violation/i);
  });

  it("nsc push of an account: its users connect on every server at once, no server restarted", async () => {
    const pids = running.map((p) => p.pid);
    nsc("push", "-A");
    await waitFor("every server takes APP's users", async () => {
      for (const port of clients) {
        const nc = await asUser(port, "APP", "app").catch(() => undefined);
        if (!nc) return false;
        await nc.close();
      }
      return true;
    });
    const sub = await asUser(clients[2]!, "APP", "app");
    const s = sub.subscribe("orders.>", { max: 1 });
    await sub.flush();
    const pub = await asUser(clients[0]!, "APP", "app");
    await waitFor("the subscription reaches server 0", async () => {
      pub.publish("orders.1", "one");
      await pub.flush();
      return s.getReceived() === 1;
    });
    await Promise.all([pub.close(), sub.close()]);
    expect(running.map((p) => p.pid)).toEqual(pids);
    expect(running.every((p) => p.running())).toBe(true);
  });

  it("a user of another account does not see APP's messages", async () => {
    nsc("add", "account", "OTHER");
    nsc("add", "user", "-a", "OTHER", "other");
    nsc("push", "-a", "OTHER");
    const app = await waitFor("APP connects", () => asUser(clients[1]!, "APP", "app").catch(() => undefined));
    const other = await waitFor("OTHER's user connects", () => asUser(clients[1]!, "OTHER", "other").catch(() => undefined));
    const seen = other.subscribe(">");
    await other.flush();
    const own = app.subscribe("orders.2", { max: 1 });
    app.publish("orders.2", "two");
    await waitFor("APP's own subscriber has it", async () => own.getReceived() === 1);
    await other.flush();
    expect(seen.getReceived()).toBe(0);
    await Promise.all([app.close(), other.close()]);
  });
});
