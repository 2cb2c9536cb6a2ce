/** One command-line flag. Go style (`-name v`, `-name=v`) and GNU style (`--name v`) both work. */
export interface FlagSpec {
  names: string[];
  help: string;
  arg?: string;
  env?: string[];
  default?: string;
  boolean?: boolean;
  repeat?: boolean;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export class UsageError extends Error {}

/** Parses argv against specs; values come from flags, then env, then defaults. Keyed by the first name. */
export function parseFlags(
  specs: FlagSpec[],
  argv: string[],
  env: Record<string, string | undefined>,
): { values: FlagValues; rest: string[] } {
  const byName = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of s.names) byName.set(n, s);
  const values: FlagValues = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(a.startsWith("--") ? 2 : 1, eq >= 0 ? eq : undefined);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown flag ${a.slice(0, eq >= 0 ? eq : undefined)}: see --help`);
    const key = spec.names[0]!;
    let value: string | boolean;
    if (spec.boolean) {
      value = eq >= 0 ? !["false", "0", "no"].includes(a.slice(eq + 1)) : true;
    } else if (eq >= 0) {
      value = a.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new UsageError(`flag -${name} needs a value (${spec.arg ?? "value"})`);
      value = argv[++i]!;
    }
    if (spec.repeat) values[key] = [...((values[key] as string[] | undefined) ?? []), String(value)];
    else values[key] = value;
  }
  for (const s of specs) {
    const key = s.names[0]!;
    if (values[key] !== undefined) continue;
    const fromEnv = s.env?.map((e) => env[e]).find((v) => v !== undefined && v !== "");
    if (fromEnv !== undefined) values[key] = s.boolean ? !["false", "0", "no"].includes(fromEnv) : s.repeat ? [fromEnv] : fromEnv;
    else if (s.default !== undefined) values[key] = s.repeat ? [s.default] : s.default;
  }
  return { values, rest };
}

export function flagHelp(specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = s.names.map((n) => `-${n}`).join(", ") + (s.boolean ? "" : ` ${s.arg ?? "VALUE"}`);
    const notes = [s.env?.length ? `env ${s.env.join(", ")}` : "", s.default ? `default ${JSON.stringify(s.default)}` : ""].filter(Boolean);
    return [left, s.help + (notes.length ? ` (${notes.join("; ")})` : "")] as const;
  });
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, r]) => (l.length + 2 > width ? `  ${l}\n  ${" ".repeat(width)}${r}` : `  ${l.padEnd(width)}${r}`)).join("\n");
}
