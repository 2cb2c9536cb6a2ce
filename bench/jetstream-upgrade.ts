// A JetStream cluster's upgrade on the real node, two ways, same node, same load: a StatefulSet
// with RollingUpdate as nats' Helm chart makes it (its probes: startup on the full /healthz,
// readiness js-server-only, liveness js-enabled-only; lame duck in preStop), and a NatsCluster with
// spec.jetstream upgraded by the operator (rolls gated on every server's /healthz and a current
// meta group, the meta leader last). Both: 3 servers, an R3 file stream, one publisher with acks
// and retries under the same Nats-Msg-Id the whole time. Acked messages lost, duplicates, and the
// longest time without an ack.

import { connect } from "@nats-io/transport-node";
import { createStream, type LoadResult, startLoad } from "../test/harness/jetstream-load.ts";
import { waitFor } from "../test/harness/ports.ts";
import type { Proc } from "../test/harness/process.ts";
import { buildImages, realNodeUnavailable, startRealNode } from "../test/harness/realnode.ts";
import { startSatellite, waitForLog } from "../test/harness/satellite.ts";
import { kubectlAsync } from "./kubectl.ts";

export interface UpgradeResult {
  way: string;
  from: string;
  to: string;
  seconds: number;
  load: LoadResult;
}

const conf = (ns: string) => `server_name: $POD_NAME
listen: 0.0.0.0:4222
http: 0.0.0.0:8222
pid_file: /var/run/nats/nats.pid
lame_duck_duration: 30s
jetstream { store_dir: /data, max_memory_store: 134217728, max_file_store: 268435456 }
cluster {
  name: sts
  listen: 0.0.0.0:6222
  routes: [${[0, 1, 2].map((i) => `"nats://sts-${i}.sts-headless.${ns}.svc:6222"`).join(", ")}]
}
`;

/** nats' Helm chart, reduced to what matters here: its StatefulSet, probes and preStop. */
export function statefulSet(ns: string, version: string) {
  const probe = (path: string) => ({ httpGet: { path, port: 8222 } });
  return {
    apiVersion: "v1",
    kind: "List",
    items: [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "sts-config", namespace: ns }, data: { "nats.conf": conf(ns) } },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "sts-headless", namespace: ns },
        spec: {
          clusterIP: "None",
          publishNotReadyAddresses: true,
          selector: { app: "sts" },
          ports: [
            { name: "client", port: 4222 },
            { name: "cluster", port: 6222 },
            { name: "monitor", port: 8222 },
          ],
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "sts", namespace: ns },
        spec: { selector: { app: "sts" }, ports: [{ name: "client", port: 4222 }] },
      },
      {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "sts", namespace: ns },
        spec: {
          serviceName: "sts-headless",
          replicas: 3,
          podManagementPolicy: "Parallel",
          updateStrategy: { type: "RollingUpdate" },
          selector: { matchLabels: { app: "sts" } },
          template: {
            metadata: { labels: { app: "sts" } },
            spec: {
              terminationGracePeriodSeconds: 60,
              containers: [
                {
                  name: "nats",
                  image: `nats:${version}`,
                  command: ["nats-server", "--config", "/etc/nats-config/nats.conf"],
                  env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/nats-config" },
                    { name: "pid", mountPath: "/var/run/nats" },
                    { name: "data", mountPath: "/data" },
                  ],
                  startupProbe: { ...probe("/healthz"), periodSeconds: 10, failureThreshold: 90 },
                  livenessProbe: { ...probe("/healthz?js-enabled-only=true"), periodSeconds: 30 },
                  readinessProbe: { ...probe("/healthz?js-server-only=true"), periodSeconds: 10 },
                  lifecycle: { preStop: { exec: { command: ["nats-server", "--signal", "ldm=/var/run/nats/nats.pid"] } } },
                },
              ],
              volumes: [
                { name: "config", configMap: { name: "sts-config" } },
                { name: "pid", emptyDir: {} },
              ],
            },
          },
          volumeClaimTemplates: [
            { metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "256Mi" } } } },
          ],
        },
      },
    ],
  };
}

export const natsCluster = (ns: string, version: string) => ({
  apiVersion: "nats.io/v1alpha2",
  kind: "NatsCluster",
  metadata: { name: "js", namespace: ns },
  spec: {
    size: 3,
    version,
    lameDuckDurationSeconds: 30,
    jetstream: { enabled: true, memoryStorage: { size: "128Mi" }, fileStorage: { size: "256Mi" } },
  },
});

export async function benchJetStreamUpgrade(): Promise<UpgradeResult[] | string> {
  const why = realNodeUnavailable();
  if (why) return why;
  const images = buildImages();
  const node = startRealNode({ archives: images.archives });
  const interrupted = () => {
    node.stop();
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const kubectl = kubectlAsync(node.kubectlBin, node.kubeconfig);
  const apply = (doc: unknown) => kubectl(["apply", "--server-side", "-f", "-"], JSON.stringify(doc));
  const pods = async (ns: string, selector: string) =>
    JSON.parse(await kubectl(["get", "pods", "-n", ns, "-l", selector, "-o", "json"])).items as any[];
  const allAt = (ns: string, selector: string, version: string) => async () => {
    const list = await pods(ns, selector);
    return (
      list.length === 3 &&
      list.every(
        (p) =>
          !p.metadata.deletionTimestamp &&
          p.spec.containers[0].image === `nats:${version}` &&
          p.status.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
      )
    );
  };
  const from = images.natsPreviousVersion;
  const to = images.natsVersion;
  const results: UpgradeResult[] = [];
  let operator: Proc | undefined;
  /** Publishes through `upgrade` until `done`, then once more for a while, and checks the stream. */
  const measure = async (way: string, clientUrl: string, upgrade: () => Promise<unknown>, done: () => Promise<boolean>) => {
    const nc = await connect({ servers: clientUrl, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    try {
      await waitFor(`${way}: the stream`, () => createStream(nc).then(() => true), 90_000, 1_000);
      const load = await startLoad(nc, way.replace(/\W+/g, "-"));
      await waitFor(`${way}: first acks`, async () => load.acked() >= 100, 30_000);
      const t0 = performance.now();
      await upgrade();
      await waitFor(`${way}: the upgrade done`, done, 600_000, 1_000);
      const seconds = (performance.now() - t0) / 1000;
      const more = load.acked() + 100;
      await waitFor(`${way}: acks after it`, async () => load.acked() >= more, 60_000);
      results.push({ way, from, to, seconds, load: await load.stop() });
    } finally {
      await nc.close();
    }
  };
  try {
    await kubectl(["create", "namespace", "bench-sts"]);
    await apply(statefulSet("bench-sts", from));
    await waitFor("the StatefulSet's 3 servers", allAt("bench-sts", "app=sts", from), 180_000, 1_000);
    const stsIp = JSON.parse(await kubectl(["get", "service", "sts", "-n", "bench-sts", "-o", "json"])).spec.clusterIP;
    await measure(
      "StatefulSet, RollingUpdate (Helm chart)",
      `nats://${stsIp}:4222`,
      () => kubectl(["set", "image", "-n", "bench-sts", "statefulset/sts", `nats=nats:${to}`]),
      async () =>
        (await allAt("bench-sts", "app=sts", to)()) &&
        (await kubectl(["rollout", "status", "-n", "bench-sts", "statefulset/sts", "--timeout=1s"])).includes("complete"),
    );
    await kubectl(["delete", "namespace", "bench-sts", "--wait=false"]);

    await kubectl(["apply", "--server-side", "-f", new URL("../manifests/crd.yaml", import.meta.url).pathname]);
    await kubectl(["create", "namespace", "bench-js"]);
    operator = startSatellite(["run", "-operator", "-n", "bench-js", "-log-format", "json"], {
      env: { KUBECONFIG: node.kubeconfig },
      name: "operator",
    });
    await waitForLog(operator, "operator caches synced", 60_000);
    await apply(natsCluster("bench-js", from));
    await waitFor("the NatsCluster's 3 servers", allAt("bench-js", "nats_cluster=js", from), 180_000, 1_000);
    const jsIp = JSON.parse(await kubectl(["get", "service", "js", "-n", "bench-js", "-o", "json"])).spec.clusterIP;
    const complete = async () =>
      JSON.parse(await kubectl(["get", "natscluster", "js", "-n", "bench-js", "-o", "json"])).status?.conditions?.some(
        (c: any) => c.type === "Progressing" && c.reason === "Complete",
      );
    await measure(
      "NatsCluster, the operator's gated roll",
      `nats://${jsIp}:4222`,
      () => apply(natsCluster("bench-js", to)),
      async () => (await allAt("bench-js", "nats_cluster=js", to)()) && (await complete()),
    );
    return results;
  } finally {
    await operator?.stop();
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    const left = node.stop();
    if (left) process.stderr.write(`the real node left this behind:\n${left}\n`);
  }
}

export function jetstreamUpgradeMarkdown(r: UpgradeResult[] | string, when: string): string {
  if (typeof r === "string") return `## JetStream upgrade: StatefulSet against the operator\n\nNot measured: ${r}\n`;
  return `## JetStream upgrade: StatefulSet against the operator (real node)

${when}. 3 servers, an R3 file stream, one publisher sending one message at a time with an ack the whole
time (a publish without an ack within 500 ms is sent again under the same Nats-Msg-Id), through the
cluster's Service. The upgrade is nats-server ${r[0]?.from} → ${r[0]?.to}. After it, every acknowledged
id is looked up in the stream.

| way | upgrade took | acked | acked but lost | stored twice | publishes without an ack | longest without an ack | goal |
|---|---|---|---|---|---|---|---|
${r.map((x) => `| ${x.way} | ${x.seconds.toFixed(0)} s | ${x.load.acked} | ${x.load.lost.length} | ${x.load.duplicates} | ${x.load.failures} | ${(x.load.longestGapMs / 1000).toFixed(2)} s | ${x.way.startsWith("NatsCluster") ? "0 lost; a shorter longest gap than the StatefulSet's" : ""} |`).join("\n")}
`;
}
