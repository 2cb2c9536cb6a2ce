// The docs stay true: the README stays a short way in that links every page; every relative link
// of the README and docs/ reaches a file and heading that exist; every satellite command line the
// docs show uses only flags the program defines, and the command-line page lists every one of them;
// every NatsCluster the docs show is one the schema takes and the operator serves.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { NatsCluster } from "../../handlers/operator/natscluster.ts";
import { reconcileCluster } from "../../handlers/operator/reconcile.ts";
import { bootconfigFlags } from "../../runtime/commands/bootconfig.ts";
import { exporterFlags } from "../../runtime/commands/exporter.ts";
import { reloaderFlags } from "../../runtime/commands/reloader.ts";
import { runFlags } from "../../runtime/commands/run.ts";
import type { FlagSpec } from "../../runtime/flags.ts";
import { natsFlags } from "../../runtime/nats/flags.ts";
import { view } from "./operator-fixtures.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string) => readFileSync(join(root, path), "utf8");

/**
 * Pages other branches are writing while this one is merged: the README links them already. The
 * lead drops this list once they are merged; after that a missing page fails like any other.
 */
const expectedLater: string[] = [];

const pages = readdirSync(join(root, "docs"))
  .filter((f) => f.endsWith(".md"))
  .map((f) => `docs/${f}`);
const docs = ["README.md", ...pages];

/** Text outside fenced code blocks (links and headings there are not links and headings). */
function prose(text: string): string {
  let fence = false;
  return text
    .split("\n")
    .map((l) => {
      if (l.startsWith("```")) fence = !fence;
      return fence || l.startsWith("```") ? "" : l;
    })
    .join("\n");
}

/** The fenced code blocks of a page, with their language. */
function codeBlocks(text: string): { lang: string; body: string }[] {
  return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }));
}

/** GitHub's heading anchors: lower case, punctuation but `-` and `_` dropped, spaces to `-`, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

/** Relative links of a page: `[text](target)`, not http(s) or mailto. */
function relativeLinks(text: string): string[] {
  const noInlineCode = prose(text).replace(/`[^`\n]*`/g, "``");
  return [...noInlineCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t));
}

describe("the README and docs/", () => {
  it("the README is a short way in: under 250 lines", () => {
    expect(read("README.md").split("\n").length).toBeLessThan(250);
  });

  it("the README links every page of docs/ (and the pages other branches are writing)", () => {
    const linked = new Set(relativeLinks(read("README.md")).map((t) => normalize(t.split("#")[0]!)));
    for (const page of [...pages, ...expectedLater]) expect([...linked], `README.md links ${page}`).toContain(page);
  });

  it.each(docs)("every relative link of %s reaches a file and heading that exist", (doc) => {
    const text = read(doc);
    for (const link of relativeLinks(text)) {
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path ? relative(root, normalize(join(root, dirname(doc), path))) : doc;
      if (expectedLater.includes(target) && !existsSync(join(root, target))) continue;
      expect(existsSync(join(root, target)), `${doc}: ${link}: no file ${target}`).toBe(true);
      if (anchor !== undefined) expect([...anchors(read(target))], `${doc}: ${link}: no heading #${anchor} in ${target}`).toContain(anchor);
    }
  });

  it("the links are found (so the check above is not empty)", () => {
    expect(docs.flatMap((d) => relativeLinks(read(d))).length).toBeGreaterThan(50);
  });

  it.each(pages)("%s opens with its title and a short summary", (page) => {
    const [title, blank, ...rest] = read(page).split("\n");
    expect(title, page).toMatch(/^# \S/);
    expect(blank, page).toBe("");
    const summary = rest.slice(0, rest.indexOf(""));
    expect(summary[0], `${page}: a sentence, not a heading, list, table or code`).toMatch(/^([^#\s|>*-]|`)/);
    expect(summary.length, `${page}: the summary is one short paragraph`).toBeLessThanOrEqual(3);
  });

  it("the anchors are GitHub's", () => {
    expect([...anchors("## Reloads without a sidecar: `configReload.mode: operator`\n## `-config-api` and `-site`\n## A\n## A\n")]).toEqual(
      ["reloads-without-a-sidecar-configreloadmode-operator", "-config-api-and--site", "a", "a-1"],
    );
  });
});

/** Every `satellite …` command line the docs show: in sh blocks and in inline code. */
function commandLines(): { doc: string; line: string }[] {
  const out: { doc: string; line: string }[] = [];
  for (const doc of docs) {
    const text = read(doc);
    for (const b of codeBlocks(text).filter((b) => b.lang === "sh"))
      for (const line of b.body.replace(/\\\n\s*/g, "").split("\n")) out.push({ doc, line: line.replace(/\s+#.*$/, "") });
    for (const m of prose(text).matchAll(/`([^`\n]+)`/g)) out.push({ doc, line: m[1]! });
  }
  return out.filter(({ line }) => /(^|\s)(satellite|\.\/dist\/satellite|dist\/satellite\.mjs)\s+(run|reloader|exporter|-)/.test(line));
}

/** The flags of `satellite <command> …` in `line` that `specs` does not define. */
function unknownFlags(line: string): string[] {
  const words = line.trim().split(/\s+/);
  const at = words.findIndex((w) => /^(satellite|\.\/dist\/satellite|dist\/satellite\.mjs)$/.test(w));
  let args = words.slice(at + 1);
  const specs: FlagSpec[] = args[0] === "reloader" ? reloaderFlags : args[0] === "exporter" ? exporterFlags : runFlags;
  if (args[0] === "run" || args[0] === "reloader" || args[0] === "exporter") args = args.slice(1);
  const byName = new Map(specs.flatMap((s) => s.names.map((n) => [n, s] as const)));
  const unknown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-") || a === "-" || a === "…") continue;
    const name = a.replace(/^--?/, "").split("=")[0]!;
    const spec = byName.get(name);
    if (!spec) unknown.push(a);
    else if (!spec.boolean && !a.includes("=")) i++;
  }
  return unknown;
}

describe("the command lines of the docs", () => {
  const lines = commandLines();

  it("finds them (run, reloader, on Node, Deno and the single executable)", () => {
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.some((l) => / reloader /.test(l.line))).toBe(true);
    expect(lines.some((l) => /^deno run /.test(l.line))).toBe(true);
    expect(lines.some((l) => /^node .*dist\/satellite\.mjs run/.test(l.line))).toBe(true);
  });

  it.each(lines.map((l) => [l.doc, l.line] as const))("%s: %s", (_doc, line) => {
    expect(unknownFlags(line), "flags runtime/commands does not define").toEqual([]);
  });

  it("would catch a flag that does not exist", () => {
    expect(unknownFlags("satellite run -operator -config-apis -site x")).toEqual(["-config-apis"]);
    expect(unknownFlags("satellite reloader -configmap c -operator")).toEqual(["-operator"]);
    expect(unknownFlags("satellite exporter -monitor http://x:8222 -configmap c")).toEqual(["-configmap"]);
    expect(unknownFlags("deno run --allow-net dist/satellite.mjs run -s nats://a:4222 -name x --once")).toEqual(["--once"]);
  });
});

/** The flag names in the first column of the table under `## heading` of command-line.md. */
function tableFlags(heading: string): Set<string> {
  const section = read("docs/command-line.md")
    .split(/^## /m)
    .find((s) => s.startsWith(`${heading}\n`));
  expect(section, `docs/command-line.md has a section ${heading}`).toBeDefined();
  const firsts = section!
    .split("\n")
    .filter((l) => /^\| `-/.test(l))
    .map((l) => l.split(/(?<!\\)\|/)[1]!);
  return new Set(firsts.flatMap((c) => [...c.matchAll(/`-([\w-]+)/g)].map((m) => m[1]!)));
}

describe("docs/command-line.md lists every flag", () => {
  const names = (specs: FlagSpec[]) => specs.flatMap((s) => s.names).filter((n) => n !== "help" && n !== "h");

  it("of satellite run, and no other", () => {
    expect([...tableFlags("`satellite run`")].sort()).toEqual(names(runFlags).sort());
  });

  it("of satellite reloader (the NATS connection flags are run's), and no other", () => {
    const own = reloaderFlags.filter((s) => !natsFlags.includes(s));
    expect([...tableFlags("`satellite reloader`")].sort()).toEqual([...names(own), "help", "h"].sort());
  });

  it("of satellite exporter, and no other", () => {
    expect([...tableFlags("`satellite exporter`")].sort()).toEqual([...names(exporterFlags), "help", "h"].sort());
  });

  it("of satellite bootconfig, and no other", () => {
    expect([...tableFlags("`satellite bootconfig`")].sort()).toEqual([...names(bootconfigFlags), "help", "h"].sort());
  });
});

type Schema = { properties?: Record<string, Schema>; items?: Schema; "x-kubernetes-preserve-unknown-fields"?: boolean };

/** Fields of `value` the schema does not declare (what strict field validation rejects). */
function undeclared(value: unknown, s: Schema | undefined, path: string): string[] {
  if (!s || value === null || typeof value !== "object") return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => undeclared(v, s.items, `${path}[${i}]`));
  if (!s.properties) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    s.properties![k] ? undeclared(v, s.properties![k], `${path}.${k}`) : s["x-kubernetes-preserve-unknown-fields"] ? [] : [`${path}.${k}`],
  );
}

describe("every NatsCluster the docs show", () => {
  const crd = parseAllDocuments(read("manifests/crd.yaml"))
    .map((d) => d.toJS())
    .find((d) => d?.kind === "CustomResourceDefinition" && d.spec.names.kind === "NatsCluster");
  const schemaOf = (apiVersion: string) =>
    crd.spec.versions.find((v: { name: string }) => `nats.io/${v.name}` === apiVersion)?.schema.openAPIV3Schema as Schema | undefined;
  const clusters = docs.flatMap((doc) =>
    codeBlocks(read(doc)).flatMap(({ lang, body }) => {
      const yamls =
        lang === "yaml"
          ? [body]
          : [...body.matchAll(/<<'EOF'\n([\s\S]*?)\nEOF/g), ...body.matchAll(/echo '\n([\s\S]*?)\n' \|/g)].map((m) => m[1]!);
      return yamls
        .flatMap((y) => parseAllDocuments(y).map((d) => d.toJS()))
        .filter((o) => o?.kind === "NatsCluster")
        .map((c: NatsCluster) => [doc, c.metadata?.name ?? "", c] as const);
    }),
  );

  it("finds them (the quick start's, the operator's, JetStream's)", () => {
    expect(clusters.map(([doc]) => doc)).toEqual(expect.arrayContaining(["README.md", "docs/operator.md", "docs/jetstream.md"]));
  });

  it.each(clusters)("%s: %s is one the schema takes and the operator serves", (_doc, _name, c) => {
    const schema = schemaOf(c.apiVersion ?? "");
    expect(schema, `${c.apiVersion} is a version of the CRD`).toBeDefined();
    expect(undeclared(c, schema, "")).toEqual([]);
    const r = reconcileCluster(view({ ...c, metadata: { namespace: "default", uid: "u", ...c.metadata } } as NatsCluster));
    const degraded = r.status.conditions?.find((x) => x.type === "Degraded");
    expect(degraded?.status, degraded?.message).toBe("False");
    expect(r.changes.some((x) => x.op === "create" && x.kind === "Pod")).toBe(true);
  });
});
