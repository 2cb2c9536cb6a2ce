import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { promtoolBin } from "../harness/binaries.ts";

const path = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const rules = path("../../manifests/prometheus/satellite-alerts.yaml");
const ruleTests = path("./prometheus/satellite-alerts.test.yaml");
const docs = readFileSync(path("../../docs/metrics.md"), "utf8");

function promtool(...args: string[]) {
  const r = spawnSync(promtoolBin(), args, { encoding: "utf8" });
  return { code: r.status, said: `${r.stdout}${r.stderr}` };
}

describe("the alert rules users load", () => {
  it("pass promtool check rules", () => {
    const r = promtool("check", "rules", rules);
    expect(r.said).toContain("SUCCESS: 8 rules found");
    expect(r.code).toBe(0);
  });

  it("fire, and stay quiet, as the promtool unit tests say", () => {
    const r = promtool("test", "rules", ruleTests);
    expect(r.said).toContain("SUCCESS");
    expect(r.code).toBe(0);
  });

  it("every alert has a promtool unit test and a place in docs/metrics.md", () => {
    const alerts = [...readFileSync(rules, "utf8").matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
    const tested = new Set([...readFileSync(ruleTests, "utf8").matchAll(/alertname: (\w+)$/gm)].map((m) => m[1]));
    expect(alerts).toHaveLength(8);
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
    expect(alerts.filter((a) => !docs.includes(`\`${a}\``))).toEqual([]);
  });

  it("uses only metrics docs/metrics.md describes", () => {
    const used = new Set(readFileSync(rules, "utf8").match(/\b(?:satellite|nats_varz)_[a-z_]+\b/g));
    expect([...used].filter((m) => !docs.includes(`\`${m}\``))).toEqual([]);
  });
});
