// What the ESM bundle and the single-executable build share.
import { readFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

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
      return {
        contents: `const m = require("node:${path}");\nconst __builtin = (key) => m[key];\nexport default m;\n${named}`,
        loader: "js",
      };
    });
  },
};

// nats-core is CommonJS, so esbuild cannot drop what satellite never calls: its benchmark
// harness and WebSocket transport (10 KB) are left out by hand.
const unusedNatsModules = {
  name: "unused-nats-modules",
  setup(b) {
    b.onResolve({ filter: /^\.\/(bench|ws_transport)$/ }, (args) =>
      /@nats-io\/nats-core\//.test(args.importer) ? { path: args.path, namespace: "unused" } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "unused" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

// tweetnacl (33 KB) signs nkeys in plain JavaScript; runtime/nats/nacl.ts does it with node:crypto.
const naclByCrypto = {
  name: "nacl-by-crypto",
  setup(b) {
    b.onResolve({ filter: /^tweetnacl$/ }, (args) =>
      /@nats-io\/nkeys\//.test(args.importer) ? { path: fileURLToPath(new URL("./runtime/nats/nacl.ts", import.meta.url)) } : undefined,
    );
  },
};

/** esbuild options shared by the ESM bundle (build.mjs) and the CommonJS one for the single executable (build-sea.mjs). */
export const bundleOptions = {
  entryPoints: ["runtime/main.ts"],
  bundle: true,
  minify: true,
  platform: "node",
  target: ["node20", "deno2"],
  metafile: true,
  legalComments: "none",
  charset: "utf8",
  define: { SATELLITE_VERSION: JSON.stringify(pkg.version) },
  plugins: [requireBuiltin, unusedNatsModules, naclByCrypto],
  logLevel: "warning",
};
