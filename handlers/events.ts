import type { Change } from "./types.ts";

export interface EventNote {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

/** The object an Event is about. */
export interface Involved {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** Who records the Event: a component ("satellite", "satellite-reloader") and its instance. */
export interface Reporter {
  component: string;
  instance: string;
}

/** A Kubernetes Event about `about`, as `kubectl describe` and `kubectl get events` show it. */
export function eventChange(about: Involved, note: EventNote, by: Reporter, now: string): Change {
  const m = about.metadata ?? {};
  return {
    op: "create",
    kind: "Event",
    object: {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${m.name}.`, namespace: m.namespace },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
      type: note.type,
      reason: note.reason,
      message: note.message,
      source: { component: by.component },
      reportingComponent: by.component,
      reportingInstance: by.instance,
      // Timestamps are RFC 3339 strings on the wire; the generated type says Date.
      firstTimestamp: now as unknown as Date,
      lastTimestamp: now as unknown as Date,
      count: 1,
    },
  };
}
