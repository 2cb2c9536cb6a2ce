import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { credentialSource } from "../../runtime/kube/credentials.ts";

describe("service-account token file", () => {
  it("is re-read once a minute, so a rotated token is picked up", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "sat-token-")), "token");
    writeFileSync(file, "first\n");
    let now = 0;
    const src = credentialSource({ server: "https://k", namespace: "x", tokenFile: file, source: "test" }, () => now);
    expect(await src.get()).toEqual({ authorization: "Bearer first" });
    writeFileSync(file, "second\n");
    now = 30_000;
    expect(await src.get()).toEqual({ authorization: "Bearer first" });
    now = 61_000;
    expect(await src.get()).toEqual({ authorization: "Bearer second" });
  });

  it("is re-read at once after a 401", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "sat-token-")), "token");
    writeFileSync(file, "old");
    const src = credentialSource({ server: "https://k", namespace: "x", tokenFile: file, source: "test" }, () => 0);
    await src.get();
    writeFileSync(file, "new");
    src.refresh();
    expect(await src.get()).toEqual({ authorization: "Bearer new" });
  });

  it("says which file it cannot read", async () => {
    const src = credentialSource({ server: "https://k", namespace: "x", tokenFile: "/nonexistent/token", source: "test" });
    await expect(src.get()).rejects.toThrow(/cannot read the service-account token \/nonexistent\/token/);
  });
});
