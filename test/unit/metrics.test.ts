import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { counter, forgetSeries, gaugeFrom, histogram, renderMetrics } from "../../runtime/metrics.ts";
import { recordReconcile } from "../../runtime/operator-metrics.ts";
import { recordReload } from "../../runtime/reload-metrics.ts";
import { promtoolBin } from "../harness/binaries.ts";

/** promtool's verdict on an exposition: its exit code and what it said. */
function promtoolCheck(text: string): { code: number | null; said: string } {
  const r = spawnSync(promtoolBin(), ["check", "metrics"], { input: text, encoding: "utf8" });
  return { code: r.status, said: `${r.stdout}${r.stderr}` };
}

/** The lines of one metric family in the current exposition. */
const linesOf = (name: string) =>
  renderMetrics()
    .split("\n")
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`) || l.startsWith(`${name}_`) || l.endsWith(` ${name} counter`));

describe("metrics exposition", () => {
  it("escapes label values and help text as the text format says", () => {
    const c = counter("test_escaped_total", 'Help with a backslash \\ and a\nnewline and "quotes".');
    c.inc({ path: 'C:\\dir "x"\nnext' }, 2);
    const text = renderMetrics();
    expect(text).toContain('# HELP test_escaped_total Help with a backslash \\\\ and a\\nnewline and "quotes".\n');
    expect(text).toContain('test_escaped_total{path="C:\\\\dir \\"x\\"\\nnext"} 2\n');
    expect(promtoolCheck(text)).toEqual({ code: 0, said: "" });
  });

  it("renders a histogram as cumulative buckets, +Inf, sum and count", () => {
    const h = histogram("test_wait_seconds", "A test histogram.", [0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 3, 20]) h.observe({ kind: "a" }, v);
    h.observe({ kind: "b" }, 1);
    expect(linesOf("test_wait_seconds")).toEqual([
      'test_wait_seconds_bucket{kind="a",le="0.1"} 2',
      'test_wait_seconds_bucket{kind="a",le="1"} 3',
      'test_wait_seconds_bucket{kind="a",le="10"} 4',
      'test_wait_seconds_bucket{kind="a",le="+Inf"} 5',
      'test_wait_seconds_sum{kind="a"} 23.65',
      'test_wait_seconds_count{kind="a"} 5',
      'test_wait_seconds_bucket{kind="b",le="0.1"} 0',
      'test_wait_seconds_bucket{kind="b",le="1"} 1',
      'test_wait_seconds_bucket{kind="b",le="10"} 1',
      'test_wait_seconds_bucket{kind="b",le="+Inf"} 1',
      'test_wait_seconds_sum{kind="b"} 1',
      'test_wait_seconds_count{kind="b"} 1',
    ]);
    expect(renderMetrics()).toContain("# TYPE test_wait_seconds histogram\n");
  });

  it("reads gauges at each scrape, and a gauge taken away has no series", () => {
    let depth = 3;
    const stop = gaugeFrom("test_depth", "A test gauge.", () => [[{}, depth]]);
    expect(linesOf("test_depth")).toEqual(["test_depth 3"]);
    depth = 0;
    expect(linesOf("test_depth")).toEqual(["test_depth 0"]);
    // Registered again (a restarted part): the new reader replaces the old, whose stop leaves it be.
    const stopAgain = gaugeFrom("test_depth", "A test gauge.", () => [[{ q: "x" }, 1]]);
    stop();
    expect(linesOf("test_depth")).toEqual(['test_depth{q="x"} 1']);
    stopAgain();
    expect(renderMetrics()).not.toContain("test_depth");
  });

  it("forgets the counter and histogram series of something that is gone", () => {
    recordReload({ namespace: "ns-forget", name: "a" }, "operator", "reloaded", 12);
    recordReload({ namespace: "ns-forget", name: "b" }, "sidecar", "failed");
    expect(renderMetrics()).toContain(
      'satellite_reloads_total{mode="operator",namespace="ns-forget",natscluster="a",outcome="reloaded"} 1',
    );
    forgetSeries({ namespace: "ns-forget", natscluster: "a" });
    const text = renderMetrics();
    expect(text).not.toContain('natscluster="a"');
    expect(text).toContain('satellite_reloads_total{mode="sidecar",namespace="ns-forget",natscluster="b",outcome="failed"} 1');
  });

  it("says what is wrong with a name, a label, a value or buckets", () => {
    expect(() => counter("test-dash_total", "x")).toThrow('metric name "test-dash_total" is not a Prometheus metric name');
    expect(() => counter("test_labels_total", "x").inc({ "bad-label": "v" })).toThrow('"bad-label" is not a label name');
    expect(() => counter("test_labels_total", "x").inc({}, -1)).toThrow("a counter cannot change by -1");
    expect(() => histogram("test_le_seconds", "x").observe({ le: "1" }, 1)).toThrow('"le" is the bucket label');
    expect(() => histogram("test_le_seconds", "x").observe({}, Number.NaN)).toThrow("cannot observe NaN");
    expect(() => histogram("test_order_seconds", "x", [1, 1])).toThrow("buckets must be finite and increasing");
    expect(() => gaugeFrom("test_le_seconds", "x", () => [])).toThrow("metric test_le_seconds is registered as a histogram already");
    const stop = gaugeFrom("test_twice", "x", () => [
      [{ a: "1" }, 1],
      [{ a: "1" }, 2],
    ]);
    expect(() => renderMetrics()).toThrow('metric test_twice: the series {"a":"1"} was read twice');
    stop();
  });

  it("the operator's families, filled, pass promtool check metrics", () => {
    recordReconcile("changed", 120);
    recordReconcile("error", 3);
    recordReload({ namespace: "ns", name: "nats" }, "sidecar", "reloaded", 4.5);
    const text = renderMetrics();
    expect(text).toContain('satellite_reconcile_duration_seconds_bucket{result="changed",le="0.25"} 1');
    expect(text).toContain('satellite_reload_duration_seconds_sum{mode="sidecar"} 0.0045');
    expect(promtoolCheck(text)).toEqual({ code: 0, said: "" });
  });

  it("promtool refuses a broken exposition (the check can fail)", () => {
    const r = promtoolCheck('# TYPE x counter\nx{a="unescaped " quote"} 1\n');
    expect(r.code).not.toBe(0);
    expect(r.said).toMatch(/error/i);
  });
});
