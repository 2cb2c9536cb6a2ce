// Certificate rotation on a real node: a client-TLS + route-TLS NatsCluster under a publisher, its
// two TLS Secrets renewed as cert-manager renews them (same CA, new keys and serials), in both
// reload modes: every server presents the new certificate (read off a TLS handshake from the
// host), no container restarts, no message is lost. A routes CA swapped in one step is refused
// before any server changes.

import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type ConnectionOptions, connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeNatsTls, type NatsTls } from "../harness/certs.ts";
import { onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const ns = "sat-certs";

/** The serial of the certificate a server presents on its client port: NATS sends INFO, then the TLS handshake. */
function presentedSerial(ip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: ip, port: 4222 });
    socket.setTimeout(3_000, () => socket.destroy(new Error("no INFO in 3 s")));
    socket.once("error", reject);
    socket.once("data", () => {
      const secure = tlsConnect({ socket, rejectUnauthorized: false }, () => {
        resolve(secure.getPeerCertificate().serialNumber);
        secure.destroy();
      });
      secure.once("error", reject);
    });
  });
}

/** A Secret's keys rewritten in place (`kubectl patch`), as cert-manager renews a certificate. */
async function writeSecret(name: string, fromFiles: string[]) {
  const data = Object.fromEntries(
    fromFiles.map((a) => {
      const [key, path] = a.replace("--from-file=", "").split("=") as [string, string];
      return [key, readFileSync(path).toString("base64")];
    }),
  );
  await node.kubectl("patch", "secret", name, "-n", ns, "--type", "merge", "-p", JSON.stringify({ data }));
}

/** Publishes numbered messages on one server, received on another, across the routes. */
async function underLoad(pods: PodView[], tls: NatsTls) {
  const caFile = tls.clients.find((a) => a.startsWith("--from-file=ca.pem="))!.split("=")[2]!;
  // By pod IP: the certificate is checked against the CA, not the IP.
  const opts = { tls: { caFile, checkServerIdentity: () => undefined }, maxReconnectAttempts: -1, reconnectTimeWait: 100 };
  const sub = await connect({ servers: `tls://${pods[0]!.ip}:4222`, ...opts } as ConnectionOptions);
  const pub = await connect({ servers: `tls://${pods[2]!.ip}:4222`, ...opts } as ConnectionOptions);
  const got: number[] = [];
  sub.subscribe("e2e.rotation", {
    callback: (_e, m) => {
      const n = Number(m.string());
      if (n >= 0) got.push(n);
    },
  });
  let crossed = false;
  sub.subscribe("e2e.rotation.probe", {
    callback: () => {
      crossed = true;
    },
  });
  await sub.flush();
  await waitFor(
    "interest across the route",
    async () => {
      pub.publish("e2e.rotation.probe", "");
      await pub.flush();
      return crossed;
    },
    10_000,
    100,
  );
  let sent = 0;
  const timer = setInterval(() => pub.publish("e2e.rotation", String(sent++)), 5);
  return {
    async stop() {
      clearInterval(timer);
      await pub.flush();
      await waitFor("every message received", async () => got.length >= sent, 10_000, 100).catch(() => undefined);
      await Promise.all([sub.close(), pub.close()]);
      return { sent, got };
    },
  };
}

async function rotation(mode: "sidecar" | "operator") {
  const cluster = `certs-${mode}`;
  const tls = makeNatsTls(ns, cluster);
  await node.kubectl("create", "secret", "generic", `${cluster}-clients`, "-n", ns, ...tls.clients);
  await node.kubectl("create", "secret", "generic", `${cluster}-routes`, "-n", ns, ...tls.routes);
  await node.apply(
    JSON.stringify({
      apiVersion: "nats.io/v1alpha2",
      kind: "NatsCluster",
      metadata: { name: cluster, namespace: ns },
      spec: {
        size: 3,
        version: node.info.images.natsVersion,
        configReload: { mode, ...(mode === "operator" ? { strategy: "canary" } : {}) },
        tls: { serverSecret: `${cluster}-clients`, routesSecret: `${cluster}-routes` },
      },
    }),
  );
  const pods = await node.readyPods(ns, `nats_cluster=${cluster}`, 3, 180_000);
  const serials = () => Promise.all(pods.map((p) => presentedSerial(p.ip)));
  await waitFor(
    "every server presenting the first certificate",
    async () => (await serials()).every((s) => s === tls.serials.server),
    60_000,
    250,
  );
  const load = await underLoad(pods, tls);
  const renewed = tls.renew();
  const written = Date.now();
  await writeSecret(`${cluster}-clients`, renewed.clients);
  await writeSecret(`${cluster}-routes`, renewed.routes);
  await waitFor(
    "every server presenting the renewed certificate",
    async () => (await serials()).every((s) => s === renewed.serials.server),
    120_000,
    100,
  );
  const tookMs = Date.now() - written;
  // Messages keep crossing the routes, now over the renewed certificates' connections too.
  await new Promise((r) => setTimeout(r, 2_000));
  const { sent, got } = await load.stop();
  console.log(
    `${mode}: Secrets written → every server presents the renewed certificate in ${(tookMs / 1000).toFixed(2)} s; ${sent} sent, ${got.length} received`,
  );
  expect(got).toEqual(Array.from({ length: sent }, (_, i) => i));
  const now = await node.readyPods(ns, `nats_cluster=${cluster}`, 3, 5_000);
  expect(now.map((p) => [p.uid, p.restarts])).toEqual(pods.map((p) => [p.uid, p.restarts]));
  const events = await node.kubectlJson(
    "get",
    "events",
    "-n",
    ns,
    "--field-selector",
    `involvedObject.name=${cluster},reason=CertificatesChanged`,
  );
  expect(events.items.length).toBeGreaterThan(0);
  return { cluster, pods, renewed };
}

describe.runIf(!node.info.unavailable).sequential("certificate rotation without a restart", () => {
  skipAfterAFailedStep();
  let op: Awaited<ReturnType<typeof rotation>>;
  beforeAll(() => node.installOperator(ns), 180_000);
  afterAll(async () => {
    if (!node.info.unavailable) await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("sidecar mode: both Secrets renewed → every server presents the new certificate, no restart, no message lost", async () => {
    await rotation("sidecar");
  }, 300_000);

  it("operator mode (canary): the same, the kubelet's refresh nudged, each reload confirmed", async () => {
    op = await rotation("operator");
  }, 300_000);

  it("route certificates from another CA (the CA swapped in one step) are refused before any server changes", async () => {
    const foreign = op.renewed.renew(true);
    await writeSecret(`${op.cluster}-routes`, foreign.routes);
    const degraded = await waitFor(
      "the cluster Degraded",
      async () => {
        const c = await node.kubectlJson("get", "natscluster", op.cluster, "-n", ns);
        return c.status?.conditions?.find((x: { type: string; status: string }) => x.type === "Degraded" && x.status === "True");
      },
      60_000,
      500,
    );
    expect(degraded.message).toContain(
      `spec.tls.routesSecret "${op.cluster}-routes": its CA (ca.pem) no longer holds the CA the servers trust now`,
    );
    // Every server still presents the certificate it had, none restarted, the config Secret unchanged.
    expect(await Promise.all(op.pods.map((p) => presentedSerial(p.ip)))).toEqual(op.pods.map(() => op.renewed.serials.server));
    const now = await node.readyPods(ns, `nats_cluster=${op.cluster}`, 3, 5_000);
    expect(now.map((p) => [p.uid, p.restarts])).toEqual(op.pods.map((p) => [p.uid, p.restarts]));
  }, 120_000);
});
