// nats-operator v0.8.3's own example manifests (its module's example/, fetched by the test bed),
// as its users apply them: each NatsCluster server-side applied to satellite's CRD with strict
// field validation (what kubectl does), then reconciled as stored, with the Secrets it names
// present. Each is served, refused with a condition that names the field, or rejected by the
// schema: none is accepted and silently ignored. docs/nats-operator.md's table says the same (checked here).

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { NatsCluster } from "../../handlers/operator/natscluster.ts";
import { tlsFiles } from "../../handlers/operator/natscluster.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { referencedSecrets } from "../../handlers/operator/validate.ts";
import { binaries } from "../harness/binaries.ts";
import { useKube } from "../harness/index.ts";
import { secret, view } from "../unit/operator-fixtures.ts";

const kube = useKube();
let ns: string;
beforeAll(async () => {
  await kube.installCrd();
  ns = await kube.createNamespace("nats-operator-examples");
});
afterAll(() => kube.close());

/** What happens to each example's NatsCluster under satellite. */
const expected: Record<string, RegExp> = {
  // Served with its version raised, roles and ServiceAccounts too: nats-operator-service-account-examples.test.ts.
  "example-cluster-service-accounts.yaml":
    /^refused: spec\.version 1\.2\.0 is nats-server 1\.x \(gnatsd\), which satellite does not run: the minimum is 2\.0\.0; set spec\.version to 2\.1\.9 or later \(nats-operator's default was 2\.1\.9; the newest is best\)$/,
  "example-custom-cipher.yaml": /^refused: spec\.tls\.cipherSuites has "ASDF", [^;]*; spec\.tls\.curvePreferences has "FOO", [^;]*$/,
  "example-nats-cluster-auth.yaml":
    /^refused: spec\.pod\.reloaderImage "connecteverything\/nats-server-config-reloader" is nats-operator's config reloader.*; spec\.version 1\.3\.0 is nats-server 1\.x/,
  "example-nats-cluster-authfile.yaml":
    /^refused: spec\.auth\.clientsAuthFile [^;]*; put the same JSON in a Secret and name it in spec\.auth\.clientsAuthSecret; spec\.version 1\.4\.1 is nats-server 1\.x/,
  "example-nats-cluster-gateway.yaml": /^served$/,
  "example-nats-cluster-metrics.yaml":
    /^refused: spec\.version 1\.4\.1 is nats-server 1\.x \(gnatsd\), which satellite does not run: the minimum is 2\.0\.0; set spec\.version to 2\.1\.9 or later \(nats-operator's default was 2\.1\.9; the newest is best\)$/,
  "example-nats-cluster-tls.yaml":
    /^refused: spec\.version 1\.3\.0 is nats-server 1\.x \(gnatsd\), which satellite does not run: the minimum is 2\.0\.0; set spec\.version to 2\.1\.9 or later \(nats-operator's default was 2\.1\.9; the newest is best\)$/,
  "example-nats-cluster.yaml": /^served$/,
  // nats-operator spells it write_deadline, so it ignored this example's writeDeadline.
  "example-nats-custom-config.yaml": /^rejected by the schema: .*\.spec\.natsConfig\.writeDeadline: field not declared in schema$/,
  // Its label value "has great scooters" is one the API server refuses (under nats-operator too).
  "example-service-annotations.yaml":
    /^refused: spec\.managementServicePolicy\.labels\.spin is "has great scooters", which Kubernetes refuses as a label value: .*\(put free text in an annotation\)$/,
  "example-super-cluster.yaml":
    // Its operatorConfig is served, but the example's Secret and system account are placeholders.
    /^refused: spec\.operatorConfig\.secret: secret "operator-jwt" has no key "op\.jwt"[^;]*; spec\.operatorConfig\.systemAccount "AASYS\.\.\." is not an account public key [^;]*$/,
  // With its roles and ServiceAccounts, under the cluster-wide operator: nats-operator-service-account-examples.test.ts.
  "example-svc-accounts-diff-namespaces.yaml": /^served$/,
  "example-with-server-name.yaml":
    /^refused: spec\.template\.spec\.containers\[nats\]\.env\[SERVER_NAME\]: [^;]*; spec\.template\.spec\.containers\[nats\]\.lifecycle\.preStop\.exec\.command: the template says \["preStop\.sh"\], satellite sets .*$/,
  "leafnode-remotes-gateways.yaml": /^served$/,
  "websocket.yaml": /^served$/,
};

/** The Secrets `c` names, with every key its fields ask for (file names, the auth JSON, credentials). */
function secretsFor(c: NatsCluster) {
  const keys = new Set(["clients-auth.json", "user.creds"]);
  for (const f of Object.values(tlsFiles(c.spec?.tls))) for (const k of [f.ca, f.cert, f.key]) keys.add(k);
  for (const r of c.spec?.leafnodeConfig?.remotes ?? []) if (r.credentialsSecret?.key) keys.add(r.credentialsSecret.key);
  const data = (k: string) => (k === "clients-auth.json" ? JSON.stringify({ users: [{ username: "a", password: "b" }] }) : "x");
  return Object.fromEntries(referencedSecrets(c).map((n) => [n, secret(n, Object.fromEntries([...keys].map((k) => [k, data(k)])))]));
}

async function outcome(doc: NatsCluster): Promise<string> {
  let stored: NatsCluster;
  try {
    [stored] = await kube.apply([{ ...doc, metadata: { ...doc.metadata, namespace: ns } }]);
  } catch (e) {
    return `rejected by the schema: ${(e as Error).message}`;
  }
  const r = reconcileCluster(view(stored, { secrets: secretsFor(stored) }));
  const degraded = r.status.conditions?.find((c) => c.type === "Degraded");
  if (degraded?.status === "True") return `refused: ${degraded.message}`;
  return r.changes.some((c) => c.op === "create" && c.kind === "Pod")
    ? "served"
    : `neither served nor refused: ${JSON.stringify(r.status)}`;
}

describe("nats-operator v0.8.3's example manifests under satellite", () => {
  const dir = () => binaries().NATS_OPERATOR_EXAMPLES;

  it("the test bed has all of them (and no new one went unlisted)", () => {
    const files = readdirSync(dir()).filter((f) => f.endsWith(".yaml") && !f.startsWith("nats-operator-cluster-scoped"));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  it("docs/nats-operator.md's table (example, what was checked, result) says the same of each: served, refused, or rejected by the schema", () => {
    const rows = readFileSync(new URL("../../docs/nats-operator.md", import.meta.url), "utf8")
      .split("\n")
      .filter((l) => /^\| `[\w.-]+\.yaml`/.test(l))
      .map((l) => l.split("|").map((c) => c.trim()));
    const said = Object.fromEntries(
      rows.flatMap(([, files, , outcome]) => [...files!.matchAll(/`([\w.-]+\.yaml)`/g)].map((m) => [m[1]!, outcome!])),
    );
    const kind = (s: string) => /^\^?(served|refused|rejected by the schema)/.exec(s)?.[1];
    expect(Object.keys(said).sort()).toEqual(Object.keys(expected).sort());
    for (const [file, re] of Object.entries(expected)) expect(kind(said[file]!), file).toBe(kind(re.source));
  });

  it.each(Object.keys(expected))("%s", async (file) => {
    const docs = parseAllDocuments(readFileSync(join(dir(), file), "utf8"))
      .map((d) => d.toJS())
      .filter((o) => o?.kind === "NatsCluster") as NatsCluster[];
    expect(docs).toHaveLength(1);
    expect(await outcome(docs[0]!)).toMatch(expected[file]!);
  });
});
