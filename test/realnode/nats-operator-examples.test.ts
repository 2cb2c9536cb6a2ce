// nats-operator v0.8.3's own example manifests (its module's example/, fetched by the test bed, not
// copied) applied unchanged with kubectl to satellite's cluster-wide operator on the real nodes, as a
// user coming from nats-operator would, each checked for what it is for:
//  - the served ones: every server Ready, its routes and a message across them, and what the
//    example shows (Service annotations, a websocket client over TLS, service-account tokens in
//    the example's own nats-box pods let in within their roles' permissions, and nothing else);
//  - the refused ones: a Degraded condition that says why, and no pod at all (none crash-looping);
//  - the one the schema rejects: kubectl apply fails, naming the field, and nothing is stored.
// Two are also applied changed, as little as they need: leafnode-remotes-gateways.yaml as its NOTE
// says (1.2.3.4 and the placeholder credentials replaced), and example-service-annotations.yaml,
// refused unchanged for a label value the API server refuses, with that one value made valid.
// example-nats-cluster-gateway.yaml runs in advertise.test.ts (it needs nodes' addresses).
// Images: nats:2.1.7 and nats:2.14.9 laid out as the official ones; websocket.yaml's
// synadia/nats-server:nightly-20201008 is nats-server 2.2.0 laid out like that nightly (the module
// proxy serves no build of that day); synadia/nats-box:latest is busybox and the nats CLI, pulled
// (":latest" is always pulled) from a registry on this machine standing in for Docker Hub.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { binaries } from "../harness/binaries.ts";
import { makeNatsTls } from "../harness/certs.ts";
import { nscWorkspace } from "../harness/nsc.ts";
import { crossServerMessage, monitor, onNode, type PodView, skipAfterAFailedStep } from "../harness/on-node.ts";
import { waitFor } from "../harness/ports.ts";

const node = onNode();
const operatorNs = "satellite-system";
const example = (file: string) => join(binaries().NATS_OPERATOR_EXAMPLES, file);
const applyExample = (file: string, ns?: string) => node.kubectl("apply", "--server-side", ...(ns ? ["-n", ns] : []), "-f", example(file));
const scratch = mkdtempSync(join(tmpdir(), "satellite-examples-"));
const writeTemp = (name: string, text: string) => {
  writeFileSync(join(scratch, name), text);
  return join(scratch, name);
};
const namespaces = ["sat-ex-basic", "sat-ex-annotated", "sat-ex-websocket", "sat-ex-refused", "nats-io"];
const exampleNamespaces = ["nats-system", "my-app-ns", "my-admin-app-ns"];

/**
 * Every server of a cluster Ready, each routed to all the others (a pool of routes each, since
 * 2.10), and, where clients need no credentials, a message across a route.
 */
async function servedMesh(ns: string, cluster: string, size: number, open = true): Promise<PodView[]> {
  const pods = await node.readyPods(ns, `nats_cluster=${cluster}`, size, 180_000);
  for (const p of pods)
    await waitFor(
      `${p.name} routed to the other ${size - 1}`,
      async () => new Set(((await monitor(p.ip, "routez")).routes ?? []).map((r: { remote_id: string }) => r.remote_id)).size === size - 1,
      60_000,
      500,
    );
  if (open) expect(await crossServerMessage(pods[0]!.ip, pods[size - 1]!.ip)).toBe(`from ${pods[size - 1]!.ip}`);
  return pods;
}

/** Runs `script` with sh in a pod's container (as `kubectl exec` does for a user); its output, or the error it exited with. */
async function inPod(ns: string, pod: string, script: string): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await node.kubectl("exec", "-n", ns, pod, "--", "sh", "-c", script) };
  } catch (e) {
    return { ok: false, out: (e as Error).message };
  }
}

/** The next message on `subject`, or undefined after `ms`. */
function nextMessage(nc: NatsConnection, subject: string, ms = 10_000): Promise<string | undefined> {
  const sub = nc.subscribe(subject, { max: 1, timeout: ms });
  return (async () => {
    try {
      for await (const m of sub) return m.string();
    } catch {
      return undefined;
    }
    return undefined;
  })();
}

describe.runIf(!node.info.unavailable).sequential("nats-operator v0.8.3's examples, applied unchanged, on the real nodes", () => {
  skipAfterAFailedStep();
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail") return;
    const say = async (...args: string[]) => console.log(await node.kubectl(...args).catch((e: Error) => e.message));
    await say("get", "natsclusters,pods", "-A", "-o", "wide");
    await say("get", "natsclusters", "-A", "-o", 'jsonpath={range .items[*]}{.metadata.name}: {.status.conditions}{"\\n"}{end}');
    await say("get", "events", "-A", "--field-selector", "type=Warning");
    await say("logs", "-n", operatorNs, "deployment/satellite-operator", "--tail=40");
  });
  beforeAll(async () => {
    await node.createRestrictedNamespace(operatorNs);
    await node.applyManifests(operatorNs, { only: ["crd.yaml", "operator-cluster-wide.yaml"] });
    await node.kubectl("rollout", "status", "deployment/satellite-operator", "-n", operatorNs, "--timeout=120s");
    for (const ns of namespaces) await node.kubectl("create", "namespace", ns);
  }, 180_000);
  afterAll(async () => {
    if (node.info.unavailable) return;
    // The cluster-wide operator must be gone before the next suite's own operator starts, or two
    // operators would reconcile that suite's clusters: its rights first (it can write nothing
    // more), then its pods.
    await node.kubectl("delete", "clusterrolebinding,clusterrole", "satellite-operator", "--ignore-not-found");
    await node.kubectl("delete", "deployment", "satellite-operator", "-n", operatorNs);
    await waitFor(
      "the cluster-wide operator's pods gone",
      async () => (await node.pods(operatorNs, "app.kubernetes.io/name=satellite-operator")).length === 0,
      120_000,
      500,
    );
    await node.kubectl("delete", "namespace", operatorNs, "--wait=false");
    await node.kubectl("delete", "natscluster", "nats-auth-file-example", "-n", "default", "--ignore-not-found");
    for (const ns of [...namespaces, ...exampleNamespaces, "sat-ex-leafnode"])
      await node.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found");
  }, 180_000);

  it("example-nats-cluster.yaml: three servers Ready, routed to each other, a message crosses", async () => {
    await applyExample("example-nats-cluster.yaml", "sat-ex-basic");
    const pods = await servedMesh("sat-ex-basic", "operated-nats", 3);
    expect(pods.every((p) => p.restarts === 0)).toBe(true);
  }, 300_000);

  it("example-service-annotations.yaml, with its one label value the API server refuses made valid: the Services carry its annotations and labels", async () => {
    // Unchanged, it is refused (below): "has great scooters" is no label value, under nats-operator either.
    const ns = "sat-ex-annotated";
    const original = readFileSync(example("example-service-annotations.yaml"), "utf8");
    const edited = original.replace('spin: "has great scooters"', 'spin: "has-great-scooters"');
    expect(edited).not.toBe(original);
    await node.kubectl("apply", "--server-side", "-n", ns, "-f", writeTemp("example-service-annotations.yaml", edited));
    await servedMesh(ns, "annotated-nats", 3);
    const client = await node.kubectlJson("get", "service", "annotated-nats", "-n", ns);
    const mgmt = await node.kubectlJson("get", "service", "annotated-nats-mgmt", "-n", ns);
    expect(client.metadata.annotations).toMatchObject({ "this.is.an.example": "hello, world" });
    expect(client.metadata.labels).toMatchObject({ spam: "eggs" });
    expect(mgmt.metadata.annotations).toMatchObject({ "this.is.an.example": "goodbye, world" });
    expect(mgmt.metadata.labels).toMatchObject({ spin: "has-great-scooters" });
  }, 300_000);

  it("websocket.yaml (with its TLS Secret): a wss client in the cluster trusting the example's CA reaches a subscriber", async () => {
    const ns = "sat-ex-websocket";
    const tls = makeNatsTls(ns, "nats");
    await node.kubectl("create", "secret", "generic", "nats-client-ws-tls", "-n", ns, ...tls.clients);
    await applyExample("websocket.yaml", ns);
    const pods = await servedMesh(ns, "nats", 3);
    expect(pods[0]!.images).toContain("synadia/nats-server:nightly-20201008");
    const service = await node.kubectlJson("get", "service", "nats", "-n", ns);
    expect(service.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).toContainEqual(["websocket", 9222]);
    await node.apply(
      JSON.stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "ws-client", namespace: ns },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "nats-box",
              image: "synadia/nats-box:latest",
              command: ["sleep", "3600"],
              volumeMounts: [{ name: "ca", mountPath: "/etc/ws-ca", readOnly: true }],
            },
          ],
          volumes: [{ name: "ca", secret: { secretName: "nats-client-ws-tls", items: [{ key: "ca.pem", path: "ca.pem" }] } }],
        },
      }),
    );
    await node.kubectl("wait", "--for=condition=Ready", "pod/ws-client", "-n", ns, "--timeout=120s");
    const nc = await connect({ servers: `nats://${pods[0]!.ip}:4222` });
    try {
      const got = nextMessage(nc, "e2e.websocket", 60_000);
      await nc.flush();
      const wss = `wss://nats.${ns}.svc:9222`;
      // Interest reaches the other servers over the routes a moment later: publish until it arrives.
      let last = { ok: false, out: "" };
      const pub = setInterval(async () => {
        last = await inPod(ns, "ws-client", `nats -s ${wss} --tlsca /etc/ws-ca/ca.pem pub e2e.websocket 'over wss'`);
      }, 2_000);
      try {
        expect(await got, `the wss client's last try: ${last.out}`).toBe("over wss");
      } finally {
        clearInterval(pub);
      }
      const plain = await inPod(ns, "ws-client", `nats -s ws://nats.${ns}.svc:9222 pub e2e.websocket plain`);
      expect(plain.ok, "a websocket client without TLS is turned away").toBe(false);
    } finally {
      await nc.close();
    }
  }, 300_000);

  it("example-svc-accounts-diff-namespaces.yaml: its nats-box pods get in with their mounted tokens, within their roles", async () => {
    await applyExample("example-svc-accounts-diff-namespaces.yaml");
    const pods = await servedMesh("nats-system", "nats-cluster", 3, false);
    await node.kubectl("wait", "--for=condition=Ready", "pod/nats-user-pod", "-n", "my-app-ns", "--timeout=180s");
    await node.kubectl("wait", "--for=condition=Ready", "pod/nats-admin-user-pod", "-n", "my-admin-app-ns", "--timeout=180s");
    const server = "nats://nats-cluster.nats-system.svc.cluster.local:4222";
    const as = (user: string) => `nats -s ${server} --user ${user} --password "$(cat /var/run/secrets/nats.io/token)"`;
    // The same token from the host, to watch what the pods send (the Secret is what the pods mount).
    const token = async (ns: string, role: string) =>
      Buffer.from((await node.kubectlJson("get", "secret", `${role}-nats-cluster-bound-token`, "-n", ns)).data.token, "base64").toString();
    // Each role's user reaches the servers' config a moment after its ServiceAccount's token exists.
    const login = (ip: string, role: string, ns: string) =>
      waitFor(
        `a connection as ${role}`,
        async () =>
          connect({ servers: `nats://${ip}:4222`, user: role, pass: await token(ns, role), reconnect: false }).catch(() => undefined),
        60_000,
        500,
      );
    const admin = await login(pods[0]!.ip, "nats-admin-user", "my-admin-app-ns");
    const user = await login(pods[1]!.ip, "nats-user", "my-app-ns");
    try {
      // nats-user publishes foo.* only; the admin may do anything.
      const seen: string[] = [];
      const watch = admin.subscribe(">", { callback: (_, m) => void seen.push(`${m.subject} ${m.string()}`) });
      await admin.flush();
      const allowed = await waitFor(
        "nats-user-pod's message on foo.allowed",
        async () =>
          (await inPod("my-app-ns", "nats-user-pod", `${as("nats-user")} pub foo.allowed hello`)).ok && seen.includes("foo.allowed hello"),
        60_000,
        1_000,
      );
      expect(allowed).toBe(true);
      await inPod("my-app-ns", "nats-user-pod", `${as("nats-user")} pub bar denied; ${as("nats-user")} pub foo.after after`);
      await waitFor("nats-user-pod's message on foo.after", async () => seen.includes("foo.after after"), 20_000, 200);
      expect(seen).not.toContain("bar denied");
      // The admin's pod publishes where nats-user may subscribe.
      const greeting = nextMessage(user, "greetings", 20_000);
      await user.flush();
      expect((await inPod("my-admin-app-ns", "nats-admin-user-pod", `${as("nats-admin-user")} pub greetings hi`)).ok).toBe(true);
      expect(await greeting).toBe("hi");
      // Without the token, or with the other role's name, no way in.
      const anonymous = await inPod("my-app-ns", "nats-user-pod", `nats -s ${server} pub foo.x anonymous`);
      expect(anonymous).toMatchObject({ ok: false, out: expect.stringMatching(/Authorization Violation/) });
      const borrowed = await inPod("my-app-ns", "nats-user-pod", `${as("nats-admin-user")} pub foo.x borrowed`);
      expect(borrowed).toMatchObject({ ok: false, out: expect.stringMatching(/Authorization Violation/) });
      watch.unsubscribe();
    } finally {
      await Promise.all([admin.close(), user.close()]);
    }
  }, 420_000);

  it("leafnode-remotes-gateways.yaml, with 1.2.3.4 and the credentials replaced as its NOTE says: a leafnode with those credentials and a gateway to the hub", async () => {
    const ns = "sat-ex-leafnode";
    const { nsc, creds, accountId } = nscWorkspace();
    nsc("add", "operator", "--sys", "--name", "OP");
    nsc("add", "account", "APP");
    nsc("add", "user", "-a", "APP", "leaf");
    nsc("add", "user", "-a", "APP", "app");
    const hub = `hub.${ns}.svc.cluster.local`;
    // The other side: a nats-server in operator mode (the credentials are a user of its account
    // APP), gateway_a with the example's guser/gpassword.
    const [sys, app] = [accountId("SYS"), accountId("APP")];
    const conf = [
      "port: 4222",
      "http: 8222",
      "operator: /etc/hub/op.jwt",
      `system_account: ${sys}`,
      "resolver: MEMORY",
      `resolver_preload: { ${sys}: ${nsc("describe", "account", "SYS", "--raw").trim()}, ${app}: ${nsc("describe", "account", "APP", "--raw").trim()} }`,
      "leafnodes { port: 7422 }",
      "gateway { name: gateway_a, port: 7222, authorization { user: guser, password: gpassword } }",
    ].join("\n");
    await node.kubectl("create", "namespace", ns);
    await node.kubectl(
      "create",
      "configmap",
      "hub",
      "-n",
      ns,
      `--from-literal=hub.conf=${conf}`,
      `--from-literal=op.jwt=${nsc("describe", "operator", "--raw").trim()}`,
    );
    await node.apply(
      JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [
          {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name: "hub", namespace: ns },
            spec: { selector: { app: "hub" }, ports: [4222, 7422, 7222].map((port) => ({ name: `p${port}`, port })) },
          },
          {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name: "hub", namespace: ns, labels: { app: "hub" } },
            spec: {
              containers: [
                {
                  name: "nats",
                  image: node.info.images.nats,
                  args: ["-c", "/etc/hub/hub.conf"],
                  volumeMounts: [{ name: "hub", mountPath: "/etc/hub" }],
                },
              ],
              volumes: [{ name: "hub", configMap: { name: "hub" } }],
            },
          },
        ],
      }),
    );
    await node.kubectl("wait", "--for=condition=Ready", "pod/hub", "-n", ns, "--timeout=120s");
    const hubIp = (await node.pods(ns, "app=hub"))[0]!.ip;
    const original = readFileSync(example("leafnode-remotes-gateways.yaml"), "utf8");
    const edited = original
      .replaceAll("1.2.3.4", hub)
      .replace("...base64-encoded-credentials...", Buffer.from(creds("APP", "leaf")).toString("base64"));
    expect(edited).not.toMatch(/1\.2\.3\.4|\.\.\.base64/);
    await node.kubectl("apply", "--server-side", "-n", ns, "-f", writeTemp("leafnode-remotes-gateways.yaml", edited));
    const pods = await servedMesh(ns, "example-nats-cluster", 3);
    const leafz = await waitFor(
      "the three servers' leafnodes at the hub",
      async () => {
        const l = await monitor(hubIp, "leafz");
        return l.leafs?.length === 3 && l;
      },
      60_000,
      500,
    );
    expect(leafz.leafs.map((l: { account: string }) => l.account)).toEqual([app, app, app]);
    const gatewayz = await waitFor(
      "gateways between gateway_a and gateway_b, both ways",
      async () => {
        const g = await monitor(hubIp, "gatewayz");
        return g.outbound_gateways?.gateway_b && g.inbound_gateways?.gateway_b?.length === 3 && g;
      },
      60_000,
      500,
    );
    expect(gatewayz.name).toBe("gateway_a");
    // A client of the hub's account APP gets what a client of the example cluster publishes.
    const credsFile = writeTemp("app.creds", creds("APP", "app"));
    const client = await connect({ servers: `nats://${hubIp}:4222`, authenticator: credsAuthenticator(readFileSync(credsFile)) });
    try {
      const got = nextMessage(client, "leaf.hello", 30_000);
      await client.flush();
      const pub = await connect({ servers: `nats://${pods[0]!.ip}:4222` });
      const timer = setInterval(() => pub.publish("leaf.hello", "from gateway_b"), 200);
      try {
        expect(await got).toBe("from gateway_b");
      } finally {
        clearInterval(timer);
        await pub.close();
      }
    } finally {
      await client.close();
    }
  }, 420_000);

  /** Examples satellite refuses: the cluster, its namespace, and what its Degraded condition must say. */
  const refused: [string, string, string, RegExp][] = [
    [
      "example-service-annotations.yaml",
      "sat-ex-refused",
      "annotated-nats",
      /spec\.managementServicePolicy\.labels\.spin is "has great scooters"/,
    ],
    ["example-nats-cluster-tls.yaml", "sat-ex-refused", "nats", /spec\.version 1\.3\.0 is nats-server 1\.x \(gnatsd\)/],
    ["example-nats-cluster-metrics.yaml", "sat-ex-refused", "nats-cluster-metrics", /spec\.version 1\.4\.1 is nats-server 1\.x/],
    ["example-nats-cluster-auth.yaml", "sat-ex-refused", "example-nats-auth", /spec\.pod\.reloaderImage .*spec\.version 1\.3\.0/],
    [
      "example-custom-cipher.yaml",
      "sat-ex-refused",
      "nats-ciphers",
      /spec\.tls\.cipherSuites has "ASDF".*spec\.tls\.curvePreferences has "FOO"/,
    ],
    [
      "example-super-cluster.yaml",
      "sat-ex-refused",
      "nats-super-cluster",
      /spec\.operatorConfig\.systemAccount "AASYS\.\.\." is not an account public key/,
    ],
    ["example-with-server-name.yaml", "sat-ex-refused", "nats-cluster", /spec\.template\.spec\.containers\[nats\]\.env\[SERVER_NAME\]/],
    ["example-cluster-service-accounts.yaml", "nats-io", "example-nats", /spec\.version 1\.2\.0 is nats-server 1\.x/],
    ["example-nats-cluster-authfile.yaml", "default", "nats-auth-file-example", /spec\.auth\.clientsAuthFile/],
  ];
  it.each(refused)("%s: refused with a Degraded condition that says why, and no pod", async (file, ns, cluster, why) => {
    await applyExample(file, ns === "default" ? undefined : ns);
    const degraded = await waitFor(
      `${cluster}'s Degraded condition`,
      async () => {
        const c = await node.kubectlJson("get", "natscluster", cluster, "-n", ns);
        return c.status?.conditions?.find((x: { type: string; status: string }) => x.type === "Degraded" && x.status === "True");
      },
      60_000,
      500,
    );
    expect(degraded.message).toMatch(why);
    // Server pods are the NatsCluster's own (example-cluster-service-accounts.yaml labels its client pods nats_cluster too).
    const owned = (await node.pods(ns, `nats_cluster=${cluster}`)).filter((p) =>
      p.raw.metadata.ownerReferences?.some((o: { kind: string; name: string }) => o.kind === "NatsCluster" && o.name === cluster),
    );
    expect(owned).toEqual([]);
  });

  it("example-nats-custom-config.yaml: kubectl apply fails on the field nats-operator ignored, and nothing is stored", async () => {
    await expect(applyExample("example-nats-custom-config.yaml", "sat-ex-refused")).rejects.toThrow(/spec\.natsConfig\.writeDeadline/);
    expect(
      (await node.kubectlJson("get", "natscluster", "-n", "sat-ex-refused", "--field-selector", "metadata.name=nats-custom")).items,
    ).toEqual([]);
  });
});
