import {
  type ConfigObject,
  kinds,
  type ReloadReport,
  type ReloadStep,
  type ResourceType,
  reloaderRoutes,
  type ServerFacts,
} from "../../handlers/index.ts";
import { applyChanges } from "../effects.ts";
import type { KubeClient } from "../kube/client.ts";
import { startReflector } from "../kube/reflector.ts";
import type { Logger } from "../log.ts";
import { readFiles, writeFilesAtomically } from "./files.ts";
import type { ReportLink } from "./report-link.ts";
import type { ServerControl } from "./server.ts";

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

const heartbeatMs = 30_000;

/**
 * Watches one ConfigMap or Secret through the API and keeps `dir` and nats-server in step with
 * it: one reload per real change, confirmed; a config nats-server refuses is rolled back on
 * disk, so the last good one stays; each outcome is logged, published and recorded as an Event.
 */
export function startWatchReloader(d: WatchReloaderDeps) {
  const type = kinds[d.kind] as ResourceType<ConfigObject>;
  const reflector = startReflector(d.kube, type, { namespace: d.namespace, fieldSelector: `metadata.name=${d.name}`, log: d.log });
  let latest: ConfigObject | undefined;
  let running = false;
  let again = false;
  let lastReport: ReloadReport | undefined;
  let lastGood: Record<string, string> | undefined;

  const publish = (r: ReloadReport) => {
    lastReport = r;
    if (d.reports && d.cluster) d.reports.publish(reloaderRoutes.reportSubject(d.cluster, d.pod), JSON.stringify(r));
  };

  /** The step's report is published and its Event recorded. */
  async function record(o: ConfigObject, step: ReloadStep, server: ServerFacts, reloadMs?: number): Promise<void> {
    const { report, changes } = reloaderRoutes.report(step, {
      cluster: d.cluster ?? "",
      pod: d.pod,
      object: { ...o, kind: d.kind },
      server,
      now: new Date().toISOString(),
    });
    await applyChanges(d.kube, changes, d.log);
    publish(reloadMs === undefined ? report : { ...report, reloadMs: Math.round(reloadMs * 100) / 100 });
  }

  async function sync(o: ConfigObject): Promise<void> {
    const desired = reloaderRoutes.filesOf({ kind: d.kind, data: o.data });
    const names = [...new Set([...Object.keys(desired), ...Object.keys(lastGood ?? {})])];
    const onDisk = readFiles(d.dir, names);
    const varz = await d.server.varz();
    lastGood ??= Object.fromEntries(Object.entries(onDisk).filter((e): e is [string, string] => e[1] !== undefined));
    const plan = reloaderRoutes.plan({ desired, onDisk, lastGood, entry: d.entry, version: varz.version });
    const revision = o.metadata.resourceVersion;
    if (plan.action === "none") return record(o, { action: "in-sync" }, varz);
    if (plan.action === "refuse") {
      d.log.error("config not written", { object: d.name, error: plan.error });
      return record(o, { action: "refused", error: plan.error }, varz);
    }
    writeFilesAtomically(d.dir, plan.write);
    if (plan.action === "restart-needed") {
      d.log.warn("restart needed", { object: d.name, revision, reasons: plan.reasons });
      return record(o, { action: "restart-needed", reasons: plan.reasons }, varz);
    }
    const asked = performance.now();
    const outcome = await d.server.reload();
    const reloadMs = performance.now() - asked;
    if (outcome.ok) {
      lastGood = { ...lastGood, ...plan.write };
      d.log.info("nats-server reloaded", {
        object: d.name,
        revision,
        files: Object.keys(plan.write),
        configLoadTime: outcome.varz?.config_load_time,
      });
      return record(o, { action: "reloaded" }, { ...varz, ...outcome.varz }, reloadMs);
    }
    // Put the last good files back, so a restart does not pick up what nats-server refused.
    const restore: Record<string, string> = {};
    for (const k of Object.keys(plan.write)) if (lastGood[k] !== undefined) restore[k] = lastGood[k]!;
    writeFilesAtomically(d.dir, restore);
    d.log.error("nats-server refused the new config; kept the last good one", { object: d.name, revision, error: outcome.error });
    return record(o, { action: "failed", error: outcome.error ?? "reload failed" }, varz, reloadMs);
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
    d.reports.onMessage(reloaderRoutes.askSubject(d.cluster), () => lastReport && publish({ ...lastReport, at: new Date().toISOString() }));
  }
  const heartbeat = setInterval(() => lastReport && publish({ ...lastReport, at: new Date().toISOString() }), heartbeatMs);
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
