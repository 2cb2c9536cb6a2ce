// What the runtime reads in TLS files for the operator's certificate checks, with real
// certificates made by openssl: same CA or another, key or not, CA bundles, intermediates, RSA and
// ECDSA; and the same answers from Deno's node:crypto as from Node's.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { CertificateFiles } from "../../handlers/index.ts";
import { certificateReader, certificatesUnreadable, readCertificates } from "../../runtime/certificate-facts.ts";
import { createLogger } from "../../runtime/log.ts";

const dir = mkdtempSync(join(tmpdir(), "satellite-cert-facts-"));
const p = (f: string) => join(dir, f);
const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
const rsa = ["-newkey", "rsa:2048", "-nodes"];
const pem = (name: string) => readFileSync(p(`${name}.pem`), "utf8");

function ca(name: string, key = ec) {
  ssl("req", "-x509", ...key, "-keyout", p(`${name}-key.pem`), "-out", p(`${name}.pem`), "-days", "7", "-subj", `/CN=${name}`);
}
function issue(name: string, by: string, opts: { key?: string[]; ext?: string } = {}) {
  writeFileSync(p(`${name}.ext`), opts.ext ?? "extendedKeyUsage=serverAuth,clientAuth\n");
  ssl("req", ...(opts.key ?? ec), "-keyout", p(`${name}-key.pem`), "-out", p(`${name}.csr`), "-subj", `/CN=${name}`);
  const signer = ["-CA", p(`${by}.pem`), "-CAkey", p(`${by}-key.pem`), "-CAcreateserial"];
  ssl("x509", "-req", "-in", p(`${name}.csr`), ...signer, "-days", "7", "-out", p(`${name}.pem`), "-extfile", p(`${name}.ext`));
}

let cases: Record<string, CertificateFiles>;
beforeAll(() => {
  ca("ca-a");
  ca("ca-b");
  ca("ca-rsa", rsa);
  issue("int-a", "ca-a", { ext: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n" });
  issue("leaf-a1", "ca-a");
  issue("leaf-a2", "ca-a");
  issue("leaf-b", "ca-b");
  issue("leaf-rsa", "ca-rsa", { key: rsa });
  issue("leaf-int", "int-a");
  const set = (stem: string, caPem: string, cert: string, key: string): CertificateFiles => ({ stem, ca: caPem, cert, key });
  cases = {
    sameCa: set("s1", pem("ca-a"), pem("leaf-a1"), pem("leaf-a1-key")),
    renewedSameCa: set("s2", pem("ca-a"), pem("leaf-a2"), pem("leaf-a2-key")),
    otherCa: set("s3", pem("ca-a"), pem("leaf-b"), pem("leaf-b-key")),
    keyMismatch: set("s4", pem("ca-a"), pem("leaf-a2"), pem("leaf-a1-key")),
    bundleFirst: set("s5", pem("ca-a") + pem("ca-b"), pem("leaf-b"), pem("leaf-b-key")),
    bundleSecond: set("s6", pem("ca-b") + pem("ca-a"), pem("leaf-a1"), pem("leaf-a1-key")),
    rsa: set("s7", pem("ca-rsa"), pem("leaf-rsa"), pem("leaf-rsa-key")),
    rsaKeyOnEcCert: set("s8", pem("ca-a"), pem("leaf-a1"), pem("leaf-rsa-key")),
    intermediate: set("s9", pem("ca-a"), pem("leaf-int") + pem("int-a"), pem("leaf-int-key")),
    intermediateMissing: set("s10", pem("ca-a"), pem("leaf-int"), pem("leaf-int-key")),
    intermediateOtherCa: set("s11", pem("ca-b"), pem("leaf-int") + pem("int-a"), pem("leaf-int-key")),
    intermediateInCa: set("s12", pem("int-a"), pem("leaf-int"), pem("leaf-int-key")),
    unreadable: set("s13", "not a CA", pem("leaf-a1"), "not a key"),
  };
}, 60_000);

describe("reading TLS files (runtime/certificate-facts.ts)", () => {
  it("this Node reads certificates", () => {
    expect(certificatesUnreadable()).toBeUndefined();
  });

  it("a renewal from the same CA chains, its key matches, its validity is read", () => {
    for (const c of [cases.sameCa!, cases.renewedSameCa!]) expect(readCertificates(c)).toMatchObject({ chains: true, keyMatches: true });
    const f = readCertificates(cases.sameCa!);
    expect(Date.parse(f.notAfter!) - Date.parse(f.notBefore!)).toBe(7 * 86_400_000);
  });

  it("a certificate from another CA (ca unchanged) does not chain; a key that is not the certificate's does not match", () => {
    expect(readCertificates(cases.otherCa!)).toMatchObject({ chains: false, keyMatches: true });
    expect(readCertificates(cases.keyMismatch!)).toMatchObject({ chains: true, keyMatches: false });
    expect(readCertificates(cases.rsaKeyOnEcCert!)).toMatchObject({ chains: true, keyMatches: false });
  });

  it("any CA of a bundle may have issued it; RSA as ECDSA", () => {
    expect(readCertificates(cases.bundleFirst!)).toMatchObject({ chains: true });
    expect(readCertificates(cases.bundleSecond!)).toMatchObject({ chains: true });
    expect(readCertificates(cases.rsa!)).toMatchObject({ chains: true, keyMatches: true });
  });

  it("a leaf chains through the intermediates after it in the cert file, to a CA of ca (which may itself be an intermediate)", () => {
    expect(readCertificates(cases.intermediate!)).toMatchObject({ chains: true, keyMatches: true });
    expect(readCertificates(cases.intermediateMissing!)).toMatchObject({ chains: false });
    expect(readCertificates(cases.intermediateOtherCa!)).toMatchObject({ chains: false });
    expect(readCertificates(cases.intermediateInCa!)).toMatchObject({ chains: true });
  });

  it("files that do not read are named", () => {
    expect(readCertificates(cases.unreadable!)).toEqual({ unreadable: ["ca", "key"] });
  });

  it("the reader reads each stem once", () => {
    const read = certificateReader(createLogger({ write: () => {} }));
    const first = read([cases.sameCa!]);
    expect(read([{ ...cases.otherCa!, stem: "s1" }])).toEqual(first);
  });

  it("Deno's node:crypto gives the same answers", () => {
    const script = p("facts.ts");
    const module = fileURLToPath(new URL("../../runtime/certificate-facts.ts", import.meta.url));
    writeFileSync(
      script,
      `import { certificatesUnreadable, readCertificates } from ${JSON.stringify(module)};
const cases = JSON.parse(await Deno.readTextFile(Deno.args[0]));
console.log(JSON.stringify({ cannot: certificatesUnreadable() ?? null, facts: Object.fromEntries(Object.entries(cases).map(([k, c]) => [k, readCertificates(c)])) }));`,
    );
    writeFileSync(p("cases.json"), JSON.stringify(cases));
    const deno = fileURLToPath(new URL("../../node_modules/.bin/deno", import.meta.url));
    const out = execFileSync(deno, ["run", "--no-config", `--allow-read=${dir},${module}`, script, p("cases.json")], {
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
    }).toString();
    const onNode = Object.fromEntries(Object.entries(cases).map(([k, c]) => [k, readCertificates(c)]));
    expect(JSON.parse(out)).toEqual({ cannot: null, facts: onNode });
  }, 60_000);
});
