import { type EventNote, eventChange } from "../events.ts";
import { decodeBase64 } from "../operator/base64.ts";
import type { Change } from "../types.ts";
import { configRevisionAnnotation, type ReloadReport } from "./report.ts";

/** The ConfigMap or Secret a watch-mode reloader follows. */
export interface ConfigObject {
  kind: "ConfigMap" | "Secret";
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** The object's keys as files (a Secret's values decoded). */
export function filesOf(o: Pick<ConfigObject, "kind" | "data">): Record<string, string> {
  return Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, o.kind === "Secret" ? decodeBase64(v) : v]));
}

/** What nats-server's /varz said, as far as a report needs it. */
export interface ServerFacts {
  server_name?: string;
  version?: string;
  config_load_time?: string;
  config_digest?: string;
}

/** What happened to one version of the config object. */
export type ReloadStep =
  | { action: "in-sync" | "reloaded" }
  | { action: "refused" | "failed"; error: string }
  | { action: "restart-needed"; reasons: string[] };

export interface StepContext {
  cluster: string;
  pod: string;
  object: ConfigObject;
  server: ServerFacts;
  now: string;
}

/** The report a reloader publishes for a step, and the Event it leaves on the object when it went wrong. */
export function reportStep(step: ReloadStep, x: StepContext): { report: ReloadReport; changes: Change[] } {
  const m = x.object.metadata;
  const report: ReloadReport = {
    cluster: x.cluster,
    pod: x.pod,
    server: x.server.server_name,
    version: x.server.version,
    revision: m.resourceVersion,
    configRevision: m.annotations?.[configRevisionAnnotation] ?? m.resourceVersion,
    action: step.action,
    ok: step.action === "in-sync" || step.action === "reloaded",
    at: x.now,
  };
  let note: EventNote | undefined;
  if (!("error" in step) && !("reasons" in step)) {
    Object.assign(report, { configLoadTime: x.server.config_load_time, configDigest: x.server.config_digest });
  } else if ("reasons" in step) {
    report.error = `config written, but nats-server cannot reload it: ${step.reasons.join("; ")}; restart the server to apply it`;
    report.reasons = step.reasons;
    note = { type: "Warning", reason: "RestartNeeded", message: report.error };
  } else {
    report.error = step.error;
    note =
      step.action === "refused"
        ? { type: "Warning", reason: "ConfigRefused", message: step.error }
        : { type: "Warning", reason: "ReloadFailed", message: `${step.error}; the last good config stays in place` };
  }
  const about = { apiVersion: "v1", kind: x.object.kind, metadata: m };
  const changes = note
    ? [eventChange(about, { ...note, message: `${x.pod}: ${note.message}` }, { component: "satellite-reloader", instance: x.pod }, x.now)]
    : [];
  return { report, changes };
}
