import { spawnSync } from "node:child_process";
import { promtoolBin } from "./binaries.ts";

/** promtool check metrics' verdict on an exposition: its exit code (0 fine, 3 lint problems only, 1 not parsed) and what it said. */
export function promtoolCheck(text: string): { code: number | null; said: string } {
  const r = spawnSync(promtoolBin(), ["check", "metrics"], { input: text, encoding: "utf8" });
  return { code: r.status, said: `${r.stdout}${r.stderr}` };
}

const exporterNames =
  /^nats_\S+ (counter metrics should have "_total" suffix|non-counter metrics should not have "_total" suffix|non-histogram and non-summary metrics should not have "_count" suffix)$/;

/**
 * What promtool said of an exposition other than the naming lints that prometheus-nats-exporter's
 * own names draw (counters without _total, gauges named *_total or *_count): dashboards and
 * alerts use those names, so satellite's exporter keeps them.
 */
export const lintBeyondExporterNames = (said: string) => said.split("\n").filter((l) => l && !exporterNames.test(l));
