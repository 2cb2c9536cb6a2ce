// What the image and the README tell users to run is what the tests and the bench run.
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { shippedFlags } from "../harness/satellite.ts";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("shipped runtime flags", () => {
  it("the Dockerfile's entrypoint runs the bundle on Node with them", () => {
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(read("Dockerfile"))?.[1];
    expect(JSON.parse(entrypoint ?? "null")).toEqual(["/nodejs/bin/node", ...shippedFlags["node-lts"], "/app/satellite.mjs"]);
  });

  it("the image's build stage copies every local file build.mjs imports", () => {
    const copied = read("Dockerfile").split("\n").filter((l) => l.startsWith("COPY ") && !l.includes("--from")).join(" ");
    const imports = [...read("build.mjs").matchAll(/from "\.\/([^"]+)"/g)].map((m) => m[1]!);
    expect(imports).toContain("build-options.mjs");
    for (const file of imports) expect(copied).toContain(file);
  });

  it("every deno run line of the README has them", () => {
    const lines = read("README.md").split("\n").filter((l) => /^deno run /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l.split(/\s+/)).toEqual(expect.arrayContaining(shippedFlags.deno));
  });
});
