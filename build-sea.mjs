// Builds dist/satellite, a Node single executable (SEA): a CommonJS bundle injected into a copy of
// a Node binary. Usage: node build-sea.mjs [NODE] (default: the Node running this). The flags are
// built in through sea-config's execArgv, which Node 24 honours and Node 20 ignores (checked below).

import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, statSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleOptions } from "./build-options.mjs";

const node = process.argv[2] || process.execPath;

/** Runs a build step quietly (postject warns about ELF notes on every run); its output only when it fails. */
function run(file, args) {
  try {
    execFileSync(file, args, { stdio: "pipe" });
  } catch (e) {
    process.stderr.write(`${e.stdout ?? ""}${e.stderr ?? ""}` || `${e.message}\n`);
    console.error(`build-sea: ${file} ${args.join(" ")} failed`);
    process.exit(1);
  }
}
const out = "dist/satellite";
const main = "dist/satellite.cjs";
const blob = "dist/satellite.blob";
// The flags the image gives node (Dockerfile ENTRYPOINT); the runtimes test checks they agree.
const execArgv = ["--lite-mode", "--expose-gc"];

await build({ ...bundleOptions, outfile: main, format: "cjs" });
writeFileSync("dist/sea-config.json", JSON.stringify({ main, output: blob, disableExperimentalSEAWarning: true, execArgv }, null, 2));
run(node, ["--experimental-sea-config", "dist/sea-config.json"]);
copyFileSync(node, out);
chmodSync(out, 0o755);
const postject = fileURLToPath(new URL("./node_modules/.bin/postject", import.meta.url));
run(postject, [out, "NODE_SEA_BLOB", blob, "--sentinel-fuse", "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"]);
// "satellite 0.1.0 (node v24.21.0 --lite-mode)": older Nodes ignore execArgv.
const says = execFileSync(out, ["version"], { encoding: "utf8" }).trim();
console.log(
  `${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB, ${main} (${statSync(main).size} bytes) in ${says.replace(/^.*\((.*)\)$/, "$1")}`,
);
if (!execArgv.every((flag) => says.split(/[ ()]/).includes(flag)))
  console.warn(`build-sea: this Node ignores execArgv, so ${out} runs without ${execArgv.join(" ")}: build with a newer Node (24 works)`);
