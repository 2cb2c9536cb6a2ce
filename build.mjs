// Bundles runtime/main.ts into one file, dist/satellite.mjs, for Node 20+ and Deno 2+.
import { build } from "esbuild";
import { readFileSync, statSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";

// "Under 300 KB", read strictly: 300,000 bytes.
const budgetBytes = 300_000;
const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
const outfile = "dist/satellite.mjs";

// Node 22+ evaluates every export of a builtin that an ES module imports, and node:http's lazy
// WebSocket getter then loads undici: +7 MB RSS. So builtins are taken with require, and only
// their plain (non-getter) properties are offered as named exports.
const requireBuiltin = {
  name: "require-builtins",
  setup(b) {
    const builtins = new Set(builtinModules);
    b.onResolve({ filter: /^[a-z_/:]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, "");
      return args.kind === "import-statement" && builtins.has(name) ? { path: name, namespace: "builtin" } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: "builtin" }, ({ path }) => {
      const plain = Object.entries(Object.getOwnPropertyDescriptors(createRequire(import.meta.url)(path)))
        .filter(([key, d]) => "value" in d && /^[A-Za-z_$][\w$]*$/.test(key) && key !== "default")
        .map(([key]) => key);
      // A pure call per name lets esbuild drop the names nothing imports.
      const named = plain.map((key) => `export const ${key} = /* @__PURE__ */ __builtin("${key}");`).join("\n");
      return { contents: `const m = require("node:${path}");\nconst __builtin = (key) => m[key];\nexport default m;\n${named}`, loader: "js" };
    });
  },
};

// nats-core is CommonJS, so esbuild cannot drop what satellite never calls: its benchmark
// harness and WebSocket transport (10 KB) are left out by hand.
const unusedNatsModules = {
  name: "unused-nats-modules",
  setup(b) {
    b.onResolve({ filter: /^\.\/(bench|ws_transport)$/ }, (args) =>
      /@nats-io\/nats-core\//.test(args.importer) ? { path: args.path, namespace: "unused" } : undefined);
    b.onLoad({ filter: /.*/, namespace: "unused" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

const result = await build({
  entryPoints: ["runtime/main.ts"],
  outfile,
  bundle: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: ["node20", "deno2"],
  metafile: true,
  legalComments: "none",
  charset: "utf8",
  define: { SATELLITE_VERSION: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require("net") etc.; ESM has no require of its own.
  banner: { js: `#!/usr/bin/env node\nimport { createRequire as __satelliteRequire } from "node:module";\nconst require = __satelliteRequire(import.meta.url);` },
  plugins: [requireBuiltin, unusedNatsModules],
  logLevel: "warning",
});

const size = statSync(outfile).size;
const byPackage = new Map();
for (const [path, info] of Object.entries(result.metafile.outputs[outfile].inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  const key = m ? m[1] : path.split("/").slice(0, 1)[0] + "/";
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
