import { planReload } from "../../handlers/reloader/plan.ts";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import type { KubeClient } from "../kube/client.ts";
import { configMaps, events, secrets } from "../kube/resources.ts";
import { startReflector } from "../kube/reflector.ts";
import type { Logger } from "../log.ts";
import { readFiles, writeFilesAtomically } from "./files.ts";
import { askSubject, configRevisionAnnotation, reportSubject, type ReloadReport } from "../../handlers/reloader/report.ts";
import type { ServerControl } from "./server.ts";
import type { ReportLink } from "./report-link.ts";

export interface WatchReloaderDeps {
  kube: KubeClient;
  kind: "ConfigMap" | "Secret";
  name: string;
  namespace: string;
  dir: string;
  entry: string;
  server: ServerControl;
  log: Logger;
  /** Where reports go (optional, best effort): the cluster name for the subject, this pod's name. */
  reports?: ReportLink;
  cluster?: string;
  pod: string;
}

type ConfigObject = { metadata: { name: string; namespace: string; uid: string; resourceVersion: string; annotations?: Record<string, string> }; data?: Record<string, string> };

const heartbeatMs = 30_000;

/**
 * Watches one ConfigMap or Secret through the API and keeps `dir` and nats-server in step with
 * it: one reload per real change, confirmed; a config nats-server refuses is rolled back on
 * disk, so the last good one stays; each outcome is logged, published and recorded as an Event.
 */
export function startWatchReloader(d: WatchReloaderDeps) {
  const type = d.kind === "Secret" ? secrets : configMaps;
  const reflector = startReflector<ConfigObject>(d.kube, type, { namespace: d.namespace, fieldSelector: `metadata.name=${d.name}`, log: d.log });
  let latest: ConfigObject | undefined;
  let running = false;
  let again = false;
  let lastReport: ReloadReport | undefined;
  let lastGood: Record<string, string> | undefined;

  const filesOf = (o: ConfigObject) =>
    Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, d.kind === "Secret" ? decodeBase64(v) : v]));

  async function publish(r: ReloadReport) {
    lastReport = r;
    if (d.reports && d.cluster) d.reports.publish(reportSubject(d.cluster, d.pod), JSON.stringify(r));
  }

  async function event(o: ConfigObject, type: "Normal" | "Warning", reason: string, message: string) {
    const now = new Date().toISOString();
    await d.kube.create(events, {
      apiVersion: "v1", kind: "Event",
      metadata: { generateName: `${o.metadata.name}.`, namespace: o.metadata.namespace },
      involvedObject: { apiVersion: "v1", kind: d.kind, name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion },
      type, reason, message: `${d.pod}: ${message}`, source: { component: "satellite-reloader" }, reportingComponent: "satellite-reloader", reportingInstance: d.pod,
      firstTimestamp: now, lastTimestamp: now, count: 1,
    }).catch((e) => d.log.warn("cannot record event", { reason, error: (e as Error).message }));
  }

  async function sync(o: ConfigObject): Promise<void> {
    const desired = filesOf(o);
    const names = [...new Set([...Object.keys(desired), ...Object.keys(lastGood ?? {})])];
    const onDisk = readFiles(d.dir, names);
    const varz = await d.server.varz();
    lastGood ??= Object.fromEntries(Object.entries(onDisk).filter((e): e is [string, string] => e[1] !== undefined));
    const plan = planReload({ desired, onDisk, lastGood, entry: d.entry, version: varz.version });
    const base = {
      cluster: d.cluster ?? "", pod: d.pod, server: varz.server_name, version: varz.version,
      revision: o.metadata.resourceVersion, configRevision: o.metadata.annotations?.[configRevisionAnnotation] ?? o.metadata.resourceVersion,
    };
    const at = () => new Date().toISOString();
    if (plan.action === "none") {
      await publish({ ...base, action: "in-sync", ok: true, configLoadTime: varz.config_load_time, configDigest: varz.config_digest, at: at() });
      return;
    }
    if (plan.action === "refuse") {
      d.log.error("config not written", { object: d.name, error: plan.error });
      await event(o, "Warning", "ConfigRefused", plan.error);
      await publish({ ...base, action: "refused", ok: false, error: plan.error, at: at() });
      return;
    }
    writeFilesAtomically(d.dir, plan.write);
    if (plan.action === "restart-needed") {
      const msg = `config written, but nats-server cannot reload it: ${plan.reasons.join("; ")}; restart the server to apply it`;
      d.log.warn("restart needed", { object: d.name, revision: o.metadata.resourceVersion, reasons: plan.reasons });
      await event(o, "Warning", "RestartNeeded", msg);
      await publish({ ...base, action: "restart-needed", ok: false, error: msg, reasons: plan.reasons, at: at() });
      return;
    }
    const outcome = await d.server.reload();
    if (outcome.ok) {
      lastGood = { ...lastGood, ...plan.write };
      d.log.info("nats-server reloaded", { object: d.name, revision: o.metadata.resourceVersion, files: Object.keys(plan.write), configLoadTime: outcome.varz?.config_load_time });
      await publish({ ...base, action: "reloaded", ok: true, configLoadTime: outcome.varz?.config_load_time, configDigest: outcome.varz?.config_digest, at: at() });
      return;
    }
    // Put the last good files back, so a restart does not pick up what nats-server refused.
    const restore: Record<string, string> = {};
    for (const k of Object.keys(plan.write)) if (lastGood[k] !== undefined) restore[k] = lastGood[k]!;
    writeFilesAtomically(d.dir, restore);
    d.log.error("nats-server refused the new config; kept the last good one", { object: d.name, revision: o.metadata.resourceVersion, error: outcome.error });
    await event(o, "Warning", "ReloadFailed", `${outcome.error}; the last good config stays in place`);
    await publish({ ...base, action: "failed", ok: false, error: outcome.error, at: at() });
  }

  async function drive() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const o = latest;
        if (o) {
          try {
            await sync(o);
          } catch (e) {
            d.log.error("reload attempt failed; will retry", { error: (e as Error).message });
            setTimeout(() => void drive(), 1_000).unref?.();
          }
        }
      } while (again);
    } finally {
      running = false;
    }
  }

  reflector.onChange((type, o) => {
    if (type === "DELETED") {
      d.log.warn("the config object was deleted; keeping the files as they are", { object: d.name });
      return;
    }
    latest = o;
    void drive();
  });
  void reflector.synced.then(() => {
    if (!latest) d.log.warn(`${d.kind.toLowerCase()} "${d.name}" not found in namespace "${d.namespace}": waiting for it`);
  });
  if (d.reports && d.cluster) {
    d.reports.onMessage(askSubject(d.cluster), () => lastReport && void publish({ ...lastReport, at: new Date().toISOString() }));
  }
  const heartbeat = setInterval(() => lastReport && void publish({ ...lastReport, at: new Date().toISOString() }), heartbeatMs);
  heartbeat.unref?.();
  return {
    synced: reflector.synced,
    lastReport: () => lastReport,
    stop() {
      clearInterval(heartbeat);
      reflector.stop();
    },
  };
}
