import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

export interface Proc {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  running(): boolean;
  log(): string;
  tail(lines?: number): string;
  signal(sig: NodeJS.Signals): void;
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<Proc>();
process.on("exit", () => {
  for (const p of live) p.child.kill("SIGKILL");
});

/** Starts a process whose stdout and stderr go to `logFile`; killed when this process exits. */
export function startProcess(name: string, bin: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Proc {
  const fd = openSync(logFile, "a");
  const child = spawn(bin, args, { stdio: ["ignore", fd, fd], env: env ?? process.env });
  closeSync(fd);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code, sig) => {
      exitCode = code ?? (sig ? -1 : null);
      live.delete(proc);
      resolve(exitCode);
    });
    child.on("error", (e) => {
      exitCode = -1;
      live.delete(proc);
      resolve(-1);
      console.error(`${name}: cannot start ${bin}: ${e.message}`);
    });
  });
  const log = () => {
    try {
      return readFileSync(logFile, "utf8");
    } catch {
      return "";
    }
  };
  const proc: Proc = {
    name,
    pid: child.pid ?? -1,
    logFile,
    child,
    exited,
    running: () => exitCode === undefined,
    log,
    tail: (lines = 30) =>
      log()
        .split("\n")
        .slice(-lines - 1)
        .join("\n"),
    signal: (sig) => {
      if (exitCode === undefined) child.kill(sig);
    },
    async stop(timeoutMs = 5_000) {
      if (exitCode !== undefined) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(proc);
  return proc;
}
