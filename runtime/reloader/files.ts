import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The named files of `dir` as text (undefined when absent). */
export function readFiles(dir: string, names: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const n of names) {
    try {
      out[n] = readFileSync(join(dir, n), "utf8");
    } catch {
      out[n] = undefined;
    }
  }
  return out;
}

/**
 * Writes each file to a temp file in the same directory, then renames all of them into place,
 * so nats-server never reads a half-written file.
 */
export function writeFilesAtomically(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  const staged: [string, string][] = [];
  try {
    for (const [name, text] of Object.entries(files)) {
      if (name.includes("/") || name.startsWith("."))
        throw new Error(`refusing to write file ${JSON.stringify(name)}: not a plain file name`);
      const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
      writeFileSync(tmp, text, { mode: 0o644 });
      staged.push([tmp, join(dir, name)]);
    }
    for (const [tmp, dest] of staged) renameSync(tmp, dest);
  } catch (e) {
    for (const [tmp] of staged) rmSync(tmp, { force: true });
    throw e;
  }
}
