import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { layerViolations, sourcesOf } from "../../scripts/check-layers.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("layers (docs/architecture.md)", () => {
  it("the code keeps them: pure handlers, a runtime that uses their public face only", () => {
    const files = sourcesOf(root);
    expect(files.filter((f) => f.path.startsWith("handlers/")).length).toBeGreaterThan(20);
    expect(files.filter((f) => f.path.startsWith("runtime/")).length).toBeGreaterThan(20);
    expect(layerViolations(files)).toEqual([]);
  }, 30_000);

  it("a deliberate bad import, clock or randomness fails the check", () => {
    const bad = [
      {
        path: "handlers/bad.ts",
        text: 'import { readFileSync } from "node:fs";\nimport { connect } from "@nats-io/transport-node";\nimport { log } from "../runtime/log.ts";\nexport const t = () => [Date.now(), new Date(), Math.random(), performance.now()];\n',
      },
      {
        path: "handlers/fine.ts",
        text: 'import type { V1Pod } from "@kubernetes/client-node";\nimport { ok } from "./types.ts";\nexport const d = (now: string) => new Date(now);\nexport const o = { process: 1 };\n',
      },
      { path: "handlers/values.ts", text: 'import { V1Pod } from "@kubernetes/client-node";\n' },
      {
        path: "runtime/bad.ts",
        text: 'import { labelCluster } from "../handlers/operator/names.ts";\nimport { kinds } from "../handlers/index.ts";\nconst m = await import("../handlers/status.ts");\n',
      },
    ];
    expect(layerViolations(bad)).toEqual([
      'handlers/bad.ts:1: a handler imports "node:fs": handlers do no I/O (only "import type" from @kubernetes/client-node)',
      'handlers/bad.ts:2: a handler imports "@nats-io/transport-node": handlers do no I/O (only "import type" from @kubernetes/client-node)',
      "handlers/bad.ts:3: a handler imports runtime/log.ts: handlers import only other handlers",
      "handlers/bad.ts:4: a handler uses Date.now: handlers get time and randomness from their input",
      "handlers/bad.ts:4: a handler uses new Date(): handlers get time and randomness from their input",
      "handlers/bad.ts:4: a handler uses Math.random: handlers get time and randomness from their input",
      "handlers/bad.ts:4: a handler uses performance: handlers get time and randomness from their input",
      'handlers/values.ts:1: a handler imports "@kubernetes/client-node": handlers do no I/O (only "import type" from @kubernetes/client-node)',
      "runtime/bad.ts:1: the runtime imports handlers/operator/names.ts: it reaches handlers only through handlers/index.ts",
      "runtime/bad.ts:3: the runtime imports handlers/status.ts: it reaches handlers only through handlers/index.ts",
    ]);
  });
});
