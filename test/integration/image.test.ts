// npm run image: the OCI archive holds the Dockerfile's final stage (its files, user, entrypoint,
// command) on a base laid out like distroless Node, and runs as that user.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { finalStage } from "../../scripts/dockerfile.ts";
import { binaries } from "../harness/binaries.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("npm run image", () => {
  const dir = mkdtempSync(join(tmpdir(), "satellite-image-test-"));
  const archive = join(dir, "image.tar");
  execFileSync(
    process.execPath,
    ["--import", "tsx", join(root, "scripts/image.ts"), "--tag", "example.test/satellite:t1", "--out", archive],
    {
      env: { ...process.env, IMAGE_NODE_BIN: binaries().NODE_LTS_BIN },
      stdio: "ignore",
    },
  );
  execFileSync("tar", ["xf", archive, "-C", dir]);
  const blob = (digest: string) => join(dir, "blobs", digest.replace(":", "/"));
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), "utf8"));
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8"));
  const rootfs = join(dir, "rootfs");
  execFileSync("mkdir", [rootfs]);
  execFileSync("tar", ["xf", blob(manifest.layers[0].digest), "-C", rootfs]);
  const stage = finalStage(readFileSync(join(root, "Dockerfile"), "utf8"));

  it("is named as asked, in both the OCI index and docker load's manifest", () => {
    expect(index.manifests[0].annotations["io.containerd.image.name"]).toBe("example.test/satellite:t1");
    expect(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))[0].RepoTags).toEqual(["example.test/satellite:t1"]);
  });

  it("has the Dockerfile's user, entrypoint and command, and the files its final stage copies", () => {
    expect(config.config.User).toBe(stage.user);
    expect(config.config.Entrypoint).toEqual(stage.entrypoint);
    expect(config.config.Cmd).toEqual(stage.cmd);
    expect(stage.copies.length).toBeGreaterThan(0);
    for (const c of stage.copies) {
      expect(readFileSync(join(rootfs, c.to))).toEqual(readFileSync(join(root, c.from.replace(/^\/src\//, ""))));
    }
    expect(config.rootfs.diff_ids).toEqual([manifest.layers[0].digest]);
  });

  it.runIf(process.getuid?.() === 0)("runs its entrypoint as its user on its own files (chroot)", () => {
    const [uid, gid] = stage.user.split(":");
    const r = spawnSync("chroot", [`--userspec=${uid}:${gid ?? uid}`, rootfs, ...stage.entrypoint, "version"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^satellite \d+\.\d+\.\d+ \(node v24\.\S+ --lite-mode --expose-gc\)\n$/);
  });

  it("is reproducible: the same inputs give the same digests", () => {
    const again = join(dir, "again.tar");
    execFileSync(
      process.execPath,
      ["--import", "tsx", join(root, "scripts/image.ts"), "--tag", "example.test/satellite:t1", "--out", again],
      {
        env: { ...process.env, IMAGE_NODE_BIN: binaries().NODE_LTS_BIN },
        stdio: "ignore",
      },
    );
    expect(execFileSync("sha256sum", [again], { encoding: "utf8" }).split(" ")[0]).toBe(
      execFileSync("sha256sum", [archive], { encoding: "utf8" }).split(" ")[0],
    );
  });
});
