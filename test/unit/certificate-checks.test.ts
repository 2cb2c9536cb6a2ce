// Renewed TLS files the servers' peers or clients would refuse (another CA, a key that is not the
// certificate's, outside its validity) are refused before any server reloads them. The facts are
// what the runtime reads in the files (runtime/certificate-facts.ts); here they are given.
import { describe, expect, it } from "vitest";
import { type CertificateFacts, certificateFilesIn } from "../../handlers/operator/certificate-checks.ts";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import type { ClusterView } from "../../handlers/operator/phases/observe.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { tlsMaterial } from "../../handlers/operator/tls-material.ts";
import type { Secret } from "../../handlers/types.ts";
import { natsCluster, runningPod, secret, summary, view } from "./operator-fixtures.ts";

const files = (serial: string) => ({
  "ca.pem": "CA",
  "route.pem": `R ${serial}`,
  "route-key.pem": `RK ${serial}`,
  "server.pem": `S ${serial}`,
  "server-key.pem": `SK ${serial}`,
});
const spec: NatsClusterSpec = { size: 2, tls: { serverSecret: "tls", routesSecret: "tls" }, pod: { enableConfigReload: true } };
const good: CertificateFacts = {
  chains: true,
  keyMatches: true,
  notBefore: "2026-11-01T00:00:00.000Z",
  notAfter: "2027-01-01T00:00:00.000Z",
};

/** The stem (`tls-<port>-<hash>`) of each port's files made from `serial`. */
function stems(serial: string): Record<"server" | "routes", string> {
  const texts = { tls: files(serial) };
  const sets = certificateFilesIn(tlsMaterial(spec.tls, texts, "").files);
  const of = (port: string) => sets.find((s) => s.stem.startsWith(`tls-${port}-`))!.stem;
  return { server: of("server"), routes: of("routes") };
}

/** Converged on serial 1, whose files read as `running`; the Secret then holds serial 2, read as `renewed`. */
function renewal(renewed: Partial<Record<"server" | "routes", CertificateFacts>>, running: typeof renewed = {}): ClusterView {
  const c = natsCluster(spec);
  const secrets: Record<string, Secret> = { tls: secret("tls", files("1")) };
  const first = reconcileCluster(view(c, { secrets }));
  const created = (kind: string) => first.changes.filter((x) => x.op === "create" && x.kind === kind).map((x) => (x as any).object);
  const [old, next] = [stems("1"), stems("2")];
  const certificates: Record<string, CertificateFacts> = {
    [old.server]: running.server ?? good,
    [old.routes]: running.routes ?? good,
    [next.server]: renewed.server ?? good,
    [next.routes]: renewed.routes ?? good,
  };
  return view(c, {
    secrets: { tls: secret("tls", files("2")) },
    pods: [1, 2].map((i) => runningPod(c, i)),
    services: created("Service"),
    configSecret: created("Secret")[0],
    routesConfigMap: created("ConfigMap")[0],
    certificates,
  });
}
const degraded = (r: ReturnType<typeof reconcileCluster>) => r.status.conditions?.find((c) => c.type === "Degraded");
const served = (r: ReturnType<typeof reconcileCluster>) => summary(r).filter((x) => / (Pod|Secret) /.test(x));

describe("renewed certificates the servers must not reload", () => {
  it("a renewal from the same CA, key matching, is served", () => {
    expect(served(reconcileCluster(renewal({})))).toEqual(["replace Secret demo"]);
  });

  it("a route certificate another CA signed (ca.pem unchanged) is refused: no change, Degraded and a Warning naming the Secret", () => {
    const r = reconcileCluster(renewal({ routes: { ...good, chains: false } }));
    expect(r.changes).toEqual([]);
    expect(degraded(r)?.message).toBe(
      'spec.tls.routesSecret "tls": route.pem is not signed by any CA in ca.pem, so the servers\' peers would refuse it: the servers keep the files they run; put a certificate that CA issued (a new CA goes into ca.pem first, next to the old one)',
    );
    expect(r.events).toContainEqual({ type: "Warning", reason: "InvalidSpec", message: degraded(r)!.message });
    expect(r.requeueAfterMs).toBeUndefined();
  });

  it("a key that is not the certificate's is refused", () => {
    const r = reconcileCluster(renewal({ server: { ...good, keyMatches: false } }));
    expect(r.changes).toEqual([]);
    expect(degraded(r)?.message).toBe(
      'spec.tls.serverSecret "tls": server-key.pem does not match the certificate in server.pem: the servers keep the files they run',
    );
  });

  it("files that do not read are refused, each named", () => {
    const r = reconcileCluster(renewal({ routes: { unreadable: ["cert", "key"] } }));
    expect(r.changes).toEqual([]);
    expect(degraded(r)?.message).toContain('spec.tls.routesSecret "tls": route.pem holds no certificate that reads (PEM)');
    expect(degraded(r)?.message).toContain('spec.tls.routesSecret "tls": route-key.pem holds no private key that reads (PEM)');
  });

  it("a client certificate from another CA is refused where the one the servers run came from the CA in ca.pem", () => {
    const r = reconcileCluster(renewal({ server: { ...good, chains: false } }));
    expect(r.changes).toEqual([]);
    expect(degraded(r)?.message).toContain('spec.tls.serverSecret "tls": server.pem is not signed by any CA in ca.pem');
  });

  it("a client port whose CA never issued its certificate (a public certificate, ca.pem for client certificates) stays served", () => {
    const notOurs = { ...good, chains: false };
    expect(served(reconcileCluster(renewal({ server: notOurs }, { server: notOurs })))).toEqual(["replace Secret demo"]);
  });

  it("a new cluster: a public server certificate under a CA for client certificates is served; routes from another CA are refused", () => {
    const c = natsCluster(spec);
    const secrets = { tls: secret("tls", files("1")) };
    const first = stems("1");
    const notOurs = { ...good, chains: false };
    const clientOnly = reconcileCluster(view(c, { secrets, certificates: { [first.server]: notOurs, [first.routes]: good } }));
    expect(degraded(clientOnly)?.status).not.toBe("True");
    expect(served(clientOnly)).toContain("create Secret demo");
    const routes = reconcileCluster(view(c, { secrets, certificates: { [first.server]: good, [first.routes]: notOurs } }));
    expect(degraded(routes)?.message).toContain('spec.tls.routesSecret "tls": route.pem is not signed by any CA in ca.pem');
    expect(served(routes)).toEqual([]);
  });

  it("routes have no such exception: their CA verifies the servers' own certificates", () => {
    const notOurs = { ...good, chains: false };
    expect(reconcileCluster(renewal({ routes: notOurs }, { routes: notOurs })).changes).toEqual([]);
  });

  it("an expired certificate is refused; one not valid yet is refused until it is, then looked at again (the fixtures' now: 2026-11-21T12:00:00Z)", () => {
    const expired = reconcileCluster(renewal({ routes: { ...good, notAfter: "2026-11-20T00:00:00.000Z" } }));
    expect(degraded(expired)?.message).toBe(
      'spec.tls.routesSecret "tls": the certificate in route.pem expired at 2026-11-20T00:00:00.000Z: the servers keep the files they run',
    );
    const early = reconcileCluster(renewal({ server: { ...good, notBefore: "2026-11-21T12:00:30.000Z" } }));
    expect(early.changes).toEqual([]);
    expect(degraded(early)?.message).toContain("is not valid before 2026-11-21T12:00:30.000Z");
    expect(early.requeueAfterMs).toBe(30_000);
  });

  it("what the servers already run is never refused (a certificate that expired while served stops nothing)", () => {
    const v = renewal({}, { routes: { ...good, notAfter: "2026-11-20T00:00:00.000Z", chains: false } });
    const same = { ...v, secrets: { tls: secret("tls", files("1")) } };
    const r = reconcileCluster(same);
    expect(degraded(r)?.status).not.toBe("True");
    expect(served(r)).toEqual([]);
  });

  it("it heals: the Secret fixed, the renewal is served", () => {
    const bad = renewal({ routes: { ...good, chains: false } });
    expect(reconcileCluster(bad).changes).toEqual([]);
    const fixed = { ...bad, certificates: { ...bad.certificates, [stems("2").routes]: good } };
    expect(served(reconcileCluster(fixed))).toEqual(["replace Secret demo"]);
  });

  it("without facts (a runtime that cannot read certificates) renewals are served unchecked", () => {
    const v = renewal({ routes: { ...good, chains: false } });
    const { certificates: _, ...unchecked } = v;
    expect(served(reconcileCluster(unchecked))).toEqual(["replace Secret demo"]);
  });
});
