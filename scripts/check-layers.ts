// The layering rules of docs/architecture.md, checked on the source (npm test runs it through
// test/unit/layers.test.ts):
//   handlers/  pure: imports only other handlers, and Kubernetes types (import type); no clock,
//              no randomness, no timers, no process, no network.
//   runtime/   reaches handlers only through their public face, handlers/index.ts.
import { readdirSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import ts from "typescript";

export interface SourceFile {
  /** Repository-relative, with "/" separators. */
  path: string;
  text: string;
}

const handlersFace = "handlers/index.ts";
/** Globals that read the clock, draw random numbers, schedule work or reach outside. */
const impure = new Set([
  "performance",
  "crypto",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "queueMicrotask",
  "process",
  "fetch",
  "require",
  "Deno",
  "Bun",
]);

/** Every import of a file: what it names, and whether only types are imported. */
function importsOf(sf: ts.SourceFile): { spec: string; typeOnly: boolean; line: number }[] {
  const out: { spec: string; typeOnly: boolean; line: number }[] = [];
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      const typeOnly = ts.isImportDeclaration(n) ? Boolean(n.importClause?.isTypeOnly) : n.isTypeOnly;
      out.push({ spec: n.moduleSpecifier.text, typeOnly, line: line(n) });
    } else if (
      ts.isCallExpression(n) &&
      n.expression.kind === ts.SyntaxKind.ImportKeyword &&
      n.arguments[0] &&
      ts.isStringLiteral(n.arguments[0])
    ) {
      out.push({ spec: n.arguments[0].text, typeOnly: false, line: line(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Uses of the clock or randomness: Date.now(), new Date() with no argument, Math.random(), and the globals above. */
function impurities(sf: ts.SourceFile): { what: string; line: number }[] {
  const out: { what: string; line: number }[] = [];
  const line = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
  const visit = (n: ts.Node) => {
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression)) {
      const name = `${n.expression.text}.${n.name.text}`;
      if (name === "Date.now" || name === "Math.random") out.push({ what: name, line: line(n) });
    } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "Date" && !n.arguments?.length) {
      out.push({ what: "new Date()", line: line(n) });
    } else if (ts.isIdentifier(n) && impure.has(n.text)) {
      const p = n.parent;
      const isMemberName = p && ts.isPropertyAccessExpression(p) && p.name === n;
      const isKey = p && (ts.isPropertyAssignment(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p)) && p.name === n;
      if (!isMemberName && !isKey) out.push({ what: n.text, line: line(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** Every broken rule, as "path:line: what is wrong". */
export function layerViolations(files: SourceFile[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const layer = f.path.split("/")[0];
    if (layer !== "handlers" && layer !== "runtime") continue;
    const sf = ts.createSourceFile(f.path, f.text, ts.ScriptTarget.Latest, true);
    for (const imp of importsOf(sf)) {
      const relative = imp.spec.startsWith(".");
      const target = relative ? posix.normalize(posix.join(posix.dirname(f.path), imp.spec)) : imp.spec;
      if (layer === "handlers") {
        if (relative && !target.startsWith("handlers/"))
          out.push(`${f.path}:${imp.line}: a handler imports ${target}: handlers import only other handlers`);
        else if (!relative && !(imp.typeOnly && imp.spec === "@kubernetes/client-node")) {
          out.push(
            `${f.path}:${imp.line}: a handler imports "${imp.spec}": handlers do no I/O (only "import type" from @kubernetes/client-node)`,
          );
        }
      } else if (relative && target.startsWith("handlers/") && target !== handlersFace) {
        out.push(`${f.path}:${imp.line}: the runtime imports ${target}: it reaches handlers only through ${handlersFace}`);
      }
    }
    if (layer === "handlers") {
      for (const i of impurities(sf))
        out.push(`${f.path}:${i.line}: a handler uses ${i.what}: handlers get time and randomness from their input`);
    }
  }
  return out;
}

/** The TypeScript sources of handlers/ and runtime/ under `root`. */
export function sourcesOf(root: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".ts")) out.push({ path: rel, text: readFileSync(join(root, rel), "utf8") });
    }
  };
  walk("handlers");
  walk("runtime");
  return out;
}
