import type { NatsCluster } from "./natscluster.ts";

// Kubernetes' rules for label and annotation keys and label values (apimachinery's
// IsQualifiedName and IsValidLabelValue): what the API server would refuse on the objects.
const name63 = /^(?=.{1,63}$)[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const dnsSubdomain = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(?=.{0,63}$)(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function keyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && !dnsSubdomain.test(prefix)) return "its prefix must be a DNS subdomain (lower case, at most 253 characters)";
  if (!name63.test(name)) return "its name must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

/** Where a NatsCluster's labels and annotations go onto the pods and Services satellite makes. */
function metadataFields(c: NatsCluster): [string, Record<string, string> | undefined, "labels" | "annotations"][] {
  const s = c.spec ?? {};
  const template = (s.template as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } } | undefined)
    ?.metadata;
  return [
    ["spec.pod.labels", s.pod?.labels, "labels"],
    ["spec.pod.annotations", s.pod?.annotations, "annotations"],
    ["spec.servicePolicy.labels", s.servicePolicy?.labels, "labels"],
    ["spec.servicePolicy.annotations", s.servicePolicy?.annotations, "annotations"],
    ["spec.managementServicePolicy.labels", s.managementServicePolicy?.labels, "labels"],
    ["spec.managementServicePolicy.annotations", s.managementServicePolicy?.annotations, "annotations"],
    ["spec.template.metadata.labels", template?.labels, "labels"],
    ["spec.template.metadata.annotations", template?.annotations, "annotations"],
  ];
}

/** Labels and annotations the API server would refuse on satellite's objects, as sentences, before any is made. */
export function metadataProblems(c: NatsCluster): string[] {
  const problems: string[] = [];
  for (const [field, entries, kind] of metadataFields(c))
    for (const [key, value] of Object.entries(entries ?? {})) {
      const bad = keyProblem(key);
      if (bad) problems.push(`${field} has the key ${JSON.stringify(key)}, which Kubernetes refuses: ${bad}`);
      if (kind === "labels" && !labelValue.test(String(value)))
        problems.push(
          `${field}.${key} is ${JSON.stringify(value)}, which Kubernetes refuses as a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (put free text in an annotation)`,
        );
    }
  return problems;
}
