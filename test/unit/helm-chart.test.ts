// charts/satellite's files against the project's: its appVersion is satellite's version, and
// docs/helm.md lists every value with its default, nothing else. (Rendering is helm's: see
// test/integration/helm-chart.test.ts.)

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

const values = parse(read("charts/satellite/values.yaml"));
const schema = JSON.parse(read("charts/satellite/values.schema.json"));

/**
 * Every value a user sets, by its dotted path: the chart's own groups of values (closed objects of
 * the schema that require their properties, such as image) are walked into; anything else (a
 * scalar, a list, a Kubernetes structure such as resources or nodeSelector) is one value.
 */
function leaves(node: any, s: any, prefix = ""): [string, unknown][] {
  if (s?.properties && s.additionalProperties === false && s.required) {
    return Object.keys(node).flatMap((k) => leaves(node[k], s.properties[k], `${prefix}${k}.`));
  }
  return [[prefix.slice(0, -1), node]];
}

/** The rows of docs/helm.md's "Values" table: value path, default parsed as YAML. */
function documented(): Map<string, unknown> {
  const doc = read("docs/helm.md");
  const section = doc.slice(doc.indexOf("\n## Values\n"), doc.indexOf("\n## ", doc.indexOf("\n## Values\n") + 1));
  const rows = new Map<string, unknown>();
  for (const line of section.split("\n")) {
    const m = /^\| `([^`]+)`\s*\| `(.*?)`\s*\|/.exec(line);
    if (m) rows.set(m[1]!, parse(m[2]!));
  }
  return rows;
}

describe("charts/satellite", () => {
  it("its appVersion, the default image tag, is package.json's version", () => {
    expect(parse(read("charts/satellite/Chart.yaml")).appVersion).toBe(JSON.parse(read("package.json")).version);
  });

  it("values.yaml sets every value the schema declares", () => {
    const declared = Object.keys(schema.properties).filter((k) => k !== "global");
    expect(Object.keys(values).sort()).toEqual(declared.sort());
    expect(schema.required.sort()).toEqual(declared.sort());
  });

  it("docs/helm.md lists every value with the default values.yaml gives it, and no value that does not exist", () => {
    const rows = documented();
    const all = leaves(values, schema);
    expect(all.length).toBeGreaterThan(20);
    expect([...rows.keys()].sort()).toEqual(all.map(([k]) => k).sort());
    for (const [path, value] of all) expect(rows.get(path), path).toEqual(value);
  });
});
