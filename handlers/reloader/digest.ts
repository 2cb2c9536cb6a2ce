import { parseNatsConfTyped, type TypedValue } from "./nats-conf.ts";
import { sha256Hex } from "./sha256.ts";

/**
 * The `config_digest` nats-server (2.11+) reports in /varz for this config: "sha256:" and the
 * hash of its parsed config as Go's JSON encoder writes it (sorted keys, HTML characters escaped,
 * a newline). Equal digests: the server runs exactly this config. Covers what satellite renders
 * (text, numbers, sizes, booleans, lists, maps, includes, `$VAR`s from `env`, e.g. POD_NAME);
 * test/integration/server-config.test.ts checks it against nats-server's own.
 */
export function configDigest(
  files: Record<string, string>,
  entry: string,
  env: Record<string, string>,
): { digest: string } | { error: { code: number; message: string } } {
  const parsed = parseNatsConfTyped(files, entry, env);
  if ("error" in parsed) return parsed;
  return { digest: `sha256:${sha256Hex(`${goJson(parsed.conf)}\n`)}` };
}

function goJson(v: TypedValue): string {
  if (typeof v === "string")
    return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(goJson).join(",")}]`;
  const keys = Object.keys(v).sort(byUtf8);
  return `{${keys.map((k) => `${goJson(k)}:${goJson(v[k]!)}`).join(",")}}`;
}

/** Go sorts map keys by their bytes; code point order is the same thing for UTF-8. */
function byUtf8(a: string, b: string): number {
  const [x, y] = [[...a], [...b]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d) return d;
  }
  return x.length - y.length;
}
