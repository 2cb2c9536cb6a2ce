// Bundles runtime/main.ts into one file, dist/satellite.mjs, for Node 20+ and Deno 2+.

import { statSync } from "node:fs";
import { build } from "esbuild";
import { bundleOptions } from "./build-options.mjs";

// A guard against an unnoticed heavy dependency, not a goal: start time and memory are (bench/RESULTS.md).
// 300,000 until the metrics, budgets and zones, the exporter and service-account users (325,970);
// 340,000 until JWT accounts, route and gateway auth, certificate checks and bootconfig (342,245);
// raised with them (start and memory before and after: docs/findings.md).
const budgetBytes = 360_000;
const outfile = "dist/satellite.mjs";

const result = await build({
  ...bundleOptions,
  outfile,
  format: "esm",
  // Bundled CommonJS dependencies call require("net") etc.; ESM has no require of its own.
  banner: {
    js: `#!/usr/bin/env -S node --expose-gc\nimport { createRequire as __satelliteRequire } from "node:module";\nconst require = __satelliteRequire(import.meta.url);`,
  },
});

const size = statSync(outfile).size;
const byPackage = new Map();
for (const [path, info] of Object.entries(result.metafile.outputs[outfile].inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  const key = m ? m[1] : `${path.split("/").slice(0, 1)[0]}/`;
  byPackage.set(key, (byPackage.get(key) ?? 0) + info.bytesInOutput);
}
const top = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
console.log(`${outfile}: ${size} bytes (budget ${budgetBytes} bytes)`);
for (const [name, bytes] of top) console.log(`  ${kb(bytes).padStart(9)}  ${name}`);
if (size > budgetBytes) {
  console.error(`${outfile} is ${size} bytes, over its budget of ${budgetBytes}: see the contributors above`);
  process.exit(1);
}
