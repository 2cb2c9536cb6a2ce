// Captures the monitoring JSON of a real nats-server (2 routed servers, JetStream, a stream, a
// consumer, a client) into test/unit/fixtures/nats-monitor/, the exporter's unit-test fixtures.
// Run: npx tsx scripts/capture-monitor-fixtures.ts

import { writeFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { freePorts, startNatsServer } from "../test/harness/index.ts";

const out = new URL("../test/unit/fixtures/nats-monitor/", import.meta.url);
const [r1, r2] = (await freePorts(2, "127.0.0.1")) as [number, number];
const routes = [`nats://127.0.0.1:${r1}`, `nats://127.0.0.1:${r2}`];
const js = (dir: string) => `jetstream { store_dir: "${dir}" }`;
// Clustered JetStream is healthy only once both servers are up: start them together.
const [a, b] = await Promise.all([
  startNatsServer({ name: "fx-a", cluster: { name: "fx", routes, port: r1 }, extra: js("/tmp/fx-a-js") }),
  startNatsServer({ name: "fx-b", cluster: { name: "fx", routes, port: r2 }, extra: js("/tmp/fx-b-js") }),
]);
const nc = await connect({ servers: a.url, name: "fixture-client" });
try {
  const api = async (subject: string, body: unknown) => {
    for (let i = 0; ; i++) {
      const r = JSON.parse((await nc.request(subject, JSON.stringify(body), { timeout: 5000 })).string());
      if (!r.error) return r;
      if (i > 50) throw new Error(`${subject}: ${JSON.stringify(r.error)}`);
      await new Promise((ok) => setTimeout(ok, 200));
    }
  };
  await api("$JS.API.STREAM.CREATE.ORDERS", { name: "ORDERS", subjects: ["orders.>"], num_replicas: 2, max_msgs: 1000 });
  await api("$JS.API.CONSUMER.CREATE.ORDERS.shipper", {
    stream_name: "ORDERS",
    config: { durable_name: "shipper", ack_policy: "explicit", description: "ships orders" },
  });
  for (let i = 0; i < 3; i++) await nc.request(`orders.${i}`, `order ${i}`, { timeout: 5000 });
  nc.subscribe("updates.>");
  await nc.flush();
  await new Promise((ok) => setTimeout(ok, 1500));
  const get = async (path: string) => (await fetch(`http://127.0.0.1:${a.monitorPort}/${path}`)).json();
  const files: Record<string, string> = {
    "varz.json": "varz",
    "connz.json": "connz",
    "routez.json": "routez",
    "subsz.json": "subsz",
    "healthz.json": "healthz",
    "jsz-streams.json": "jsz?streams=true",
    "jsz-consumers.json": "jsz?consumers=true&config=true&raft=true",
    "jsz-accounts.json": "jsz?accounts=true",
  };
  for (const [file, path] of Object.entries(files)) writeFileSync(new URL(file, out), `${JSON.stringify(await get(path), null, 2)}\n`);
} finally {
  await nc.close();
  await a.stop();
  await b.stop();
}
