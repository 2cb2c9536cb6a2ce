// The YAML of kubeconfig files, read without a YAML library: block and flow collections; plain,
// quoted and block scalars; comments; one document. Plain scalars resolve as in the YAML 1.2 core
// schema (null, booleans, integers, floats) the way js-yaml does, except that dates stay strings.
// What it does not read (anchors, aliases, tags, explicit and merge keys, a second document) is an
// error naming the line, never a value read some other way.

export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

/** The one document in the text; null when there is none. */
export function parseYaml(text: string): YamlValue {
  return new Reader(text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n")).document();
}

const escapes: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\x85",
  _: "\xa0",
  L: "\u2028",
  P: "\u2029",
};
const hexDigits: Record<string, number> = { x: 2, u: 4, U: 8 };

const unsupported: Record<string, string> = {
  "&": "anchors (&) are not supported",
  "*": "aliases (*) are not supported",
  "!": "tags (!) are not supported",
  "?": "explicit keys (?) are not supported",
  "%": "directives (%) are not supported",
};

const isBlank = (c: string | undefined) => c === undefined || c === " " || c === "\t" || c === "\n";
const isFlowIndicator = (c: string | undefined) => c === "," || c === "[" || c === "]" || c === "{" || c === "}";

function scalar(text: string): YamlValue {
  if (/^(?:|~|null|Null|NULL)$/.test(text)) return null;
  if (/^(?:true|True|TRUE)$/.test(text)) return true;
  if (/^(?:false|False|FALSE)$/.test(text)) return false;
  const int = /^([-+]?)(?:0b([01]+)|0x([0-9a-fA-F]+)|0o([0-7]+)|([0-9]+))$/.exec(text);
  if (int) {
    const [, sign, bin, hex, oct, dec] = int;
    const n = dec === "0" ? 0 : (sign === "-" ? -1 : 1) * parseInt((bin ?? hex ?? oct ?? dec)!, bin ? 2 : hex ? 16 : oct ? 8 : 10);
    if (Number.isFinite(n)) return n;
  }
  if (/^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?)$/.test(text)) {
    const n = Number.parseFloat(text);
    if (Number.isFinite(n)) return n;
  }
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(text)) return Number.NaN;
  return text;
}

class Reader {
  private pos = 0;
  /** Indentation of the line the last block node ended before; -1 at the end of the document. */
  private ind = 0;
  private readonly s: string;

  constructor(s: string) {
    this.s = s;
  }

  document(): YamlValue {
    const { s } = this;
    let value: YamlValue = null;
    let ind = this.skipLines();
    if (this.atMarker("---")) {
      this.pos += 3;
      this.skipSpace();
      if (!this.atLineEnd()) ind = this.col();
      else {
        this.endLine();
        ind = this.skipLines();
      }
    }
    if (ind >= 0) value = this.blockNode(-1, true);
    if (this.atMarker("...")) {
      this.pos += 3;
      this.endLine();
      this.skipLines();
    }
    if (this.pos < s.length) this.fail(this.atMarker("---") || this.atMarker("...") ? "only one document is supported" : "bad indentation");
    return value;
  }

  /** A node in block context at pos; n is the indentation of the collection holding it. */
  private blockNode(n: number, collections: boolean): YamlValue {
    const { s } = this;
    const c = s[this.pos]!;
    const col = this.col();
    if (c === "-" && isBlank(s[this.pos + 1])) {
      if (!collections) this.fail("a sequence cannot start on the line of its key");
      this.noTabBefore();
      return this.blockSeq(col);
    }
    if (c === "|" || c === ">") return this.blockScalar(n);
    let value: YamlValue;
    if (c === "[" || c === "{") value = this.flowNode();
    else {
      const start = this.pos;
      const key = this.mapKey(n);
      if (key !== undefined) {
        if (!collections) this.fail("a mapping cannot start on the line of its key", start);
        this.noTabBefore(start);
        return this.blockMap(col, key, start);
      }
      if (c === '"' || c === "'") value = this.quoted(n);
      else if (this.plainStarts(false)) value = this.plain(n, false);
      else this.fail(`unexpected ${JSON.stringify(c)}`);
    }
    this.endLine();
    this.skipLines();
    return value;
  }

  private blockMap(col: number, key: string, at: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {};
    for (;;) {
      this.skipSpace();
      let value: YamlValue = null;
      if (this.atLineEnd()) {
        this.endLine();
        const ind = this.skipLines();
        if (ind > col || (ind === col && this.s[this.pos] === "-" && isBlank(this.s[this.pos + 1]))) value = this.blockNode(col, true);
      } else value = this.blockNode(col, false);
      this.set(map, key, value, at);
      if (this.ind !== col) {
        if (this.ind > col) this.fail("bad indentation");
        return map;
      }
      at = this.pos;
      const next = this.mapKey(col);
      if (next === undefined) this.fail("expected a mapping key");
      key = next;
    }
  }

  private blockSeq(col: number): YamlValue[] {
    const { s } = this;
    const list: YamlValue[] = [];
    for (;;) {
      this.pos++;
      this.skipSpace();
      if (!this.atLineEnd()) list.push(this.blockNode(col, true));
      else {
        this.endLine();
        list.push(this.skipLines() > col ? this.blockNode(col, true) : null);
      }
      if (this.ind !== col || s[this.pos] !== "-" || !isBlank(s[this.pos + 1])) {
        if (this.ind > col) this.fail("bad indentation");
        return list;
      }
    }
  }

  /** Reads `key:` and returns the key, or returns undefined and leaves pos where it was. */
  private mapKey(n: number): string | undefined {
    const { s } = this;
    const start = this.pos;
    const c = s[start];
    let key: string;
    if (c === '"' || c === "'") key = this.quoted(n);
    else if (this.plainStarts(false)) key = String(scalar(this.plainLine(false)));
    else return undefined;
    this.skipSpace();
    if (s[this.pos] === ":" && isBlank(s[this.pos + 1])) {
      if (s.lastIndexOf("\n", this.pos) >= start) this.fail("a key must fit on one line", start);
      if (key === "<<" && c !== '"' && c !== "'") this.fail("merge keys (<<) are not supported", start);
      this.pos++;
      return key;
    }
    this.pos = start;
    return undefined;
  }

  /** A plain scalar, lines folded; in block context its further lines are indented more than n. */
  private plain(n: number, flow: boolean): YamlValue {
    const { s } = this;
    let text = this.plainLine(flow);
    for (;;) {
      const end = this.pos;
      this.skipSpace();
      if (s[this.pos] !== "\n") {
        this.pos = end;
        return scalar(text);
      }
      let breaks = 0;
      let indent: number;
      do {
        this.pos++;
        breaks++;
        const lineStart = this.pos;
        while (s[this.pos] === " ") this.pos++;
        indent = this.pos - lineStart;
        this.skipSpace();
      } while (s[this.pos] === "\n");
      const c = s[this.pos];
      if (
        c === undefined ||
        c === "#" ||
        (!flow && indent <= n) ||
        (flow && (isFlowIndicator(c) || (c === ":" && (isBlank(s[this.pos + 1]) || isFlowIndicator(s[this.pos + 1]))))) ||
        this.atMarker("---") ||
        this.atMarker("...")
      ) {
        this.pos = end;
        return scalar(text);
      }
      text += breaks > 1 ? "\n".repeat(breaks - 1) : " ";
      text += this.plainLine(flow);
    }
  }

  /** One line of a plain scalar, up to a `: `, a ` #`, a line end or (in flow context) a flow indicator. */
  private plainLine(flow: boolean): string {
    const { s } = this;
    const start = this.pos;
    let end = start;
    for (;;) {
      const c = s[this.pos];
      if (c === undefined || c === "\n") break;
      if (c === ":" && (isBlank(s[this.pos + 1]) || (flow && isFlowIndicator(s[this.pos + 1])))) break;
      if (c === "#" && (s[this.pos - 1] === " " || s[this.pos - 1] === "\t")) break;
      if (flow && isFlowIndicator(c)) break;
      this.pos++;
      if (c !== " " && c !== "\t") end = this.pos;
    }
    return s.slice(start, end);
  }

  /** Whether a plain scalar starts at pos; fails on what would start something this reader does not read. */
  private plainStarts(flow: boolean): boolean {
    const c = this.s[this.pos]!;
    const next = this.s[this.pos + 1];
    if ("-?:".includes(c) && !isBlank(next) && !(flow && isFlowIndicator(next))) return true;
    if (unsupported[c]) this.fail(unsupported[c]);
    return !isBlank(c) && !"-:#,[]{}|>'\"@`".includes(c);
  }

  /** A single- or double-quoted scalar; in block context its further lines are indented more than n. */
  private quoted(n: number): string {
    const { s } = this;
    const start = this.pos;
    const q = s[this.pos++];
    let out = "";
    let space = "";
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) this.fail("unterminated quoted string", start);
      if (c === q) {
        this.pos++;
        if (q === "'" && s[this.pos] === "'") {
          out += `${space}'`;
          space = "";
          this.pos++;
          continue;
        }
        return out + space;
      }
      if (c === " " || c === "\t") {
        space += c;
        this.pos++;
        continue;
      }
      const escapedBreak = c === "\\" && q === '"' && s[this.pos + 1] === "\n";
      if (c === "\n" || escapedBreak) {
        if (escapedBreak) {
          out += space;
          this.pos++;
        }
        space = "";
        let breaks = 0;
        do {
          this.pos++;
          breaks++;
          const lineStart = this.pos;
          while (s[this.pos] === " ") this.pos++;
          const indent = this.pos - lineStart;
          this.skipSpace();
          if (this.pos >= s.length || (s[this.pos] !== "\n" && indent <= n) || this.atMarker("---") || this.atMarker("...")) {
            this.fail("unterminated quoted string", start);
          }
        } while (s[this.pos] === "\n");
        if (escapedBreak && breaks > 1) this.fail("an escaped line break before an empty line is ambiguous", start);
        out += breaks > 1 ? "\n".repeat(breaks - 1) : escapedBreak ? "" : " ";
        continue;
      }
      out += space;
      space = "";
      if (c === "\\" && q === '"') {
        this.pos++;
        out += this.escape();
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  /** The escape after a backslash, at pos. */
  private escape(): string {
    const { s } = this;
    const e = s[this.pos];
    if (e === undefined) this.fail("unterminated quoted string");
    const digits = hexDigits[e];
    if (digits) {
      const hex = s.slice(this.pos + 1, this.pos + 1 + digits);
      const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === digits ? parseInt(hex, 16) : -1;
      if (code < 0 || code > 0x10ffff) this.fail(`bad escape \\${e}${hex}`);
      this.pos += 1 + digits;
      return String.fromCodePoint(code);
    }
    if (escapes[e] === undefined) this.fail(`unknown escape \\${e}`);
    this.pos++;
    return escapes[e]!;
  }

  /** A `|` or `>` scalar; its lines are indented more than n. */
  private blockScalar(n: number): string {
    const { s } = this;
    const folded = s[this.pos++] === ">";
    let chomp = "";
    let indent = -1;
    for (let i = 0; i < 2; i++) {
      const c = s[this.pos]!;
      if ((c === "-" || c === "+") && !chomp) chomp = c;
      else if (c >= "1" && c <= "9" && indent < 0) indent = n + Number(c);
      else break;
      this.pos++;
    }
    if (!isBlank(s[this.pos])) this.fail("bad block scalar header");
    this.endLine();
    let out = "";
    let empty = 0;
    let seen = false;
    let moreIndented = false;
    let blankIndent = 0;
    while (this.pos + 1 < s.length) {
      const lineStart = this.pos + 1;
      let p = lineStart;
      while (s[p] === " ") p++;
      const spaces = p - lineStart;
      const eol = s.indexOf("\n", p) < 0 ? s.length : s.indexOf("\n", p);
      if (p === eol && (indent < 0 || spaces <= indent)) {
        empty++;
        blankIndent = Math.max(blankIndent, spaces);
        this.pos = eol;
        continue;
      }
      if (spaces === 0 && (this.atMarker("---", lineStart) || this.atMarker("...", lineStart))) break;
      if (indent < 0) {
        if (spaces <= n) break;
        if (blankIndent > spaces) this.fail("a leading empty line is indented more than the text after it", lineStart);
        indent = spaces;
      }
      if (spaces < indent) break;
      const text = s.slice(lineStart + indent, eol);
      if (!folded) out += "\n".repeat(seen ? 1 + empty : empty);
      else if (text[0] === " " || text[0] === "\t") {
        moreIndented = true;
        out += "\n".repeat(seen ? 1 + empty : empty);
      } else if (moreIndented) {
        moreIndented = false;
        out += "\n".repeat(empty + 1);
      } else if (empty === 0) out += seen ? " " : "";
      else out += "\n".repeat(empty);
      out += text;
      seen = true;
      empty = 0;
      this.pos = eol;
    }
    if (chomp === "+") out += "\n".repeat(seen ? 1 + empty : empty);
    else if (chomp === "" && seen) out += "\n";
    this.skipLines();
    return out;
  }

  private flowNode(): YamlValue {
    const { s } = this;
    this.flowSpace();
    const c = s[this.pos];
    if (c === "[") {
      this.pos++;
      const list: YamlValue[] = [];
      while (this.flowSpace() !== "]") {
        list.push(this.flowNode());
        if (this.flowSpace() === ":") this.fail("key: value pairs inside [ ] are not supported");
        this.flowNext("]");
      }
      this.pos++;
      return list;
    }
    if (c === "{") {
      this.pos++;
      const map: { [key: string]: YamlValue } = {};
      while (this.flowSpace() !== "}") {
        const at = this.pos;
        const k = s[at];
        if (k === "[" || k === "{") this.fail("a collection as a mapping key is not supported");
        const quoted = k === '"' || k === "'";
        const key = quoted ? this.quoted(-1) : String(this.flowNode());
        if (key === "<<" && !quoted) this.fail("merge keys (<<) are not supported", at);
        let value: YamlValue = null;
        if (this.flowSpace() === ":" && (quoted || isBlank(s[this.pos + 1]) || isFlowIndicator(s[this.pos + 1]))) {
          this.pos++;
          const next = this.flowSpace();
          if (next !== "," && next !== "}") value = this.flowNode();
        }
        this.set(map, key, value, at);
        this.flowNext("}");
      }
      this.pos++;
      return map;
    }
    if (c === '"' || c === "'") return this.quoted(-1);
    if (c !== undefined && this.plainStarts(true)) return this.plain(-1, true);
    return this.fail(c === undefined ? "unterminated flow collection" : `unexpected ${JSON.stringify(c)}`);
  }

  /** Past the "," after a flow entry, or up to the closing bracket. */
  private flowNext(close: string): void {
    const c = this.flowSpace();
    if (c === ",") this.pos++;
    else if (c !== close) this.fail(c === undefined ? "unterminated flow collection" : `expected "," or "${close}"`);
  }

  /** Skips spaces, line breaks and comments inside a flow collection; returns the next character. */
  private flowSpace(): string | undefined {
    const { s } = this;
    for (;;) {
      const c = s[this.pos];
      if (c === " " || c === "\t" || c === "\n") this.pos++;
      else if (c === "#" && isBlank(s[this.pos - 1])) this.pos = s.indexOf("\n", this.pos) < 0 ? s.length : s.indexOf("\n", this.pos);
      else return c;
    }
  }

  /** Skips blank and comment lines to the next line with content; returns its indentation, -1 at the end of the document. */
  private skipLines(): number {
    const { s } = this;
    for (;;) {
      if (s[this.pos] === "\n") this.pos++;
      const lineStart = this.pos;
      while (s[this.pos] === " ") this.pos++;
      const spaces = this.pos - lineStart;
      this.skipSpace();
      const c = s[this.pos];
      if (c === "#") this.endLine();
      else if (c !== "\n") {
        if (spaces === 0 && /^---[^ \t\n]/.test(s.slice(this.pos, this.pos + 4)))
          this.fail("a line starting with --- is ambiguous: quote it");
        if (c === undefined || (spaces === 0 && (this.atMarker("---") || this.atMarker("...")))) this.ind = -1;
        else if (this.pos - lineStart !== spaces) this.fail("tabs cannot indent YAML: use spaces", lineStart + spaces);
        else this.ind = spaces;
        return this.ind;
      }
    }
  }

  /** Skips the rest of the line: spaces, then a comment; fails on anything else. */
  private endLine(): void {
    const { s } = this;
    const start = this.pos;
    this.skipSpace();
    const c = s[this.pos];
    if (c === "#" && (this.pos > start || isBlank(s[this.pos - 1])))
      this.pos = s.indexOf("\n", this.pos) < 0 ? s.length : s.indexOf("\n", this.pos);
    else if (c !== undefined && c !== "\n") this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  /** A block collection's column counts spaces only: "-\tkey: v" is an error, where "-\tvalue" is not. */
  private noTabBefore(at = this.pos): void {
    if (this.s.slice(this.s.lastIndexOf("\n", at - 1) + 1, at).includes("\t")) this.fail("tabs cannot indent YAML: use spaces", at);
  }

  private atLineEnd(): boolean {
    const c = this.s[this.pos];
    return c === undefined || c === "\n" || c === "#";
  }

  private skipSpace(): void {
    while (this.s[this.pos] === " " || this.s[this.pos] === "\t") this.pos++;
  }

  private atMarker(marker: string, at = this.pos): boolean {
    return (at === 0 || this.s[at - 1] === "\n") && this.s.startsWith(marker, at) && isBlank(this.s[at + 3]);
  }

  private col(at = this.pos): number {
    return at - this.s.lastIndexOf("\n", at - 1) - 1;
  }

  private set(map: { [key: string]: YamlValue }, key: string, value: YamlValue, at: number): void {
    if (Object.hasOwn(map, key)) this.fail(`duplicate key ${JSON.stringify(key)}`, at);
    if (key === "__proto__") Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
    else map[key] = value;
  }

  private fail(message: string, at = this.pos): never {
    const line = this.s.slice(0, at).split("\n").length;
    throw new Error(`line ${line}, column ${this.col(at) + 1}: ${message}`);
  }
}
