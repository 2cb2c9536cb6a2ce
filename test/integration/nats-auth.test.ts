import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectionOptions, nkeyAuthenticator, nkeys } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionOptions } from "../../runtime/nats/connect.ts";
import { makeCerts } from "../harness/certs.ts";
import { type NatsServer, type Proc, startNatsServer, useKube, waitFor } from "../harness/index.ts";
import { startSatellite, waitForLog } from "../harness/satellite.ts";

const kube = useKube();
const dir = mkdtempSync(join(tmpdir(), "satellite-nats-auth-"));
const certs = makeCerts(dir);
const user = nkeys.createUser();
const nkeySeedFile = join(dir, "user.nk");
writeFileSync(nkeySeedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
const running: (NatsServer | Proc)[] = [];
let ns: string;

beforeAll(async () => {
  ns = await kube.createNamespace("nats-auth");
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  kube.close();
});

async function controllerAnswers(server: NatsServer, args: string[], client: ConnectionOptions) {
  const p = startSatellite(["run", "-s", server.url, "-name", "auth", "-n", ns, ...args], { env: { KUBECONFIG: kube.info.kubeconfig } });
  running.push(p);
  await waitForLog(p, "serving config API");
  const nc = await connect({ servers: server.url, ...client });
  try {
    const m = await waitFor("discover", () => nc.request("_SAT.discover", "", { timeout: 1_000 }));
    return JSON.parse(m.string());
  } finally {
    await nc.close();
  }
}

describe("the controller authenticates to NATS with what its flags say", () => {
  it("user and password", async () => {
    const s = await startNatsServer({ name: "userpass", extra: `authorization { users: [ { user: ctl, password: "s3cret" } ] }` });
    running.push(s);
    expect(await controllerAnswers(s, ["-user", "ctl", "-password", "s3cret"], { user: "ctl", pass: "s3cret" })).toMatchObject({
      ok: true,
      cluster: "auth",
    });
  });

  it("a token", async () => {
    const s = await startNatsServer({ name: "token", extra: `authorization { token: "t0k3n" }` });
    running.push(s);
    expect(await controllerAnswers(s, ["-token", "t0k3n"], { token: "t0k3n" })).toMatchObject({ ok: true });
  });

  it("an nkey seed file", async () => {
    const s = await startNatsServer({ name: "nkey", extra: `authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }` });
    running.push(s);
    expect(await controllerAnswers(s, ["-nkey", nkeySeedFile], { authenticator: nkeyAuthenticator(user.getSeed()) })).toMatchObject({
      ok: true,
    });
  });

  it("TLS by IP with -tlsname: the certificate is checked against the names given, not the URL's host", async () => {
    const s = await startNatsServer({
      name: "tlsname",
      extra: `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.caCert}" }`,
    });
    running.push(s);
    // The certificate is for 127.0.0.1 and localhost: named otherwise, the connection is refused…
    const once = (names: string[]) =>
      connect({
        ...connectionOptions({ servers: [s.url.replace("nats://", "tls://")], name: "t", tlsCa: certs.caCert, tlsNames: names }),
        waitOnFirstConnect: false,
        maxReconnectAttempts: 0,
      });
    await expect(once(["nats.prod.svc", "nats"])).rejects.toThrow(/certificate is for none of nats.prod.svc, nats/);
    await (await once(["nats.prod.svc", "localhost"])).close();
    // …and the controller, given a name the certificate has, serves.
    expect(
      await controllerAnswers(s, ["-tlsca", certs.caCert, "-tlsname", "nats.prod.svc,localhost"], { tls: { caFile: certs.caCert } }),
    ).toMatchObject({
      ok: true,
    });
  });

  it("TLS with a client certificate the server verifies", async () => {
    const s = await startNatsServer({
      name: "tls",
      extra: `tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.caCert}", verify: true }`,
    });
    running.push(s);
    const tls = { caFile: certs.caCert, certFile: certs.adminCert, keyFile: certs.adminKey };
    expect(
      await controllerAnswers(s, ["-tlsca", certs.caCert, "-tlscert", certs.adminCert, "-tlskey", certs.adminKey], { tls }),
    ).toMatchObject({ ok: true });
  });

  it("a wrong password is reported, and nothing is served", async () => {
    const s = await startNatsServer({ name: "denied", extra: `authorization { users: [ { user: ctl, password: "right" } ] }` });
    running.push(s);
    const p = startSatellite(["run", "-s", s.url, "-name", "auth", "-n", ns, "-user", "ctl", "-password", "wrong"], {
      env: { KUBECONFIG: kube.info.kubeconfig },
    });
    running.push(p);
    await waitFor("the controller to give up or report", async () => !p.running() || /authoriz/i.test(p.log()), 20_000);
    expect(await p.exited).toBe(1);
    expect(p.log()).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: Authorization Violation: check -creds/);
    expect(p.log()).not.toContain("serving config API");
  });
});
