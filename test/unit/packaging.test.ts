// What the image and the docs (README.md, docs/*.md) tell users to run is what the tests and the bench run.

import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { finalStage } from "../../scripts/dockerfile.ts";
import { shippedFlags } from "../harness/satellite.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("shipped runtime flags", () => {
  it("the Dockerfile's entrypoint runs the bundle on Node with them", () => {
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(read("Dockerfile"))?.[1];
    expect(JSON.parse(entrypoint ?? "null")).toEqual(["/nodejs/bin/node", ...shippedFlags["node-lts"], "/app/satellite.mjs"]);
  });

  it("the image's build stage copies every local file build.mjs imports", () => {
    const copied = read("Dockerfile")
      .split("\n")
      .filter((l) => l.startsWith("COPY ") && !l.includes("--from"))
      .join(" ");
    const imports = [...read("build.mjs").matchAll(/from "\.\/([^"]+)"/g)].map((m) => m[1]!);
    expect(imports).toContain("build-options.mjs");
    for (const file of imports) expect(copied).toContain(file);
  });

  it("every deno run line of the README and docs/ has them (docs/building.md shows them)", () => {
    const docs = ["README.md", ...readdirSync(new URL("../../docs/", import.meta.url)).map((f) => `docs/${f}`)];
    expect(read("docs/building.md")).toMatch(/^deno run /m);
    const lines = docs.flatMap((doc) => read(doc).split("\n")).filter((l) => /^deno run /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l.split(/\s+/)).toEqual(expect.arrayContaining(shippedFlags.deno));
  });
});

describe("the Dockerfile's final stage, as npm run image reads it", () => {
  it("reads the shipped Dockerfile: distroless Node base, the bundle, user, entrypoint, command", () => {
    const stage = finalStage(read("Dockerfile"));
    expect(stage.from).toMatch(/^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot$/);
    expect(stage.copies).toEqual([{ from: "/src/dist/satellite.mjs", to: "/app/satellite.mjs" }]);
    expect(stage.user).toBe("65532:65532");
    expect(stage.cmd).toEqual(["help"]);
  });

  it("refuses what an archive built without a daemon cannot follow", () => {
    expect(() => finalStage("FROM a AS b\nRUN x\nFROM c\nRUN apt-get install y\n")).toThrow(
      /unsupported instruction in the Dockerfile's final stage: RUN apt-get install y/,
    );
    expect(() => finalStage("FROM c\nCOPY local.txt /x\n")).toThrow(/unsupported COPY/);
    expect(() => finalStage("# nothing\n")).toThrow(/no FROM/);
  });
});
