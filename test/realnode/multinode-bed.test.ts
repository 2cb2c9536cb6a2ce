// The test bed's several nodes, checked as a user of the cluster sees them: kubectl, the API, real
// pods (the satellite image's Node answering HTTP) pinned to each node, a local volume, and nodes
// stopped and started like machines, drained like machines.

import { readdirSync, statSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onNode, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";
import { startNode, stopNode } from "../harness/realnode.ts";

const node = onNode();
const ns = "sat-multinode";
const zones = ["zone-a", "zone-b", "zone-c"];

/** A web server in a pod that answers every request with its pod's and node's names. */
const echoServer = `require("http").createServer((q, s) => s.end(JSON.stringify({ pod: process.env.POD, node: process.env.NODE }))).listen(8080)`;
const echoContainer = (extra: Record<string, unknown> = {}) => ({
  name: "echo",
  image: node.info.images?.satellite,
  imagePullPolicy: "Never",
  command: ["/nodejs/bin/node", "-e", echoServer],
  env: [
    { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
  ],
  ports: [{ containerPort: 8080 }],
  readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
  ...extra,
});
const deployment = (name: string, podSpec: Record<string, unknown>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { terminationGracePeriodSeconds: 1, containers: [echoContainer()], ...podSpec },
    },
  },
});
const service = (name: string) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
});
const docs = (...objects: unknown[]) => objects.map((o) => JSON.stringify(o)).join("\n---\n");

/** What the echo server at `url` says, asked from this host. */
async function ask(url: string): Promise<{ pod: string; node: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return (await res.json()) as { pod: string; node: string };
}

/** A TCP connection attempt to ip:port, given `ms`: whether it opened, was refused or got no answer. */
function dial(ip: string, port: number, ms: number): Promise<"open" | "refused" | "no answer"> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: ip, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve("no answer");
    }, ms);
    s.on("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve("open");
    });
    s.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(e.code === "ECONNREFUSED" ? "refused" : "no answer");
    });
  });
}

interface NodeView {
  name: string;
  ready: string;
  zone: string;
  hostname: string;
  taints: string[];
}
async function nodes(): Promise<NodeView[]> {
  const list = await node.kubectlJson("get", "nodes");
  return list.items.map((n: any) => ({
    name: n.metadata.name,
    ready: n.status.conditions.find((c: any) => c.type === "Ready")?.status,
    zone: n.metadata.labels["topology.kubernetes.io/zone"],
    hostname: n.metadata.labels["kubernetes.io/hostname"],
    taints: (n.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`),
  }));
}

// One story in order: the echo pods made in the second step are the ones stopped, started and drained.
describe.runIf(!node.info.unavailable).sequential("a test bed of three nodes", () => {
  skipAfterAFailedStep();
  const names = node.info.nodes;
  /** echo-<zone letter>: the Deployment pinned to the node of that zone; its pod as last seen. */
  const pinned = names.map((n, i) => ({ node: n, app: `echo-${zones[i]!.slice(-1)}`, ip: "", pod: "", clusterIP: "" }));
  let stopped: string | undefined;

  beforeAll(async () => {
    await node.kubectl("create", "namespace", ns);
  });
  afterAll(async () => {
    if (node.info.unavailable) return;
    if (stopped) await startNode(stopped);
    for (const n of names) await node.kubectl("uncordon", n);
    await node.kubectl("delete", "namespace", ns, "--wait=false");
  });

  it("three nodes are Ready, each in a zone of its own and named by its hostname label", async () => {
    expect(names).toEqual(["realnode", "realnode-b", "realnode-c"]);
    const seen = await nodes();
    expect(seen.map((n) => [n.name, n.ready, n.zone, n.hostname])).toEqual(names.map((n, i) => [n, "True", zones[i], n]));
  });

  it("pods pinned to each node reach each other by pod IP and through ClusterIP Services, from every node and from the host", async () => {
    await node.apply(
      docs(...pinned.flatMap((p) => [deployment(p.app, { nodeSelector: { "kubernetes.io/hostname": p.node } }), service(p.app)])),
    );
    for (const p of pinned) {
      const [pod] = await node.readyPods(ns, `app=${p.app}`, 1, 120_000);
      expect(pod!.raw.spec.nodeName).toBe(p.node);
      p.ip = pod!.ip;
      p.pod = pod!.name;
      p.clusterIP = (await node.kubectlJson("get", "service", p.app, "-n", ns)).spec.clusterIP;
    }
    // Distinct per-node subnets, as separate machines' pod ranges are.
    expect(new Set(pinned.map((p) => p.ip.split(".").slice(0, 3).join("."))).size).toBe(3);
    const expected = pinned.map((p) => ({ pod: p.pod, node: p.node }));
    const targets = pinned.flatMap((p) => [`http://${p.ip}:8080/`, `http://${p.clusterIP}/`]);
    const fromPod = `Promise.all(${JSON.stringify(targets)}.map((u) => fetch(u, { signal: AbortSignal.timeout(5000) }).then((r) => r.json()))).then((a) => console.log(JSON.stringify(a)))`;
    for (const from of pinned) {
      // kube-proxy programs a new Service up to its sync period after the endpoints turn Ready.
      const answers = await waitFor(
        `every pod and Service answering pod ${from.pod}`,
        async () => {
          try {
            return JSON.parse(await node.kubectl("exec", "-n", ns, from.pod, "--", "/nodejs/bin/node", "-e", fromPod));
          } catch {
            return false;
          }
        },
        60_000,
        500,
      );
      expect(answers).toEqual(expected.flatMap((e) => [e, e]));
    }
    for (const [i, p] of pinned.entries()) {
      expect(await ask(`http://${p.ip}:8080/`)).toEqual(expected[i]);
      expect(await ask(`http://${p.clusterIP}/`)).toEqual(expected[i]);
    }
  }, 180_000);

  it("a claim of the local class binds a volume of the node its pod lands on; once deleted, the volume is wiped and offered again", async () => {
    const classes = await node.kubectlJson("get", "storageclass");
    const local = classes.items.find((c: any) => c.metadata.name === "local");
    expect([local.provisioner, local.volumeBindingMode, local.metadata.annotations["storageclass.kubernetes.io/is-default-class"]]).toEqual(
      ["kubernetes.io/no-provisioner", "WaitForFirstConsumer", "true"],
    );
    const claim = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "disk", namespace: ns },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "256Mi" } } },
    };
    const writer = `require("fs").writeFileSync("/data/mark", process.env.POD); ${echoServer}`;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "disk", namespace: ns, labels: { app: "disk" } },
      spec: {
        terminationGracePeriodSeconds: 1,
        securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true },
        containers: [
          { ...echoContainer(), command: ["/nodejs/bin/node", "-e", writer], volumeMounts: [{ name: "data", mountPath: "/data" }] },
        ],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "disk" } }],
      },
    };
    await node.apply(docs(claim, pod));
    const [running] = await node.readyPods(ns, "app=disk", 1, 120_000);
    expect(
      await node.kubectl("exec", "-n", ns, "disk", "--", "/nodejs/bin/node", "-p", `require("fs").readFileSync("/data/mark", "utf8")`),
    ).toBe("disk\n");
    const pvName = (await node.kubectlJson("get", "pvc", "disk", "-n", ns)).spec.volumeName;
    const pv = await node.kubectlJson("get", "pv", pvName);
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [running!.raw.spec.nodeName] }] },
    ]);
    expect(pv.spec.local.path).toContain(`/volumes/${running!.raw.spec.nodeName}/`);

    await node.kubectl("delete", "pod", "disk", "-n", ns, "--wait=true");
    await node.kubectl("delete", "pvc", "disk", "-n", ns, "--wait=true");
    await waitFor(`${pvName} offered again`, async () => {
      const again = await node.kubectlJson("get", "pv", pvName);
      return again.status.phase === "Available" && !again.spec.claimRef;
    });
    // Offered wiped, and still the servers' user's to write.
    expect(readdirSync(pv.spec.local.path)).toEqual([]);
    expect(statSync(pv.spec.local.path).uid).toBe(1000);
  }, 180_000);

  it("a stopped node goes Unknown and is tainted unreachable, and its pod stops answering (no answer, not refused)", async () => {
    const victim = pinned[2]!;
    expect(await dial(victim.ip, 8080, 3_000)).toBe("open");
    stopped = victim.node;
    await stopNode(victim.node);
    expect(await dial(victim.ip, 8080, 3_000)).toBe("no answer");
    const down = await waitFor(
      `${victim.node} Unknown and tainted unreachable`,
      async () => {
        const n = (await nodes()).find((x) => x.name === victim.node)!;
        return n.ready !== "True" && n.taints.includes("node.kubernetes.io/unreachable:NoExecute") && n;
      },
      90_000,
      500,
    );
    expect(down.ready).toBe("Unknown");
    expect(down.taints).toContain("node.kubernetes.io/unreachable:NoSchedule");
    // The other nodes carry on.
    for (const p of pinned.slice(0, 2)) expect(await ask(`http://${p.ip}:8080/`)).toEqual({ pod: p.pod, node: p.node });
  }, 180_000);

  it("a started node is Ready again, untainted, and the same pod answers again", async () => {
    const victim = pinned[2]!;
    await startNode(victim.node);
    stopped = undefined;
    await waitFor(`${victim.node} Ready without taints`, async () => {
      const n = (await nodes()).find((x) => x.name === victim.node)!;
      return n.ready === "True" && n.taints.length === 0;
    });
    const answer = await waitFor(`${victim.pod} answering again`, () => ask(`http://${victim.ip}:8080/`).catch(() => false), 60_000, 500);
    expect(answer).toEqual({ pod: victim.pod, node: victim.node });
  }, 180_000);

  it("kubectl drain evicts a node's ReplicaSet pod, which is scheduled again on another node", async () => {
    const target = pinned[1]!.node;
    const preferTarget = {
      nodeAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, preference: { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [target] }] } },
        ],
      },
    };
    await node.apply(docs(deployment("roamer", { affinity: preferTarget })));
    const [before] = await node.readyPods(ns, "app=roamer", 1, 120_000);
    expect(before!.raw.spec.nodeName).toBe(target);
    await node.kubectl("drain", target, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=120s");
    const [after] = await node.readyPods(ns, "app=roamer", 1, 120_000);
    expect(after!.name).not.toBe(before!.name);
    expect(after!.raw.spec.nodeName).not.toBe(target);
    expect((await nodes()).find((n) => n.name === target)!.taints).toContain("node.kubernetes.io/unschedulable:NoSchedule");
  }, 180_000);
});
