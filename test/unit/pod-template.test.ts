import { describe, expect, it } from "vitest";
import { checkedPodTemplate, podTemplate, templateHash } from "../../handlers/operator/desired-pod.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { condition, image, natsCluster, view } from "./operator-fixtures.ts";

const checked = (spec: Parameters<typeof natsCluster>[0]) => checkedPodTemplate(natsCluster(spec), image);

describe("spec.template (nats-operator's pod template) under satellite's pod", () => {
  it("adds what satellite does not set: env, volumes and their mounts (pod.volumeMounts), a container, the service account, labels", () => {
    const { template, problems } = checked({
      size: 1,
      pod: { volumeMounts: [{ name: "creds", mountPath: "/etc/nats-creds", readOnly: true }] },
      template: {
        metadata: { labels: { team: "edge" }, annotations: { "example.com/owner": "me" } },
        spec: {
          serviceAccountName: "nats-server",
          priorityClassName: "high",
          volumes: [{ name: "creds", secret: { secretName: "user-credentials" } }],
          containers: [
            {
              name: "anything",
              imagePullPolicy: "Always",
              terminationMessagePolicy: "FallbackToLogsOnError",
              env: [{ name: "MY_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }],
            },
            { name: "sidecar", image: "busybox" },
          ],
        },
      },
    });
    expect(problems).toEqual([]);
    const [nats, sidecar] = template.spec.containers;
    expect(nats).toMatchObject({
      name: "nats",
      image: "nats:2.14.9",
      imagePullPolicy: "Always",
      terminationMessagePolicy: "FallbackToLogsOnError",
    });
    expect(nats!.env!.map((e) => e.name)).toEqual(["POD_NAME", "POD_NAMESPACE", "MY_NODE_NAME"]);
    expect(nats!.volumeMounts!.at(-1)).toEqual({ name: "creds", mountPath: "/etc/nats-creds", readOnly: true });
    expect(sidecar).toEqual({ name: "sidecar", image: "busybox" });
    expect(template.spec.volumes!.at(-1)).toEqual({ name: "creds", secret: { secretName: "user-credentials" } });
    expect(template.spec).toMatchObject({ serviceAccountName: "nats-server", priorityClassName: "high" });
    expect(template.labels).toMatchObject({ team: "edge", nats_cluster: "demo" });
    expect(template.annotations).toEqual({ "example.com/owner": "me" });
  });

  it("refuses what satellite sets otherwise, naming the field: never one side silently dropped", () => {
    const { problems } = checked({
      size: 1,
      pod: {
        enableConfigReload: true,
        volumeMounts: [
          { name: "config", mountPath: "/x" },
          { name: "nope", mountPath: "/y" },
        ],
      },
      template: {
        metadata: { name: "mine", labels: { nats_cluster: "other" } },
        spec: {
          hostname: "fixed",
          serviceAccountName: "nats-server",
          containers: [
            {
              name: "nats",
              lifecycle: { preStop: { exec: { command: ["preStop.sh"] } } },
              env: [{ name: "SERVER_NAME", value: "us-$(MY_POD_NAME)" }],
            },
            { name: "reloader", image: "someone/else" },
          ],
        },
      },
    });
    expect(problems).toEqual([
      "spec.pod.volumeMounts[0] (config at /x) is a volume or path satellite mounts itself: use another",
      "spec.template.metadata.name: satellite names the pods; give labels and annotations only",
      "spec.template.spec.hostname: satellite sets it for each pod",
      "spec.template.spec.containers[nats].env[SERVER_NAME]: satellite names each server by its pod (with -site, <site>-<namespace>-<pod>), so it would not name them: leave it out",
      'spec.template.metadata.labels.nats_cluster: the template says "other", satellite sets "demo"',
      'spec.template.spec.containers[nats].lifecycle.preStop.exec.command: the template says ["preStop.sh"], satellite sets ["nats-server","--signal","ldm=/var/run/nats/nats.pid"]',
      'spec.template.spec.containers[reloader].image: the template says "someone/else", satellite sets "ghcr.io/satellite-nats/satellite:0.1.0"',
      'spec.template.spec.serviceAccountName: the template says "nats-server", satellite sets "demo-reloader"',
      'spec.pod.volumeMounts[1] names volume "nope", which neither spec.template nor satellite\'s pod has',
    ]);
  });

  it("a refused template changes nothing (Degraded); a changed one rolls the pods like any template change", () => {
    const bad = reconcileCluster(view(natsCluster({ size: 1, template: { spec: { hostname: "x" } } })));
    expect(bad.changes).toEqual([]);
    expect(condition(bad, "Degraded")).toMatchObject({ status: "True", message: expect.stringContaining("spec.template.spec.hostname") });
    const a = checked({ size: 1, template: { spec: { priorityClassName: "a" } } }).template;
    const b = checked({ size: 1, template: { spec: { priorityClassName: "b" } } }).template;
    expect(a.spec.priorityClassName).toBe("a");
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b));
  });
});

describe("where the servers run: zones and nodes", () => {
  const selector = { matchLabels: { app: "nats", nats_cluster: "demo" } };
  const spread = (topologyKey: string) => ({ maxSkew: 1, topologyKey, whenUnsatisfiable: "ScheduleAnyway", labelSelector: selector });

  it("spreads over zones, then nodes, by default, preferred so that nodes without zones still take every server", () => {
    const t = podTemplate(natsCluster({ size: 3 }), image);
    expect(t.spec.topologySpreadConstraints).toEqual([spread("topology.kubernetes.io/zone"), spread("kubernetes.io/hostname")]);
    expect(t.spec.affinity).toBeUndefined();
  });

  it("oneServerPerNode requires a node of its own for each server; antiAffinity only prefers it", () => {
    const byNode = { topologyKey: "kubernetes.io/hostname", labelSelector: selector };
    expect(podTemplate(natsCluster({ size: 3, pod: { oneServerPerNode: true, antiAffinity: true } }), image).spec.affinity).toEqual({
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [byNode] },
    });
    expect(podTemplate(natsCluster({ size: 3, pod: { antiAffinity: true } }), image).spec.affinity).toEqual({
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: byNode }] },
    });
  });

  it("a template's own spread constraints replace the default ones (none, when it gives an empty list)", () => {
    const mine = [{ maxSkew: 2, topologyKey: "rack", whenUnsatisfiable: "DoNotSchedule", labelSelector: selector }];
    const withTemplate = (topologySpreadConstraints: unknown[]) =>
      checkedPodTemplate(natsCluster({ size: 3, template: { spec: { topologySpreadConstraints } } }), image);
    expect(withTemplate(mine)).toMatchObject({ template: { spec: { topologySpreadConstraints: mine } }, problems: [] });
    expect(withTemplate([])).toMatchObject({ template: { spec: { topologySpreadConstraints: [] } }, problems: [] });
  });
});

describe("the metrics sidecar (pod.enableMetrics)", () => {
  const metrics = (spec: Parameters<typeof natsCluster>[0]) => {
    const t = podTemplate(natsCluster({ size: 1, ...spec }), image);
    return { t, container: t.spec.containers.find((c) => c.name === "metrics")! };
  };

  it("runs satellite's own image as `satellite exporter`, restricted as the other containers, on port metrics 7777", () => {
    const { t, container } = metrics({ pod: { enableMetrics: true } });
    expect(container.image).toBe(image);
    expect(container.args).toEqual([
      "exporter",
      "-monitor",
      "http://127.0.0.1:8222",
      "-listen",
      ":7777",
      "-endpoints",
      "varz,connz,routez,subz,healthz",
    ]);
    expect(container.ports).toEqual([{ name: "metrics", containerPort: 7777 }]);
    expect(container.securityContext).toEqual(t.spec.containers[0]!.securityContext);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  });

  it("reads JetStream's /jsz when the cluster has JetStream, and /healthz only of servers that have it (2.7.1 on)", () => {
    const { container } = metrics({ pod: { enableMetrics: true }, jetstream: { enabled: true, fileStorage: { size: "1Gi" } } });
    expect(container.args!.at(-1)).toBe("varz,connz,routez,subz,healthz,jsz");
    expect(metrics({ version: "2.1.9", pod: { enableMetrics: true } }).container.args!.at(-1)).toBe("varz,connz,routez,subz");
  });

  it("gives the pod Prometheus' scrape annotations, the spec's own annotations winning", () => {
    expect(metrics({ pod: { enableMetrics: true } }).t.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "7777",
      "prometheus.io/path": "/metrics",
    });
    const own = metrics({ pod: { enableMetrics: true, annotations: { "prometheus.io/scrape": "false", team: "x" } } }).t.annotations;
    expect(own).toEqual({ "prometheus.io/scrape": "false", "prometheus.io/port": "7777", "prometheus.io/path": "/metrics", team: "x" });
    expect(podTemplate(natsCluster({ size: 1 }), image).annotations).toEqual({});
  });

  it("runs prometheus-nats-exporter as nats-operator did when the spec names its image or tag", () => {
    const official = ["-connz", "-routez", "-subz", "-varz", "-prefix=nats", "-use_internal_server_id", "http://localhost:8222/"];
    const named = metrics({
      pod: { enableMetrics: true, metricsImage: "registry.local/exporter", metricsImagePullPolicy: "Always" },
    }).container;
    expect(named).toMatchObject({ image: "registry.local/exporter:0.17.3", args: official, imagePullPolicy: "Always" });
    expect(metrics({ pod: { enableMetrics: true, metricsImageTag: "0.16.0" } }).container).toMatchObject({
      image: "natsio/prometheus-nats-exporter:0.16.0",
      args: official,
    });
  });

  it("an operator upgrade (a new satellite image) keeps the pod-template hash; switching to the official exporter changes it", () => {
    const c = natsCluster({ size: 1, pod: { enableMetrics: true } });
    const hash = (img: string, cluster = c) => templateHash(podTemplate(cluster, img));
    expect(hash("ghcr.io/satellite-nats/satellite:0.2.0")).toBe(hash(image));
    expect(hash(image, natsCluster({ size: 1, pod: { enableMetrics: true, metricsImageTag: "0.17.3" } }))).not.toBe(hash(image));
  });
});
