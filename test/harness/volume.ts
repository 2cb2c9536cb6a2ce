import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A kubelet AtomicWriter-like volume: ..data -> ..<n>/, and each file a symlink through ..data. */
export function volume(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "sat-volume-"));
  let n = 0;
  let current = "";
  const swap = (next: Record<string, string>) => {
    const ts = `..${Date.now()}_${n++}`;
    mkdirSync(join(dir, ts));
    for (const [k, v] of Object.entries(next)) writeFileSync(join(dir, ts, k), v);
    symlinkSync(ts, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    if (current) rmSync(join(dir, current), { recursive: true });
    current = ts;
  };
  swap(files);
  for (const k of Object.keys(files)) symlinkSync(join("..data", k), join(dir, k));
  return { dir, swap };
}
