/**
 * A tolerant reader of the nats-server config format, enough to compare two configs: maps
 * (`k { … }`, `k: { … }`), arrays, quoted and bare values, `=`/`:`/space separators, `#` and
 * `//` comments, and `include` of other files from `files`. Values are kept as strings.
 */
export type ConfValue = string | ConfValue[] | ConfMap;
export interface ConfMap {
  [key: string]: ConfValue;
}

class ConfError extends Error {}

export type ParsedConf = { conf: ConfMap } | ParsedConfError;

/** `entry` read with what it includes from `files`, or where and why it cannot be read. */
export function parseNatsConf(files: Record<string, string>, entry: string): ParsedConf {
  return read(files, entry) as ParsedConf;
}

/** A value as nats-server's parser types it: quoted text stays text; bare numbers, sizes and booleans get their type. */
export type TypedValue = string | number | boolean | TypedValue[] | { [key: string]: TypedValue };

/**
 * As parseNatsConf, with values typed as nats-server types them (for its config digest), and
 * `$VAR` references resolved from `env` as nats-server resolves them from its environment.
 */
export function parseNatsConfTyped(
  files: Record<string, string>,
  entry: string,
  env: Record<string, string>,
): { conf: Record<string, TypedValue> } | ParsedConfError {
  return read(files, entry, env) as { conf: Record<string, TypedValue> } | ParsedConfError;
}

type ParsedConfError = { error: { code: 400; message: string } };

/** `env`: read typed, with variables from it; absent: values as text. */
function read(files: Record<string, string>, entry: string, env?: Record<string, string>): { conf: unknown } | ParsedConfError {
  const text = files[entry];
  if (text === undefined) return { error: { code: 400, message: `${entry}: no such file` } };
  try {
    return { conf: new Reader(text, entry, files, new Set([entry]), env).document() };
  } catch (e) {
    if (e instanceof ConfError) return { error: { code: 400, message: e.message } };
    throw e;
  }
}

const sizes: Record<string, number> = {
  k: 1e3,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/** A bare value as nats-server's lexer and parser read it: boolean, integer (with a size suffix), float, else text. */
function typedBare(v: string): TypedValue {
  const lower = v.toLowerCase();
  if (["true", "yes", "on"].includes(lower)) return true;
  if (["false", "no", "off"].includes(lower)) return false;
  const int = /^(-?\d+)([a-z]*)$/.exec(lower);
  if (int && (int[2] === "" || sizes[int[2]!] !== undefined)) return Number(int[1]) * (int[2] ? sizes[int[2]]! : 1);
  if (/^-?\d+\.\d+$/.test(v)) return Number(v);
  return v;
}

class Reader {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly name: string,
    private readonly files: Record<string, string>,
    private readonly seen: Set<string>,
    private readonly env?: Record<string, string>,
  ) {}

  document(): ConfMap {
    this.space();
    if (this.s[this.i] === "{") {
      this.i++;
      const m = this.map("}");
      return m;
    }
    return this.map(undefined);
  }

  private fail(msg: string): never {
    const line = this.s.slice(0, this.i).split("\n").length;
    throw new ConfError(`${this.name}:${line}: ${msg}`);
  }

  /** Skips blanks, newlines, commas, semicolons and comments. */
  private space() {
    for (;;) {
      const c = this.s[this.i];
      if (c === undefined) return;
      if (c === "#" || (c === "/" && this.s[this.i + 1] === "/")) {
        while (this.i < this.s.length && this.s[this.i] !== "\n") this.i++;
      } else if (/[\s,;]/.test(c)) this.i++;
      else return;
    }
  }

  private inlineSpace() {
    while (this.s[this.i] === " " || this.s[this.i] === "\t") this.i++;
  }

  private map(close: string | undefined): ConfMap {
    const out: ConfMap = {};
    for (;;) {
      this.space();
      const c = this.s[this.i];
      if (c === undefined) {
        if (close) this.fail(`missing "${close}"`);
        return out;
      }
      if (c === close) {
        this.i++;
        return out;
      }
      const key = this.key();
      this.inlineSpace();
      if (key === "include" && this.s[this.i] !== "=" && this.s[this.i] !== ":") {
        Object.assign(out, this.include());
        continue;
      }
      if (this.s[this.i] === "=" || this.s[this.i] === ":") this.i++;
      this.inlineSpace();
      out[key] = this.value();
    }
  }

  private key(): string {
    const c = this.s[this.i];
    if (c === '"' || c === "'") return this.quoted();
    const start = this.i;
    while (this.i < this.s.length && !/[\s=:{}[\],;#]/.test(this.s[this.i]!)) this.i++;
    if (this.i === start) this.fail(`unexpected ${JSON.stringify(this.s[this.i])}`);
    return this.s.slice(start, this.i);
  }

  private include(): ConfMap {
    const c = this.s[this.i];
    const file = c === '"' || c === "'" ? this.quoted() : this.bare();
    const base = file.split("/").pop()!;
    const text = this.files[file] ?? this.files[base];
    if (text === undefined) this.fail(`include ${JSON.stringify(file)}: no such file`);
    if (this.seen.has(base)) this.fail(`include ${JSON.stringify(file)} includes itself`);
    return new Reader(text, base, this.files, new Set([...this.seen, base]), this.env).document();
  }

  private value(): ConfValue {
    const c = this.s[this.i];
    if (c === "{") {
      this.i++;
      return this.map("}");
    }
    if (c === "[") {
      this.i++;
      const arr: ConfValue[] = [];
      for (;;) {
        this.space();
        if (this.s[this.i] === undefined) this.fail('missing "]"');
        if (this.s[this.i] === "]") {
          this.i++;
          return arr;
        }
        const at = this.i;
        arr.push(this.value());
        // A character no value can start with ("}" say) would otherwise be read as "" forever.
        if (this.i === at) this.fail(`unexpected ${JSON.stringify(this.s[this.i])} in a list`);
      }
    }
    if (c === '"' || c === "'") return this.quoted();
    const bare = this.bare();
    if (!this.env) return bare;
    if (!bare.startsWith("$")) return typedBare(bare) as ConfValue;
    const v = this.env[bare.slice(1)];
    if (v === undefined) this.fail(`variable reference for '${bare.slice(1)}' can not be found`);
    return typedBare(v) as ConfValue;
  }

  private quoted(): string {
    const q = this.s[this.i++];
    let out = "";
    while (this.i < this.s.length && this.s[this.i] !== q) {
      if (q === '"' && this.s[this.i] === "\\" && this.i + 1 < this.s.length) {
        const n = this.s[++this.i]!;
        out += { n: "\n", t: "\t", r: "\r" }[n] ?? n;
      } else out += this.s[this.i];
      this.i++;
    }
    if (this.s[this.i] !== q) this.fail("unterminated string");
    this.i++;
    return out;
  }

  private bare(): string {
    const start = this.i;
    // "//" starts a comment only after a blank: in nats://host:6222 it is part of the value.
    const comment = () => this.s[this.i] === "/" && this.s[this.i + 1] === "/" && (this.i === start || /\s/.test(this.s[this.i - 1]!));
    while (this.i < this.s.length && !/[\n,;}\]#]/.test(this.s[this.i]!) && !comment()) this.i++;
    return this.s.slice(start, this.i).trim();
  }
}

/**
 * The files a config text `include`s, as written (nats-server resolves them against the
 * including file's directory). Comments are skipped; an `include` key inside quotes is not one.
 */
export function includedFiles(text: string): string[] {
  const uncommented = text
    .split("\n")
    .map((line) => line.replace(/(^|\s)(#|\/\/).*$/, "$1"))
    .join("\n");
  const found: string[] = [];
  for (const m of uncommented.matchAll(/(?:^|[\s{;])include\s+(?:"([^"]+)"|'([^']+)'|([^\s;}'"]+))/g)) {
    found.push((m[1] ?? m[2] ?? m[3])!);
  }
  return found;
}
