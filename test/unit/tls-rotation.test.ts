// A renewed certificate reaches the servers as a config change: the config Secret carries each TLS
// Secret's files under names made from their content, so a renewal changes nats.conf, which the
// reloaders (sidecar) or the operator (operator mode) reload, with no pod replaced.
import { describe, expect, it } from "vitest";
import { decodeBase64 } from "../../handlers/operator/base64.ts";
import type { NatsClusterSpec } from "../../handlers/operator/natscluster.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import type { Secret } from "../../handlers/types.ts";
import { natsCluster, runningPod, secret, summary, view } from "./operator-fixtures.ts";

const tls = (serial: string) =>
  secret("tls", {
    "ca.pem": "CA",
    "server.pem": `CERT ${serial}`,
    "server-key.pem": `KEY ${serial}`,
    "route.pem": "R",
    "route-key.pem": "RK",
  });
const spec: NatsClusterSpec = { size: 2, tls: { serverSecret: "tls", routesSecret: "tls" } };

/** The cluster converged on `secrets`, as the API server would hold it. */
function converged(s: NatsClusterSpec, secrets: Record<string, Secret>) {
  const c = natsCluster(s);
  const first = reconcileCluster(view(c, { secrets }));
  const created = (kind: string) => first.changes.filter((x) => x.op === "create" && x.kind === kind).map((x) => (x as any).object);
  return {
    c,
    v: view(c, {
      secrets,
      pods: [1, 2].map((i) => runningPod(c, i)),
      services: created("Service"),
      configSecret: created("Secret")[0],
      routesConfigMap: created("ConfigMap")[0],
    }),
  };
}
const texts = (s: Secret) => Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decodeBase64(v)]));
const tlsKeys = (s: Secret) =>
  Object.keys(s.data ?? {})
    .filter((k) => k.startsWith("tls-"))
    .sort();

describe("certificate rotation", () => {
  it("sidecar mode: the files ride in the config Secret; a renewal is new names in nats.conf, old files dropped, an Event, no pod replaced", () => {
    const { v } = converged({ ...spec, pod: { enableConfigReload: true } }, { tls: tls("1") });
    const before = texts(v.configSecret!);
    const serverKeys = tlsKeys(v.configSecret!).filter((k) => k.startsWith("tls-server-"));
    expect(serverKeys).toHaveLength(3);
    expect(before["nats.conf"]).toContain(`cert_file: "/etc/nats-config/${serverKeys.find((k) => k.endsWith("-cert.pem"))}"`);
    expect(before[serverKeys.find((k) => k.endsWith("-cert.pem"))!]).toBe("CERT 1");
    const podsAndSecrets = (r: ReturnType<typeof reconcileCluster>) => summary(r).filter((x) => / (Pod|Secret) /.test(x));
    expect(podsAndSecrets(reconcileCluster(v))).toEqual([]);

    const r = reconcileCluster({ ...v, secrets: { tls: tls("2") } });
    expect(podsAndSecrets(r)).toEqual(["replace Secret demo"]);
    const after = (r.changes.find((x) => x.op === "replace" && x.kind === "Secret") as { object: Secret }).object;
    const renewed = tlsKeys(after).filter((k) => k.startsWith("tls-server-"));
    expect(renewed.some((k) => serverKeys.includes(k))).toBe(false);
    expect(tlsKeys(after).filter((k) => k.startsWith("tls-routes-"))).toEqual(
      tlsKeys(v.configSecret!).filter((k) => k.startsWith("tls-routes-")),
    );
    expect(texts(after)[renewed.find((k) => k.endsWith("-cert.pem"))!]).toBe("CERT 2");
    expect(r.events).toContainEqual({
      type: "Normal",
      reason: "CertificatesChanged",
      message: 'new TLS files from spec.tls.serverSecret "tls": each server\'s reloader reloads it, no restart',
    });
  });

  it("operator mode: the last good config's files stay until every server runs the new ones (for a rollback)", () => {
    const { v } = converged({ ...spec, configReload: { mode: "operator" } }, { tls: tls("1") });
    const old = tlsKeys(v.configSecret!);
    const r = reconcileCluster({ ...v, secrets: { tls: tls("2") } });
    const secretNow = (r.changes.find((x) => x.op === "replace" && x.kind === "Secret") as { object: Secret }).object;
    const both = tlsKeys(secretNow);
    expect(both).toEqual(expect.arrayContaining(old));
    expect(both.length).toBe(old.length + 3);
    expect(r.events.map((e) => e.reason)).toContain("CertificatesChanged");
  });

  it("without a reload mode the servers read each TLS Secret's own mount, as before", () => {
    const { v } = converged(spec, { tls: tls("1") });
    expect(tlsKeys(v.configSecret!)).toEqual([]);
    expect(texts(v.configSecret!)["nats.conf"]).toContain('cert_file: "/etc/nats-server-tls-certs/server.pem"');
  });

  it("a routes CA swapped in one step is refused (servers moved one at a time could not route); a bundle with both CAs is served", () => {
    const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
    const routes = (ca: string, serial: string) =>
      secret("rt", {
        "ca.pem": ca,
        "route.pem": `R ${serial}`,
        "route-key.pem": `RK ${serial}`,
        "server.pem": "S",
        "server-key.pem": "SK",
      });
    const s: NatsClusterSpec = { size: 2, tls: { routesSecret: "rt" }, pod: { enableConfigReload: true } };
    const { v } = converged(s, { rt: routes(pem("OLD"), "1") });
    const swapped = reconcileCluster({ ...v, secrets: { rt: routes(pem("NEW"), "2") } });
    expect(swapped.changes).toEqual([]);
    expect(swapped.status.conditions?.find((c) => c.type === "Degraded")?.message).toContain(
      'spec.tls.routesSecret "rt": its CA (ca.pem) no longer holds the CA the servers trust now',
    );
    const bundled = reconcileCluster({ ...v, secrets: { rt: routes(pem("NEW") + pem("OLD"), "2") } });
    expect(summary(bundled).filter((x) => / (Pod|Secret) /.test(x))).toEqual(["replace Secret demo"]);
  });
});
