// nats-operator's spec.template: a pod template satellite lays its own pod over. Its first
// container is the nats container (as in nats-operator), whatever its name. Lists of named things
// (containers, volumes, env, mounts, ports …) merge by name; anything else both set must agree:
// a value the template and satellite both set differently is a conflict, refused, never one side
// silently dropped.
import type { PodTemplate } from "./desired-pod.ts";

const namedLists = new Set([
  "containers",
  "initContainers",
  "ephemeralContainers",
  "volumes",
  "env",
  "volumeMounts",
  "volumeDevices",
  "ports",
  "imagePullSecrets",
  "resourceClaims",
]);
/** Set per pod by satellite (desiredPod), so a template's would be lost. */
const perPod = ["hostname", "nodeName"];

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === "object" && v !== null && !Array.isArray(v);
const short = (v: Json) => {
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}…` : s;
};

function merge(theirs: Json, ours: Json, path: string, conflicts: string[]): Json {
  if (ours === undefined) return theirs;
  if (theirs === undefined) return ours;
  if (isObject(theirs) && isObject(ours)) {
    const keys = [...new Set([...Object.keys(ours), ...Object.keys(theirs)])];
    return Object.fromEntries(keys.map((k) => [k, merge(theirs[k], ours[k], `${path}.${k}`, conflicts)]));
  }
  const key = path.slice(path.lastIndexOf(".") + 1);
  if (Array.isArray(theirs) && Array.isArray(ours) && namedLists.has(key)) {
    const nameOf = (x: Json) => (isObject(x) ? x.name : undefined);
    const merged = ours.map((o) => {
      const twin = theirs.find((t) => nameOf(t) !== undefined && nameOf(t) === nameOf(o));
      return twin === undefined ? o : merge(twin, o, `${path}[${String(nameOf(o))}]`, conflicts);
    });
    return [...merged, ...theirs.filter((t) => !ours.some((o) => nameOf(o) === nameOf(t)))];
  }
  if (JSON.stringify(theirs) !== JSON.stringify(ours))
    conflicts.push(`${path}: the template says ${short(theirs)}, satellite sets ${short(ours)}`);
  return ours;
}

/** The pod template with `ours` laid over `template`, and every conflict between them. */
export function laidOverTemplate(template: Record<string, Json>, ours: PodTemplate): { merged: PodTemplate; conflicts: string[] } {
  const conflicts: string[] = [];
  const where = "spec.template";
  for (const k of Object.keys(template))
    if (k !== "metadata" && k !== "spec") conflicts.push(`${where}.${k} is not a field of a pod template (metadata, spec)`);
  const meta = isObject(template.metadata) ? template.metadata : {};
  for (const k of Object.keys(meta))
    if (k !== "labels" && k !== "annotations")
      conflicts.push(`${where}.metadata.${k}: satellite names the pods; give labels and annotations only`);
  const spec = isObject(template.spec) ? { ...template.spec } : {};
  for (const k of perPod) if (spec[k] !== undefined) conflicts.push(`${where}.spec.${k}: satellite sets it for each pod`);
  // nats-operator's rule: the first container is the NATS server's.
  const [first, ...others] = Array.isArray(spec.containers) ? spec.containers : [];
  if (isObject(first)) spec.containers = [{ ...first, name: "nats" }, ...others];
  const natsEnv = isObject(first) && Array.isArray(first.env) ? first.env : [];
  if (natsEnv.some((e) => isObject(e) && e.name === "SERVER_NAME") && !ours.spec.containers[0]?.env?.some((e) => e.name === "SERVER_NAME"))
    conflicts.push(
      `${where}.spec.containers[nats].env[SERVER_NAME]: satellite names each server by its pod (with -site, <site>-<namespace>-<pod>), so it would not name them: leave it out`,
    );
  const merged = {
    labels: merge(meta.labels, ours.labels, `${where}.metadata.labels`, conflicts) as PodTemplate["labels"],
    annotations: merge(meta.annotations, ours.annotations, `${where}.metadata.annotations`, conflicts) as PodTemplate["annotations"],
    spec: merge(spec, ours.spec, `${where}.spec`, conflicts) as PodTemplate["spec"],
  };
  return { merged, conflicts };
}
