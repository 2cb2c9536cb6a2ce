import { execFile } from "node:child_process";

/**
 * kubectl that does not block the event loop. The benches' publishers run in this process: a
 * synchronous kubectl (a drain takes seconds) would stop them, and its time would count as a gap
 * without an ack.
 */
export function kubectlAsync(bin: string, kubeconfig: string) {
  return (args: string[], input?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(
        bin,
        ["--kubeconfig", kubeconfig, ...args],
        { encoding: "utf8", maxBuffer: 64 << 20 },
        (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(" ")}: ${stderr || err.message}`)) : resolve(stdout)),
      );
      child.stdin?.end(input ?? "");
    });
}
