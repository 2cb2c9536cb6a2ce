import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCerts {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
}

const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A throw-away CA, an API server certificate for 127.0.0.1, an admin client certificate and a service-account key. */
export function makeCerts(dir: string): TestCerts {
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  ssl("req", "-x509", ...ec, "-keyout", p("ca.key"), "-out", p("ca.crt"), "-days", "7", "-subj", "/CN=satellite-test-ca");
  const leaf = (name: string, subj: string, ext: string) => {
    writeFileSync(p(`${name}.ext`), ext);
    ssl("req", ...ec, "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`), "-subj", subj);
    ssl(
      "x509",
      "-req",
      "-in",
      p(`${name}.csr`),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "7",
      "-out",
      p(`${name}.crt`),
      "-extfile",
      p(`${name}.ext`),
    );
  };
  leaf("server", "/CN=kube-apiserver", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  leaf("admin", "/O=system:masters/CN=satellite-admin", "extendedKeyUsage=clientAuth\n");
  ssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", p("sa.key"));
  ssl("pkey", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub"));
  return {
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    serverCert: p("server.crt"),
    serverKey: p("server.key"),
    adminCert: p("admin.crt"),
    adminKey: p("admin.key"),
    saKey: p("sa.key"),
    saPub: p("sa.pub"),
  };
}

/** A NatsCluster's TLS Secrets as `kubectl create secret generic` arguments, and their leaf certificates' serials. */
export interface NatsTls {
  clients: string[];
  routes: string[];
  /** Hex, as a TLS handshake reports it (upper case, no leading zeros). */
  serials: { server: string; route: string };
  /** New leaf certificates (new keys, new serials) from the same CA, or with `otherCa` from a new one. */
  renew(otherCa?: boolean): NatsTls;
}

/**
 * The seed's two TLS Secrets for a NatsCluster, as files: a CA, a client-facing server certificate
 * and a route certificate valid for every `<pod>.<cluster>-mgmt.<namespace>.svc`.
 */
export function makeNatsTls(namespace: string, cluster: string, caDir?: string): NatsTls {
  const dir = mkdtempSync(join(tmpdir(), "satellite-nats-tls-"));
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] }).toString();
  if (caDir) for (const f of ["ca.pem", "ca-key.pem"]) copyFileSync(join(caDir, f), p(f));
  else ssl("req", "-x509", ...ec, "-keyout", p("ca-key.pem"), "-out", p("ca.pem"), "-days", "7", "-subj", "/CN=satellite-test-nats-ca");
  const svc = `${namespace}.svc`;
  const names = [
    `${cluster}`,
    `${cluster}.${namespace}`,
    `${cluster}.${svc}`,
    `*.${cluster}-mgmt.${svc}`,
    `*.${cluster}-mgmt.${svc}.cluster.local`,
    "localhost",
  ];
  const san = `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n`;
  const serials = { server: "", route: "" };
  for (const leaf of ["server", "route"] as const) {
    writeFileSync(p(`${leaf}.ext`), san);
    ssl("req", ...ec, "-keyout", p(`${leaf}-key.pem`), "-out", p(`${leaf}.csr`), "-subj", `/CN=${cluster}-${leaf}`);
    // A positive serial without a leading zero byte, so the handshake reports these very digits.
    const bytes = randomBytes(8);
    bytes[0] = (bytes[0]! & 0x7f) | 0x10;
    const serial = bytes.toString("hex").toUpperCase();
    ssl(
      "x509",
      "-req",
      "-in",
      p(`${leaf}.csr`),
      "-CA",
      p("ca.pem"),
      "-CAkey",
      p("ca-key.pem"),
      "-set_serial",
      `0x${serial}`,
      "-days",
      "7",
      "-out",
      p(`${leaf}.pem`),
      "-extfile",
      p(`${leaf}.ext`),
    );
    serials[leaf] = serial;
  }
  const from = (...files: string[]) => files.map((f) => `--from-file=${f}=${p(f)}`);
  return {
    clients: from("ca.pem", "server.pem", "server-key.pem"),
    routes: from("ca.pem", "route.pem", "route-key.pem"),
    serials,
    renew: (otherCa = false) => makeNatsTls(namespace, cluster, otherCa ? undefined : dir),
  };
}
