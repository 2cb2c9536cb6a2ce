// Operator-mode reloads next to their floor, on one real node in one run: config.put with wait
// on NatsClusters in configReload.mode operator (and the sidecar, for scale), then the nudged
// kubelet Secret-volume refresh that operator mode waits for, on the same node. Run alone with
// `BENCH_ONLY=operator-reload npm run bench` (it rewrites its own section of RESULTS.md).

import { execFileSync } from "node:child_process";
import { buildImages, realNodeUnavailable, startRealNode, writeOverlay } from "../test/harness/realnode.ts";
import { benchKubeletRefresh, type KubeletRefreshResults } from "./kubelet-refresh.ts";
import { benchReloadModes, type ReloadModeResult } from "./reload-modes.ts";

const ns = "bench-opreload";
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((q / 100) * xs.length))]!;

export interface OperatorReloadResults {
  modes: ReloadModeResult[];
  refresh: KubeletRefreshResults;
  totalMs: number;
}

export async function benchOperatorReload(o: { puts: number; refreshes: number }): Promise<OperatorReloadResults | string> {
  const why = realNodeUnavailable();
  if (why) return why;
  const t0 = Date.now();
  const images = buildImages();
  const node = startRealNode({ archives: images.archives, syncFrequency: "1m" });
  try {
    const kubectl = (...args: string[]) => execFileSync(node.kubectlBin, ["--kubeconfig", node.kubeconfig, ...args], { encoding: "utf8" });
    kubectl("create", "namespace", ns);
    kubectl("apply", "-k", writeOverlay(ns, images, [], ["crd.yaml", "operator.yaml"]));
    kubectl("-n", ns, "rollout", "status", "deployment/satellite-operator", "--timeout=180s");
    // Puts spaced as the refresh's changes are (0.2–1.2 s apart), so both meet the kubelet alike.
    const modes = await benchReloadModes({
      kubectlBin: node.kubectlBin,
      kubeconfig: node.kubeconfig,
      ns,
      version: images.natsVersion,
      puts: o.puts,
      gapMs: () => 200 + Math.random() * 1_000,
    });
    const refresh = await benchKubeletRefresh({
      nudged: o.refreshes,
      notNudged: 0,
      node: { kubeconfig: node.kubeconfig, dir: node.dir, natsImage: images.nats },
    });
    if (typeof refresh === "string") return refresh;
    return { modes, refresh, totalMs: Date.now() - t0 };
  } finally {
    const left = node.stop();
    if (left) process.stderr.write(`the real node left this behind:\n${left}\n`);
  }
}

export function operatorReloadMarkdown(r: OperatorReloadResults | string, when: string): string {
  const heading = "## Operator-mode reload next to its floor (one real node, one run)";
  if (typeof r === "string") return `${heading}\n\nNot run: ${r}\n`;
  const floor = p(r.refresh.nudged, 50);
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const rows = r.modes.map(
    (m) =>
      `| ${m.mode} | ${m.puts.length} | ${ms(p(m.puts, 50))} | ${ms(p(m.puts, 99))} | ${ms(Math.max(...m.puts))} | ${(p(m.puts, 50) / floor).toFixed(1)}× |`,
  );
  return `${heading}

${when}. The same NatsClusters and puts as "Reload modes of the operator" (3 servers each, the config
API run from this host, \`config.put\` with \`wait\` until every server is confirmed), but each put
0.2–1.2 s after the previous reply, as the refresh's changes are spaced; then, on the same node, the
nudged kubelet refresh of a Secret volume that operator mode waits for (its floor: the operator
cannot confirm a reload before the kubelet has written the file). Back to back (as in "Reload modes
of the operator"), each nudge comes right after the kubelet's previous refresh, which then takes it
longer, and so does operator mode.

| mode | puts | p50 | p99 | max | p50 / floor p50 |
|---|---|---|---|---|---|
${rows.join("\n")}
| floor: nudged kubelet refresh | ${r.refresh.nudged.length} | ${ms(floor)} | ${ms(p(r.refresh.nudged, 99))} | ${ms(Math.max(...r.refresh.nudged))} | 1.0× |

Goal (issue 23): operator mode, strategy all, p50 ≤ 2× the floor's p50. The whole run took ${(r.totalMs / 1000).toFixed(0)} s.
`;
}
