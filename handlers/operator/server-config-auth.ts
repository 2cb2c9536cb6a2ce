// The clients authorization config of a NatsCluster (spec.auth.clientsAuthSecret) — parsing it
// strictly and writing it as nats.conf — and the nats.conf value writers server-config.ts uses.
//
// The Secret's format is the original nats-operator's: JSON of its natsconf.AuthorizationConfig,
//   {"users": [{"username": "u", "password": "p",
//               "permissions": {"publish": ["a.>"], "subscribe": ["b.*"]}}],
//    "default_permissions": {"publish": ["SANDBOX.*"], "subscribe": ["PUBLIC.>"]}}
// where a permission is a list of subjects or {"allow": [...], "deny": [...]}.
// The original read whichever key the Secret had (its docs: `kubectl create secret generic
// nats-clients-auth --from-file=clients-auth.json`); chooseClientsAuthKey keeps that working.

/** The Secret key holding the authorization JSON (a Secret with one key of another name works too). */
export const clientsAuthKey = "clients-auth.json";

/** Subjects, or subjects allowed and denied. */
export type SubjectPermission = string[] | { allow?: string[]; deny?: string[] };
export interface Permissions {
  publish?: SubjectPermission;
  subscribe?: SubjectPermission;
}
export interface ClientsAuthUser {
  username: string;
  password?: string;
  permissions?: Permissions;
  /** May publish replies to the requests it receives (the operator's own user only). */
  allowResponses?: boolean;
}

/** The parsed authorization config from spec.auth.clientsAuthSecret (JSON field names kept). */
export interface ClientsAuth {
  users?: ClientsAuthUser[];
  default_permissions?: Permissions;
  /** Seconds; spec.auth.clientsAuthTimeout wins when set. */
  timeout?: number;
}

export type Result<T> = { value: T } | { error: { code: 400; message: string } };
export const invalid = (message: string) => ({ error: { code: 400 as const, message } });

/** Which key of an auth Secret holds the JSON: `preferred`, else the Secret's only key. */
export function chooseAuthKey(keys: string[], preferred: string): Result<string> {
  if (keys.includes(preferred)) return { value: preferred };
  if (keys.length === 1) return { value: keys[0]! };
  if (keys.length === 0) return invalid(`has no keys: put the authorization JSON under "${preferred}"`);
  const listed = [...keys]
    .sort()
    .map((k) => JSON.stringify(k))
    .join(", ");
  return invalid(`has keys ${listed} and none is "${preferred}": put the authorization JSON under that key`);
}

export const chooseClientsAuthKey = (keys: string[]) => chooseAuthKey(keys, clientsAuthKey);

/**
 * The JSON in an auth Secret, or JSON.parse's refusal without the text around the mistake, which
 * V8 quotes and which may be a password: where the mistake is, when the engine says.
 */
export function parseJson(source: string): Result<unknown> {
  try {
    return { value: JSON.parse(source) as unknown };
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    return invalid(at === undefined ? "not valid JSON" : `not valid JSON (at position ${at})`);
  }
}

class AuthError extends Error {}
/** A value that cannot be written into nats.conf safely; renderServerConfig turns it into an error result. */
export class RenderError extends Error {}
const fail = (msg: string): never => {
  throw new AuthError(msg);
};
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const kind = (v: unknown) =>
  v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : `a ${typeof v}`;

function onlyFields(o: Record<string, unknown>, where: string, known: string[]) {
  for (const k of Object.keys(o).sort()) {
    if (!known.includes(k)) fail(`${where} has unknown field ${JSON.stringify(k)}; known fields are ${known.join(", ")}`);
  }
}

function text(v: unknown, where: string): string {
  if (typeof v !== "string") fail(`${where} must be a string, not ${kind(v)}`);
  const bad = unsafeCharAt(v as string);
  if (bad) fail(`${where} contains ${bad}, which nats.conf cannot hold`);
  return v as string;
}

/** nats-server's IsValidSubject; subscribe subjects may carry a queue group: "orders.* workers". */
function isSubject(s: string): boolean {
  const tokens = s.split(".");
  return tokens.every((t, i) => t !== "" && !/[\t\n\f\r ]/.test(t) && (t !== ">" || i === tokens.length - 1));
}

function subjects(v: unknown, where: string, queue: boolean): string[] {
  if (!Array.isArray(v)) fail(`${where} must be a list of subjects, not ${kind(v)}`);
  return (v as unknown[]).map((s, i) => {
    const subject = text(s, `${where}[${i}]`);
    const fields = subject.split(/\s+/).filter(Boolean);
    const ok = isSubject(subject) || (queue && fields.length === 2 && isSubject(fields[0]!));
    if (!ok) fail(`${where}[${i}] ${JSON.stringify(subject)} is not a valid subject`);
    return subject;
  });
}

function subjectPermission(v: unknown, where: string, queue: boolean): SubjectPermission {
  if (Array.isArray(v)) return subjects(v, where, queue);
  if (!isObject(v)) fail(`${where} must be a list of subjects or {"allow": [...], "deny": [...]}, not ${kind(v)}`);
  const o = v as Record<string, unknown>;
  onlyFields(o, where, ["allow", "deny"]);
  const p: { allow?: string[]; deny?: string[] } = {};
  if (o.allow !== undefined) p.allow = subjects(o.allow, `${where}.allow`, queue);
  if (o.deny !== undefined) p.deny = subjects(o.deny, `${where}.deny`, queue);
  return p;
}

function permissions(v: unknown, where: string): Permissions {
  if (!isObject(v)) fail(`${where} must be an object with "publish" and/or "subscribe", not ${kind(v)}`);
  const o = v as Record<string, unknown>;
  onlyFields(o, where, ["publish", "subscribe"]);
  const p: Permissions = {};
  if (o.publish !== undefined) p.publish = subjectPermission(o.publish, `${where}.publish`, false);
  if (o.subscribe !== undefined) p.subscribe = subjectPermission(o.subscribe, `${where}.subscribe`, true);
  return p;
}

function user(v: unknown, where: string, seen: Map<string, string>): ClientsAuthUser {
  if (!isObject(v)) fail(`${where} must be an object with "username", not ${kind(v)}`);
  const o = v as Record<string, unknown>;
  onlyFields(o, where, ["username", "password", "permissions"]);
  if (o.username === undefined || o.username === "") fail(`${where} has no username`);
  const u: ClientsAuthUser = { username: text(o.username, `${where}.username`) };
  const first = seen.get(u.username);
  if (first) fail(`${where} repeats username ${JSON.stringify(u.username)} of ${first}`);
  seen.set(u.username, where);
  if (o.password !== undefined) u.password = text(o.password, `${where}.password`);
  if (o.permissions !== undefined) u.permissions = permissions(o.permissions, `${where}.permissions`);
  return u;
}

/** Parses the auth Secret's JSON, accepting only what it can render; errors are sentences. */
export function parseClientsAuth(source: string): Result<ClientsAuth> {
  const json = parseJson(source);
  if ("error" in json) return json;
  const doc = json.value;
  try {
    if (!isObject(doc)) fail(`must be a JSON object with "users" and/or "default_permissions", not ${kind(doc)}`);
    const o = doc as Record<string, unknown>;
    onlyFields(o, "the object", ["users", "default_permissions", "timeout"]);
    const auth: ClientsAuth = {};
    if (o.users !== undefined) {
      if (!Array.isArray(o.users)) fail(`"users" must be a list, not ${kind(o.users)}`);
      const seen = new Map<string, string>();
      auth.users = (o.users as unknown[]).map((u, i) => user(u, `users[${i}]`, seen));
    }
    if (o.default_permissions !== undefined) auth.default_permissions = permissions(o.default_permissions, "default_permissions");
    if (o.timeout !== undefined) {
      if (typeof o.timeout !== "number" || !Number.isFinite(o.timeout) || o.timeout < 0)
        fail(`"timeout" must be a number of seconds, 0 or more`);
      auth.timeout = o.timeout as number;
    }
    return { value: auth };
  } catch (e) {
    if (e instanceof AuthError) return invalid(e.message);
    throw e;
  }
}

// ---- nats.conf value writers ------------------------------------------------------------------

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Describes the first character nats.conf cannot hold safely, or undefined. */
export function unsafeCharAt(s: string): string | undefined {
  const m = unsafe.exec(s);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  const name =
    code === 10
      ? "a newline"
      : code === 13
        ? "a carriage return"
        : code === 9
          ? "a tab"
          : code >= 0xd800 && code <= 0xdfff
            ? "a lone surrogate"
            : "a control character";
  return `${name} (U+${code.toString(16).toUpperCase().padStart(4, "0")}) at position ${m.index}`;
}

/** A nats.conf double-quoted string; throws on characters it cannot hold (the value is not echoed: it may be a password). */
export function quote(value: string, what: string): string {
  if (typeof value !== "string") throw new RenderError(`cannot write ${what} into nats.conf: it is ${kind(value)}, not a string`);
  const bad = unsafeCharAt(value);
  if (bad) throw new RenderError(`cannot write ${what} into nats.conf: it contains ${bad}`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A plain decimal number (nats.conf has no exponents, NaN or Infinity); `integer` for counts and ports. */
export function num(value: number, what: string, integer = false): string {
  const s = String(value);
  const ok = typeof value === "number" && (integer ? Number.isSafeInteger(value) : /^-?\d+(\.\d+)?$/.test(s));
  if (!ok) throw new RenderError(`cannot write ${what} into nats.conf: ${s} is not ${integer ? "an integer" : "a plain decimal number"}`);
  return s;
}

const block = (parts: string[]) => (parts.length ? `{ ${parts.join(", ")} }` : "{}");
const list = (items: string[], what: string) => `[${items.map((s, i) => quote(s, `${what}[${i}]`)).join(", ")}]`;

function permissionConf(p: SubjectPermission, what: string): string {
  if (Array.isArray(p)) return list(p, what);
  const parts: string[] = [];
  if (p.allow) parts.push(`allow: ${list(p.allow, `${what}.allow`)}`);
  if (p.deny) parts.push(`deny: ${list(p.deny, `${what}.deny`)}`);
  return block(parts);
}

function permissionsConf(p: Permissions, what: string, allowResponses = false): string {
  const parts: string[] = [];
  if (p.publish) parts.push(`publish: ${permissionConf(p.publish, `${what}.publish`)}`);
  if (p.subscribe) parts.push(`subscribe: ${permissionConf(p.subscribe, `${what}.subscribe`)}`);
  if (allowResponses) parts.push("allow_responses: true");
  return block(parts);
}

/** The `authorization { … }` block; `timeout` is spec.auth.clientsAuthTimeout (wins over the secret's). */
export function authorizationConf(auth: ClientsAuth, timeout: number | undefined): string[] {
  const t = timeout !== undefined && timeout > 0 ? timeout : auth.timeout;
  const lines = ["authorization {"];
  if (t !== undefined) lines.push(`  timeout: ${num(t, "the authorization timeout")}`);
  if (auth.default_permissions) lines.push(`  default_permissions: ${permissionsConf(auth.default_permissions, "default_permissions")}`);
  if (auth.users) {
    lines.push("  users: [");
    auth.users.forEach((u, i) => {
      const w = `users[${i}]`;
      const parts = [`user: ${quote(u.username, `${w}.username`)}`];
      if (u.password !== undefined) parts.push(`password: ${quote(u.password, `${w}.password`)}`);
      if (u.permissions || u.allowResponses)
        parts.push(`permissions: ${permissionsConf(u.permissions ?? {}, `${w}.permissions`, u.allowResponses)}`);
      lines.push(`    { ${parts.join(", ")} }`);
    });
    lines.push("  ]");
  }
  lines.push("}");
  return lines;
}
