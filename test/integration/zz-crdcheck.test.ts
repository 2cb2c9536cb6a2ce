import { afterAll, beforeAll, expect, it } from "vitest";
import https from "node:https";
import { useKube, waitFor } from "/work/main/test/harness/index.ts";
import { manifest } from "/work/main/test/harness/kube.ts";
import { specDefaults, type NatsCluster, type NatsClusterSpec } from "/work/main/handlers/operator/natscluster.ts";

const kube = useKube();
let ns: string;
const crdPath = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/natsclusters.nats.io";

beforeAll(async () => {
  await kube.apply(manifest("crd.yaml"));
  await waitFor("CRD Established", async () => {
    const crd = await kube.admin.request("GET", crdPath);
    return crd.status?.conditions?.some((c: any) => c.type === "Established" && c.status === "True");
  }, 30_000, 200);
  ns = await kube.createNamespace("crdcheck");
});
afterAll(() => kube.close());

const fullSpec: NatsClusterSpec = {
  size: 3,
  version: "2.10.24",
  serverImage: "myregistry/nats",
  paused: false,
  lameDuckDurationSeconds: 30,
  noAdvertise: true,
  extraRoutes: [{ cluster: "other" }, { route: "nats://x:6222" }],
  natsConfig: { debug: true, trace: false, write_deadline: "10s", maxConnections: 100, maxPayload: 1048576, maxPending: 67108864, maxSubscriptions: 1000, maxControlLine: 4096, disableLogtime: true },
  pod: {
    labels: { a: "b" }, annotations: { c: "d" }, nodeSelector: { "kubernetes.io/os": "linux" }, antiAffinity: true,
    resources: { limits: { cpu: "500m", memory: "1Gi" }, requests: { cpu: 1, "nvidia.com/gpu": "1" } },
    tolerations: [{ key: "k", operator: "Equal", value: "v", effect: "NoExecute", tolerationSeconds: 60 }, { operator: "Exists" }],
    natsEnv: [{ name: "GOMAXPROCS", value: "2" }, { name: "EMPTY" }],
    enableConfigReload: true, reloaderImage: "r", reloaderImageTag: "1", reloaderImagePullPolicy: "IfNotPresent",
    reloaderResources: { requests: { memory: "64Mi" } },
    enableMetrics: true, metricsImage: "m", metricsImageTag: "2", metricsImagePullPolicy: "Always",
    enableClientsHostPort: true, advertiseExternalIP: true, bootconfigImage: "b", bootconfigImageTag: "3",
  },
  tls: {
    serverSecret: "s", serverSecretCAFileName: "a.pem", serverSecretKeyFileName: "b.pem", serverSecretCertFileName: "c.pem",
    routesSecret: "r", routesSecretCAFileName: "d.pem", routesSecretKeyFileName: "e.pem", routesSecretCertFileName: "f.pem",
    verify: true, clientsTLSTimeout: 2.5, routesTLSTimeout: 3,
  },
  auth: { enableServiceAccounts: true, clientsAuthSecret: "auth", clientsAuthFile: "/etc/auth.json", clientsAuthTimeout: 5 },
  leafnodeConfig: { hostPort: 7422, remotes: [{ url: "nats://ground:7422", urls: ["nats://a:7422", "nats://b:7422"], credentials: "/etc/creds/leaf.creds" }] },
};
const cluster = (name: string, apiVersion: NatsCluster["apiVersion"], spec: unknown): any => ({ apiVersion, kind: "NatsCluster", metadata: { name, namespace: ns }, spec });
const rejected = async (obj: any) => {
  try {
    await kube.apply([obj], { namespace: ns });
  } catch (e: any) {
    return `${e.status ?? e.code} ${e.message}`;
  }
  return "accepted";
};

it("serves both versions with the same schema, keeping every field", async () => {
  for (const v of ["nats.io/v1alpha2", "nats.io/v1beta1"] as const) {
    const name = `full-${v.split("/")[1]}`;
    const [got] = await kube.apply([cluster(name, v, fullSpec)], { namespace: ns });
    expect(got.apiVersion).toBe(v);
    expect(got.spec).toEqual(fullSpec);
  }
  // read one through the other version
  const other = await kube.admin.request("GET", `/apis/nats.io/v1beta1/namespaces/${ns}/natsclusters/full-v1alpha2`);
  expect(other.apiVersion).toBe("nats.io/v1beta1");
  expect(other.spec).toEqual(fullSpec);
  const list = await kube.admin.request("GET", `/apis/nats.io/v1alpha2/namespaces/${ns}/natsclusters`);
  expect(list.kind).toBe("NatsClusterList");
  expect(list.items).toHaveLength(2);
});

it("rejects unknown fields (Strict) and wrong types, in either version", async () => {
  for (const v of ["nats.io/v1alpha2", "nats.io/v1beta1"] as const) {
    const cases: [string, unknown][] = [
      ["typo", { sizee: 3 }],
      ["nested-typo", { tls: { serverSecrett: "x" } }],
      ["deep-typo", { pod: { tolerations: [{ keyy: "x" }] } }],
      ["remote-typo", { leafnodeConfig: { remotes: [{ uri: "x" }] } }],
      ["gateway", { gatewayConfig: { name: "x" } }],
      ["camel-wd", { natsConfig: { writeDeadline: "10s" } }],
      ["string-size", { size: "three" }],
      ["negative-size", { size: -1 }],
      ["float-size", { size: 1.5 }],
      ["bool-paused", { paused: "yes" }],
      ["pullpolicy", { pod: { metricsImagePullPolicy: "Sometimes" } }],
      ["quantity", { pod: { resources: { limits: { cpu: "lots" } } } }],
      ["label-type", { pod: { labels: { a: 1 } } }],
      ["env-noname", { pod: { natsEnv: [{ value: "x" }] } }],
      ["credentials-object", { leafnodeConfig: { remotes: [{ credentials: { secret: { name: "x" } } }] } }],
      ["port", { leafnodeConfig: { hostPort: 70000 } }],
    ];
    for (const [what, spec] of cases) {
      const r = await rejected(cluster(`bad-${what}`, v, spec));
      console.log(v, what, "->", r.slice(0, 220));
      expect(r, `${v} ${what}`).not.toBe("accepted");
    }
  }
});

it("prunes unknown fields when the client does not ask for strict validation", async () => {
  const got = await kube.admin.request("POST", `/apis/nats.io/v1alpha2/namespaces/${ns}/natsclusters`, {
    body: cluster("pruned", "nats.io/v1alpha2", { size: 1, sizee: 2, pod: { bogus: true } }),
    query: { fieldValidation: "Ignore" },
  });
  expect(got.spec).toEqual({ size: 1, serverImage: "nats", pod: {} });
});

it("applies defaults", async () => {
  const [a] = await kube.apply([cluster("defaults", "nats.io/v1beta1", { size: 1, tls: { serverSecret: "s" } })], { namespace: ns });
  expect(a.spec).toEqual({ size: 1, serverImage: "nats", tls: { serverSecret: "s", ...specDefaults.tls } });
  const [b] = await kube.apply([{ apiVersion: "nats.io/v1alpha2", kind: "NatsCluster", metadata: { name: "nospec", namespace: ns } }], { namespace: ns });
  expect(b.spec).toEqual({ serverImage: specDefaults.serverImage });
});

it("has a status subresource with map-list conditions, and printer columns", async () => {
  const base = `/apis/nats.io/v1alpha2/namespaces/${ns}/natsclusters/defaults`;
  // status in the main resource is ignored
  await kube.admin.request("PATCH", base, { body: { status: { size: 9 } }, contentType: "application/merge-patch+json" });
  expect((await kube.admin.request("GET", base)).status).toBeUndefined();
  const status = {
    size: 1, readyReplicas: 1, currentVersion: "2.10.24", observedGeneration: 1,
    conditions: [{ type: "Ready", status: "True", reason: "AllReady", message: "ok", lastTransitionTime: "2024-01-01T00:00:00Z", observedGeneration: 1 }],
  };
  const s = await kube.admin.request("PATCH", `${base}/status`, { body: { status }, contentType: "application/merge-patch+json", query: { fieldValidation: "Strict" } });
  expect(s.status).toEqual(status);
  const bad = [
    { conditions: [{ type: "Ready", status: "Maybe" }] },
    { conditions: [{ status: "True" }] },
    { conditions: [{ type: "A", status: "True" }, { type: "A", status: "False" }] },
    { conditions: [{ type: "A", status: "True", lastTransitionTime: "yesterday" }] },
    { readyReplicas: "one" },
    { phase: "Running" },
  ];
  for (const st of bad) {
    let r = "accepted";
    try {
      await kube.admin.request("PUT", `${base}/status`, { body: { ...s, status: st }, query: { fieldValidation: "Strict" } });
    } catch (e: any) {
      r = e.message;
    }
    console.log("status", JSON.stringify(st), "->", r.slice(0, 200));
    expect(r, JSON.stringify(st)).not.toBe("accepted");
  }
  const crd = await kube.admin.request("GET", crdPath);
  for (const v of crd.spec.versions) {
    expect(v.additionalPrinterColumns.map((c: any) => `${c.name}:${c.type}:${c.jsonPath}`)).toEqual([
      "Desired:integer:.spec.size", "Ready:integer:.status.readyReplicas", "Version:string:.status.currentVersion", "Age:date:.metadata.creationTimestamp",
    ]);
    expect(v.subresources).toEqual({ status: {} });
  }
  expect(crd.spec.versions.map((v: any) => `${v.name}:${v.served}:${v.storage}`)).toEqual(["v1alpha2:true:true", "v1beta1:true:false"]);
  expect(crd.spec.names).toMatchObject({ kind: "NatsCluster", listKind: "NatsClusterList", plural: "natsclusters", singular: "natscluster", shortNames: ["nats"], categories: ["all"] });
  expect(crd.spec.conversion.strategy).toBe("None");
  expect(crd.status.conditions.find((c: any) => c.type === "NonStructuralSchema")).toBeUndefined();
  // Table (what kubectl get prints), in both versions
  for (const v of ["v1alpha2", "v1beta1"]) {
    const t = kube.admin.target;
    const table: any = await new Promise((resolve, reject) => {
      const u = new URL(`/apis/nats.io/${v}/namespaces/${ns}/natsclusters/defaults`, t.server);
      https.get(u, { ca: t.ca, cert: t.cert, key: t.key, headers: { Accept: "application/json;as=Table;v=v1;g=meta.k8s.io" } }, (res) => {
        let d = ""; res.on("data", (c) => (d += c)); res.on("end", () => resolve(JSON.parse(d)));
      }).on("error", reject);
    });
    console.log(v, table.columnDefinitions.map((c: any) => c.name), table.rows[0].cells);
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual(["Name", "Desired", "Ready", "Version", "Age"]);
    expect(table.rows[0].cells.slice(0, 4)).toEqual(["defaults", 1, 1, "2.10.24"]);
  }
});
