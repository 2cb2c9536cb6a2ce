// A routes Secret renewed with a certificate the cluster's CA did not issue (ca.pem unchanged), or
// with a key that is not its certificate's, is refused before any server reloads it: the
// NatsCluster says why, the config Secret and the pods stay as they are, nothing is retried in a
// loop; the Secret fixed, the renewal rolls out. Real kube-apiserver, the operator's bundle, the
// fake kubelet; the reloader sidecar's mode (a renewal is a config Secret change, no pod changes).

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kinds } from "../../handlers/index.ts";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import { makeNatsTls, type NatsTls } from "../harness/certs.ts";
import { type Proc, useKube, waitFor } from "../harness/index.ts";
import { manifest } from "../harness/kube.ts";
import type { fakeKubelet } from "../harness/kubelet.ts";
import { startNamespacedOperator } from "../harness/satellite.ts";

const kube = useKube();
const name = "chain";
let ns: string;
let operator: Proc;
let kubelet: ReturnType<typeof fakeKubelet>;
let tls: NatsTls;

/** `--from-file=key=path` arguments as a Secret's data, only the keys named (all when none are). */
const dataOf = (fromFiles: string[], only?: string[]) =>
  Object.fromEntries(
    fromFiles
      .map((a) => a.replace("--from-file=", "").split("=") as [string, string])
      .filter(([key]) => !only || only.includes(key))
      .map(([key, path]) => [key, readFileSync(path).toString("base64")]),
  );
const writeRoutes = (data: Record<string, string>) => kube.admin.patch(kinds.Secret, { namespace: ns, name: `${name}-routes` }, { data });
const cluster = () => kube.admin.get(kinds.NatsCluster, { namespace: ns, name });
const degraded = async () => (await cluster()).status?.conditions?.find((c: any) => c.type === "Degraded" && c.status === "True");
const configData = async () => (await kube.admin.get(kinds.Secret, { namespace: ns, name })).data ?? {};
const pods = async () =>
  (await kube.admin.list(kinds.Pod, ns, { labelSelector: `nats_cluster=${name}` })).items
    .map((p: any) => `${p.metadata.name} ${p.metadata.uid} ${p.metadata.generation ?? ""}`)
    .sort();
const refusals = async () =>
  (await kube.admin.list(kinds.Event, ns, { fieldSelector: `involvedObject.name=${name},reason=InvalidSpec` })).items;

beforeAll(async () => {
  await kube.installCrd();
  ns = await kube.createNamespace("certs");
  await kube.apply(manifest("operator.yaml"), { namespace: ns });
  ({ operator, kubelet } = await startNamespacedOperator(kube, ns));
  tls = makeNatsTls(ns, name);
  for (const [secret, files] of [
    [`${name}-clients`, tls.clients],
    [`${name}-routes`, tls.routes],
  ] as const)
    await kube.admin.create(kinds.Secret, { metadata: { name: secret, namespace: ns }, data: dataOf(files) });
  await kube.apply(
    [
      {
        apiVersion: "nats.io/v1alpha2",
        kind: "NatsCluster",
        metadata: { name },
        spec: {
          size: 3,
          pod: { enableConfigReload: true },
          tls: { serverSecret: `${name}-clients`, routesSecret: `${name}-routes` },
        },
      },
    ],
    { namespace: ns },
  );
  await waitFor("the cluster ready 3/3", async () => (await cluster()).status?.readyReplicas === 3, 30_000);
});

afterAll(async () => {
  await kubelet?.stop();
  await operator?.stop();
  kube.close();
});

describe("renewed route certificates the cluster's CA did not issue", () => {
  it("a route certificate from another CA, ca.pem unchanged: refused, the config Secret and pods unchanged, once", async () => {
    const [config, running] = [await configData(), await pods()];
    await writeRoutes(dataOf(tls.renew(true).routes, ["route.pem", "route-key.pem"]));
    const refused = await waitFor("Degraded", degraded, 20_000);
    expect(refused.message).toContain(
      `spec.tls.routesSecret "${name}-routes": route.pem is not signed by any CA in ca.pem, so the servers' peers would refuse it: the servers keep the files they run`,
    );
    await waitFor("the InvalidSpec Event", async () => (await refusals()).length > 0);
    // Nothing is retried in a loop: no second Event, no failed reconcile.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await refusals()).map((e: any) => [e.type, e.count ?? 1, e.message])).toEqual([["Warning", 1, refused.message]]);
    expect(operator.log()).not.toMatch(/reconcile failed/);
    expect(await configData()).toEqual(config);
    expect(await pods()).toEqual(running);
  });

  it("a certificate from the cluster's CA with a key that is not its own: refused", async () => {
    const [config, running] = [await configData(), await pods()];
    const renewed = tls.renew();
    await writeRoutes({ ...dataOf(renewed.routes, ["route.pem"]), ...dataOf(tls.routes, ["route-key.pem"]) });
    await waitFor("Degraded for the key", async () => (await degraded())?.message?.includes("route-key.pem does not match"));
    expect((await degraded())!.message).toBe(
      `spec.tls.routesSecret "${name}-routes": route-key.pem does not match the certificate in route.pem: the servers keep the files they run`,
    );
    expect(await configData()).toEqual(config);
    expect(await pods()).toEqual(running);
  });

  it("the Secret fixed (a renewal from the cluster's CA), the new files roll out with no pod replaced", async () => {
    const [config, running] = [await configData(), await pods()];
    const renewed = tls.renew();
    const routeCert = readFileSync(renewed.routes.find((a) => a.includes("route.pem="))!.split("=")[2]!, "utf8");
    await writeRoutes(dataOf(renewed.routes));
    await waitFor("the renewed route certificate in the config Secret", async () =>
      Object.entries(await configData()).some(([k, v]) => /^tls-routes-.*-cert\.pem$/.test(k) && decodeBase64(v) === routeCert),
    );
    await waitFor("Degraded gone", async () => !(await degraded()));
    const now = await configData();
    expect(decodeBase64(now["nats.conf"]!)).not.toEqual(decodeBase64(config["nats.conf"]!));
    expect(await pods()).toEqual(running);
  });
});
