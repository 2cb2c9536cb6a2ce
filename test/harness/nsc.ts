import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaries } from "./binaries.ts";

/** An nsc of its own (store, keys, home in a temp dir), as a user runs it. */
export function nscWorkspace() {
  const dir = mkdtempSync(join(tmpdir(), "satellite-nsc-"));
  const env = { ...process.env, NKEYS_PATH: join(dir, "nkeys"), NSC_HOME: join(dir, "home"), NSC_NO_GIT_IGNORE: "1" };
  const nsc = (...args: string[]) => execFileSync(binaries().NSC_BIN, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  nsc("env", "-s", join(dir, "store"));
  return {
    nsc,
    /** A user's creds file text (made on first use). */
    creds: (account: string, user: string) => nsc("generate", "creds", "-a", account, "-n", user),
    accountId: (account: string) => JSON.parse(nsc("describe", "account", account, "--json")).sub as string,
  };
}
