// npm run image [-- --out FILE] [--tag REPO:TAG]: the satellite container image as an OCI archive,
// without Docker or a registry. The image is the Dockerfile's final stage, read from the Dockerfile
// itself (files it copies, USER, ENTRYPOINT, CMD), on a locally made base laid out like its FROM
// image (distroless Node: /nodejs/bin/node, CA certificates, users root and nonroot).
// Load it with `ctr -n k8s.io images import`, `podman load -i` or `docker load -i`.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { finalStage } from "./dockerfile.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const version = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }).version;
const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const tag = arg("--tag") ?? `ghcr.io/satellite-nats/satellite:${version}`;
const out = arg("--out") ?? join(root, "dist", "satellite-image.tar");

const stage = finalStage(readFileSync(join(root, "Dockerfile"), "utf8"));
const nodeMajor = /nodejs(\d+)/.exec(stage.from)?.[1];
if (!nodeMajor) throw new Error(`the Dockerfile's final stage is FROM ${stage.from}: expected a distroless nodejsNN base`);
const node =
  process.env.IMAGE_NODE_BIN || execFileSync("bash", [join(root, "scripts", "node-lts.sh"), nodeMajor], { encoding: "utf8" }).trim();

const fs = mkdtempSync(join(tmpdir(), "satellite-image-"));
chmodSync(fs, 0o755);
try {
  const put = (path: string, from: string, mode = 0o755) => {
    mkdirSync(dirname(join(fs, path)), { recursive: true });
    copyFileSync(from, join(fs, path));
    chmodSync(join(fs, path), mode);
  };
  // The base: what distroless/nodejsNN-debian12:nonroot holds that the bundle uses.
  put("/nodejs/bin/node", node);
  for (const lib of sharedLibraries(node)) put(lib, lib);
  const ca = "/etc/ssl/certs/ca-certificates.crt";
  if (existsSync(ca)) put(ca, ca, 0o644);
  mkdirSync(join(fs, "etc"), { recursive: true });
  writeFileSync(
    join(fs, "etc/passwd"),
    "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
  );
  writeFileSync(join(fs, "etc/group"), "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n");
  mkdirSync(join(fs, "home/nonroot"), { recursive: true });
  mkdirSync(join(fs, "tmp"), { recursive: true });
  chmodSync(join(fs, "tmp"), 0o1777);
  // The final stage's own files.
  for (const c of stage.copies) put(c.to, join(root, c.from.replace(/^\/src\//, "")), 0o644);
  const config = {
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
    User: stage.user,
    WorkingDir: "/home/nonroot",
    Entrypoint: stage.entrypoint,
    Cmd: stage.cmd,
    Labels: { "org.opencontainers.image.version": version, "org.opencontainers.image.title": "satellite" },
  };
  process.stdout.write(
    execFileSync("bash", [join(root, "scripts", "oci-archive.sh"), tag, fs, JSON.stringify(config), out], { encoding: "utf8" }),
  );
} finally {
  rmSync(fs, { recursive: true, force: true });
}

/** The shared libraries a dynamically linked executable loads, with the loader itself (ldd). */
function sharedLibraries(bin: string): string[] {
  const ldd = execFileSync("ldd", [bin], { encoding: "utf8" });
  return [...ldd.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
}
