// charts/satellite rendered by helm itself: lint, the objects each value makes, the values helm
// refuses (values.schema.json) or the chart refuses (fail), and no drift from manifests/.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { chartDir, helm, helmOk, helmTemplate } from "../harness/helm.ts";
import { manifest } from "../harness/kube.ts";

const dir = mkdtempSync(join(tmpdir(), "satellite-chart-"));
let files = 0;

/** A values file holding `values`, for `-f` (lists and nulls are awkward to --set). */
function valuesFile(values: object): string {
  const path = join(dir, `values-${files++}.yaml`);
  writeFileSync(path, stringify(values));
  return path;
}

const parse = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === "object");

const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: any[], kind: string) => {
  const found = byKind(objects, kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
};
const container = (objects: any[]) => one(objects, "Deployment").spec.template.spec.containers[0];
const args = (objects: any[]): string[] => container(objects).args;

/** The labels helm's conventions add; the objects are otherwise compared field by field. */
const helmLabels = ["app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart"];

function withoutHelmLabels(meta: any) {
  if (!meta?.labels) return;
  for (const l of helmLabels) delete meta.labels[l];
  if (Object.keys(meta.labels).length === 0) delete meta.labels;
}

/**
 * A rendered object as kubectl would apply the manifest: no metadata.namespace (manifests/ take it
 * from `-n`; checked separately), no helm labels, no resource-policy annotation (checked separately).
 */
function normalized(obj: any) {
  const o = structuredClone(obj);
  delete o.metadata.namespace;
  withoutHelmLabels(o.metadata);
  withoutHelmLabels(o.spec?.template?.metadata);
  if (o.metadata.annotations) {
    delete o.metadata.annotations["helm.sh/resource-policy"];
    if (Object.keys(o.metadata.annotations).length === 0) delete o.metadata.annotations;
  }
  return o;
}

const keyed = (objects: any[]) => Object.fromEntries(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));

describe("helm lint --strict", () => {
  // (lint has no --api-versions, so podMonitor, which needs the cluster's PodMonitor kind, is left off.)
  it("passes with the default values, cluster-wide, and with the optional arguments on", async () => {
    for (const extra of [
      [],
      ["--set", "allNamespaces=true"],
      [
        "-f",
        valuesFile({
          configApi: { site: "berlin" },
          log: { level: "debug", format: "text" },
          controllerImage: "registry.example.com/satellite:1",
          extraArgs: ["-name", "nats"],
        }),
      ],
    ]) {
      const r = await helm(["lint", "--strict", chartDir, ...extra]);
      expect(r.stdout, r.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
      expect(r.code).toBe(0);
    }
  });
});

describe("no drift from manifests/", () => {
  it("the defaults render manifests/crd.yaml and manifests/operator.yaml, object by object", async () => {
    const rendered = await helmTemplate(["--namespace", "default"]);
    const expected = [...parse(manifest("crd.yaml")), ...parse(manifest("operator.yaml"))];
    expect(keyed(rendered.map(normalized))).toEqual(keyed(expected));
  });

  it("allNamespaces renders manifests/crd.yaml and manifests/operator-cluster-wide.yaml (namespace satellite-system)", async () => {
    const rendered = await helmTemplate(["--namespace", "satellite-system", "--set", "allNamespaces=true"]);
    const expected = [...parse(manifest("crd.yaml")), ...parse(manifest("operator-cluster-wide.yaml"))];
    expect(keyed(rendered.map(normalized))).toEqual(keyed(expected));
  });

  it("namespaced objects land in the release's namespace, cluster-scoped ones in none; every object carries helm's labels", async () => {
    for (const [ns, set] of [
      ["edge-1", "allNamespaces=false"],
      ["ops", "allNamespaces=true"],
    ]) {
      const rendered = await helmTemplate(["--namespace", ns!, "--set", set!]);
      const clusterScoped = ["CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"];
      for (const o of rendered) {
        expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(clusterScoped.includes(o.kind) ? undefined : ns);
        expect(o.metadata.labels).toMatchObject({ "app.kubernetes.io/instance": "sat", "app.kubernetes.io/managed-by": "Helm" });
      }
      const binding = rendered.find((o) => o.kind.endsWith("Binding"));
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "satellite-operator", namespace: ns }]);
    }
  });

  it("the CRDs are kept by helm uninstall (helm.sh/resource-policy: keep)", async () => {
    const crds = byKind(await helmTemplate(), "CustomResourceDefinition");
    expect(crds.map((c) => c.metadata.name)).toEqual(["natsclusters.nats.io", "natsserviceroles.nats.io"]);
    for (const crd of crds) expect(crd.metadata.annotations).toEqual({ "helm.sh/resource-policy": "keep" });
  });

  it("the packaged chart (helm package stores files/crd.yaml's content, not the link) renders the same", async () => {
    await helmOk(["package", chartDir, "--destination", dir]);
    const packaged = await helmTemplate([], join(dir, "satellite-0.1.0.tgz"));
    expect(packaged).toEqual(await helmTemplate());
  });
});

describe("each value", () => {
  it("image: repository, tag (default the appVersion), pullPolicy; imagePullSecrets", async () => {
    expect(container(await helmTemplate()).image).toBe("ghcr.io/satellite-nats/satellite:0.1.0");
    const objects = await helmTemplate([
      "--set",
      "image.repository=registry.example.com/satellite,image.tag=dev,image.pullPolicy=Always",
      "--set",
      "imagePullSecrets[0].name=my-registry",
    ]);
    expect(container(objects)).toMatchObject({ image: "registry.example.com/satellite:dev", imagePullPolicy: "Always" });
    expect(one(objects, "Deployment").spec.template.spec.imagePullSecrets).toEqual([{ name: "my-registry" }]);
  });

  it("controllerImage: -controller-image for the NatsClusters' reloader sidecars", async () => {
    expect(args(await helmTemplate(["--set", "controllerImage=registry.example.com/satellite:1"]))).toEqual([
      "run",
      "-operator",
      "-leader-elect",
      "-config-api",
      "-controller-image",
      "registry.example.com/satellite:1",
      "-health",
      ":8081",
    ]);
  });

  it("crd.install=false: no CRD, everything else the same", async () => {
    const all = await helmTemplate();
    const without = await helmTemplate(["--set", "crd.install=false"]);
    expect(byKind(without, "CustomResourceDefinition")).toEqual([]);
    expect(without).toEqual(all.filter((o) => o.kind !== "CustomResourceDefinition"));
  });

  it("replicas and leaderElection: one replica without a leader, or three with one", async () => {
    const single = await helmTemplate(["--set", "replicas=1,leaderElection.enabled=false"]);
    expect(one(single, "Deployment").spec.replicas).toBe(1);
    expect(args(single)).toEqual(["run", "-operator", "-config-api", "-health", ":8081"]);
    const three = await helmTemplate(["--set", "replicas=3"]);
    expect(one(three, "Deployment").spec.replicas).toBe(3);
    expect(args(three)).toContain("-leader-elect");
  });

  it("name: every object, the ServiceAccount the pods run as, the selector, and the Lease (-lease)", async () => {
    const objects = await helmTemplate(["--set", "name=edge-operator"]);
    for (const o of objects.filter((x) => x.kind !== "CustomResourceDefinition")) expect(o.metadata.name).toBe("edge-operator");
    const deployment = one(objects, "Deployment");
    expect(deployment.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "edge-operator" });
    expect(deployment.spec.template.spec.serviceAccountName).toBe("edge-operator");
    expect(args(objects)).toEqual(["run", "-operator", "-leader-elect", "-lease", "edge-operator", "-config-api", "-health", ":8081"]);
    expect(one(objects, "RoleBinding")).toMatchObject({
      roleRef: { kind: "Role", name: "edge-operator" },
      subjects: [{ name: "edge-operator" }],
    });
  });

  it("configApi: off, or on with a site (-site)", async () => {
    expect(args(await helmTemplate(["--set", "configApi.enabled=false"]))).toEqual([
      "run",
      "-operator",
      "-leader-elect",
      "-health",
      ":8081",
    ]);
    expect(args(await helmTemplate(["--set", "configApi.site=berlin"]))).toEqual([
      "run",
      "-operator",
      "-leader-elect",
      "-config-api",
      "-site",
      "berlin",
      "-health",
      ":8081",
    ]);
  });

  it("workers, log.level and log.format: -workers, -D, -log-format text", async () => {
    expect(args(await helmTemplate(["--set", "workers=8,log.level=debug,log.format=text"]))).toEqual([
      "run",
      "-operator",
      "-leader-elect",
      "-config-api",
      "-workers",
      "8",
      "-health",
      ":8081",
      "-D",
      "-log-format",
      "text",
    ]);
  });

  it("metrics.port: -health on it, and the container port the probes and the PodMonitor use", async () => {
    const objects = await helmTemplate(["--set", "metrics.port=9090"]);
    expect(args(objects)).toEqual(["run", "-operator", "-leader-elect", "-config-api", "-health", ":9090"]);
    expect(container(objects).ports).toEqual([{ name: "health", containerPort: 9090 }]);
    expect(container(objects).readinessProbe.httpGet).toEqual({ path: "/readyz", port: "health" });
  });

  it("podMonitor: PodMonitors for the operator's /metrics and the NATS servers' sidecars, where the cluster has the kind", async () => {
    expect(byKind(await helmTemplate(["--api-versions", "monitoring.coreos.com/v1/PodMonitor"]), "PodMonitor")).toEqual([]);
    const objects = await helmTemplate([
      "--api-versions",
      "monitoring.coreos.com/v1/PodMonitor",
      "--namespace",
      "ops",
      "--set",
      "podMonitor.enabled=true,podMonitor.interval=15s,podMonitor.labels.release=prom",
    ]);
    const [pm, servers] = byKind(objects, "PodMonitor");
    expect(pm!.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(pm!.metadata).toMatchObject({ name: "satellite-operator", namespace: "ops", labels: { release: "prom" } });
    expect(pm!.spec).toEqual({
      selector: { matchLabels: { "app.kubernetes.io/name": "satellite-operator" } },
      podMetricsEndpoints: [{ port: "health", path: "/metrics", interval: "15s", honorLabels: true }],
    });
    expect(servers!.metadata).toMatchObject({ name: "satellite-operator-nats-servers", namespace: "ops", labels: { release: "prom" } });
    expect(servers!.spec).toEqual({
      selector: { matchLabels: { app: "nats" } },
      podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
    });
    const wide = await helmTemplate([
      "--api-versions",
      "monitoring.coreos.com/v1/PodMonitor",
      "--set",
      "podMonitor.enabled=true,allNamespaces=true",
    ]);
    expect(byKind(wide, "PodMonitor")[1]!.spec.namespaceSelector).toEqual({ any: true });
  });

  it("resources, podSecurityContext and securityContext replace the defaults (here: user ids left to the platform)", async () => {
    const objects = await helmTemplate([
      "-f",
      valuesFile({
        resources: { requests: { cpu: "50m", memory: "100Mi" }, limits: { memory: "200Mi" } },
        podSecurityContext: { runAsUser: null, runAsGroup: null },
      }),
    ]);
    expect(container(objects).resources).toEqual({ requests: { cpu: "50m", memory: "100Mi" }, limits: { memory: "200Mi" } });
    expect(one(objects, "Deployment").spec.template.spec.securityContext).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container(objects).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
  });

  it("podLabels, podAnnotations, nodeSelector, tolerations, affinity: on the operator's pods", async () => {
    const affinity = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: "kubernetes.io/hostname",
              labelSelector: { matchLabels: { "app.kubernetes.io/name": "satellite-operator" } },
            },
          },
        ],
      },
    };
    const tolerations = [{ key: "dedicated", operator: "Equal", value: "nats", effect: "NoSchedule" }];
    const objects = await helmTemplate([
      "-f",
      valuesFile({
        podLabels: { team: "edge" },
        podAnnotations: { "example.com/owner": "edge", "prometheus.io/path": "/other" },
        nodeSelector: { "kubernetes.io/os": "linux" },
        tolerations,
        affinity,
      }),
    ]);
    const template = one(objects, "Deployment").spec.template;
    expect(template.metadata.labels).toEqual({
      "app.kubernetes.io/name": "satellite-operator",
      team: "edge",
    });
    expect(template.metadata.annotations).toEqual({
      "example.com/owner": "edge",
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8081",
      "prometheus.io/path": "/other",
    });
    expect(template.spec).toMatchObject({ nodeSelector: { "kubernetes.io/os": "linux" }, tolerations, affinity });
  });

  it("extraArgs: after the chart's", async () => {
    expect(args(await helmTemplate(["-f", valuesFile({ extraArgs: ["-name", "nats", "-workers-unknown-to-the-chart"] })]))).toEqual([
      "run",
      "-operator",
      "-leader-elect",
      "-config-api",
      "-health",
      ":8081",
      "-name",
      "nats",
      "-workers-unknown-to-the-chart",
    ]);
  });
});

describe("bad values are refused, with a message saying which and why", () => {
  const refusals: [string, string[], string][] = [
    ["an unknown key", ["--set", "replica=3"], "at '': additional properties 'replica' not allowed"],
    ["an unknown nested key", ["--set", "image.digest=sha256:0"], "at '/image': additional properties 'digest' not allowed"],
    ["a wrong type", ["--set", "replicas=two"], "at '/replicas': got string, want integer"],
    ["negative replicas", ["--set", "replicas=-1"], "at '/replicas': minimum: got -1, want 0"],
    [
      "a pull policy Kubernetes does not know",
      ["--set", "image.pullPolicy=Sometimes"],
      "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'",
    ],
    [
      "a site that cannot be part of a NATS subject",
      ["--set", "configApi.site=berlin.1"],
      "at '/configApi/site': 'berlin.1' does not match pattern",
    ],
    ["workers out of range", ["--set", "workers=65"], "at '/workers': maximum: got 65, want 64"],
    ["a port out of range", ["--set", "metrics.port=70000"], "at '/metrics/port': maximum: got 70,000, want 65,535"],
    ["a log level the operator does not have", ["--set", "log.level=trace"], "at '/log/level': value must be one of 'info', 'debug'"],
    ["a log format the operator does not have", ["--set", "log.format=logfmt"], "at '/log/format': value must be one of 'json', 'text'"],
    [
      "a scrape interval Prometheus cannot read",
      ["--set", "podMonitor.interval=soon"],
      "at '/podMonitor/interval': 'soon' does not match pattern",
    ],
    ["a name that is not a DNS label", ["--set", "name=Satellite_Operator"], "at '/name': 'Satellite_Operator' does not match pattern"],
    ["a label value that is not a string", ["--set", "nodeSelector.zone=1"], "at '/nodeSelector/zone': got number, want string"],
    [
      "an extra argument that is not a string",
      ["--set-json", 'extraArgs=[{"-name":"nats"}]'],
      "at '/extraArgs/0': got object, want string",
    ],
    ["an unknown resources key", ["--set", "resources.request.cpu=1"], "at '/resources': additional properties 'request' not allowed"],
    ["a removed required value", ["--set", "leaderElection=null"], "at '': missing property 'leaderElection'"],
    [
      "several replicas without leader election",
      ["--set", "replicas=3,leaderElection.enabled=false"],
      "replicas is 3 but leaderElection.enabled is false: several operators without a leader would all reconcile the same NatsClusters and fight; set leaderElection.enabled=true, or replicas=1",
    ],
    [
      "a site without the config API",
      ["--set", "configApi.enabled=false,configApi.site=berlin"],
      'configApi.site is "berlin" but configApi.enabled is false: the site names the config API\'s subjects (-site goes with -config-api); set configApi.enabled=true, or leave configApi.site empty',
    ],
    [
      "a PodMonitor where the cluster has no PodMonitor kind",
      ["--set", "podMonitor.enabled=true"],
      "podMonitor.enabled is true but this cluster has no monitoring.coreos.com/v1 PodMonitor (the Prometheus Operator's CRD): install the Prometheus Operator first, or set podMonitor.enabled=false (helm template: pass --api-versions monitoring.coreos.com/v1/PodMonitor)",
    ],
    [
      "an extra argument a value sets",
      ["--set", "extraArgs={-site=berlin}"],
      'extraArgs: "-site=berlin" is set by the value configApi.site; set that instead',
    ],
    [
      "an extra argument a value sets, GNU style",
      ["--set", "extraArgs={--debug}"],
      'extraArgs: "--debug" is set by the value log.level; set that instead',
    ],
    [
      "an extra argument the chart always passes",
      ["--set", "extraArgs={-operator}"],
      'extraArgs: "-operator" is always passed by the chart; remove it',
    ],
    [
      "an extra argument that makes the operator exit",
      ["--set", "extraArgs={-version}"],
      'extraArgs: "-version" makes satellite print its version and exit instead of running the operator; remove it',
    ],
    [
      "an extra argument for another namespace",
      ["--set", "extraArgs={-n,other}"],
      "extraArgs: \"-n\" would leave the release's namespace, where the operator's rights are: install the release into the namespace to run, or set allNamespaces=true",
    ],
  ];
  it.each(refusals)("%s", async (_what, values, message) => {
    const r = await helm(["template", "sat", chartDir, ...values]);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
  });
});
