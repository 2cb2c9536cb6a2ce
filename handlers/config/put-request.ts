/** A validated config.put request. */
export interface PutRequest {
  name?: string;
  routes: string[];
  revision?: string;
  /** How long to wait for every server to confirm it reloaded the new config, in ms. */
  waitMs?: number;
  /** Roll this change out canary first, or to every server at once (configReload.mode operator). */
  strategy?: "all" | "canary";
}

export const putLimits = {
  maxPayloadBytes: 64 * 1024,
  maxRoutes: 256,
  maxRouteLength: 512,
  maxNameLength: 64,
  maxWaitMs: 60_000,
};

const allowedKeys = ["name", "routes", "revision", "wait", "strategy"];
const namePattern = /^[A-Za-z0-9_-]+$/;
const label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const hostname = new RegExp(`^${label}(?:\\.${label})*$`);
const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const ipv6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const userChars = "(?:[A-Za-z0-9._~!&+,;=-]|%[0-9A-Fa-f]{2})";
const userinfo = new RegExp(`^${userChars}+(?::${userChars}*)?$`);
const routeShape = /^(nats|nats-route):\/\/(?:([^@/?#]*)@)?(\[[^\]]*\]|[^:/?#@]*)(?::([^/?#]*))?(\/)?$/i;

type Parsed<T> = { value: T } | { error: { code: number; message: string } };
const bad = (message: string, code = 400): { error: { code: number; message: string } } => ({ error: { code, message } });

export function parsePutRequest(data: Uint8Array): Parsed<PutRequest> {
  if (data.length > putLimits.maxPayloadBytes) {
    return bad(`request is ${data.length} bytes: the limit is ${putLimits.maxPayloadBytes}`, 413);
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data));
  } catch (e) {
    return bad(`request is not valid JSON: ${(e as Error).message}; send {"name": "...", "routes": ["nats://host:6222", ...]}`);
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    return bad(`request must be a JSON object like {"name": "...", "routes": ["nats://host:6222", ...]}`);
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((k) => !allowedKeys.includes(k));
  if (unknown.length) {
    return bad(
      `unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}: allowed fields are ${allowedKeys.join(", ")}`,
    );
  }
  const out: PutRequest = { routes: [] };
  if (fields.name !== undefined) {
    const n = fields.name;
    if (typeof n !== "string" || !namePattern.test(n) || n.length > putLimits.maxNameLength) {
      return bad(
        `name ${JSON.stringify(n)} is not a valid NATS cluster name: use 1 to ${putLimits.maxNameLength} letters, digits, "_" or "-"`,
      );
    }
    out.name = n;
  }
  if (fields.routes === undefined) return bad(`field "routes" is required: a list of route URLs such as "nats://host:6222"`);
  if (!Array.isArray(fields.routes)) return bad(`field "routes" must be a list of route URLs`);
  if (fields.routes.length > putLimits.maxRoutes) {
    return bad(`${fields.routes.length} routes given: the limit is ${putLimits.maxRoutes}`);
  }
  const seen = new Map<string, string>();
  for (const [i, r] of fields.routes.entries()) {
    const checked = checkRoute(r, i);
    if ("error" in checked) return checked;
    const first = seen.get(checked.value.key);
    if (first !== undefined) return bad(`routes[${i}] ${JSON.stringify(r)} duplicates ${JSON.stringify(first)}: list each server once`);
    seen.set(checked.value.key, r as string);
    out.routes.push(r as string);
  }
  if (fields.revision !== undefined) {
    const rv = fields.revision;
    const s = typeof rv === "number" && Number.isSafeInteger(rv) && rv >= 0 ? String(rv) : rv;
    if (typeof s !== "string" || !/^[0-9A-Za-z._-]{1,64}$/.test(s)) {
      return bad(`revision ${JSON.stringify(rv)} is not a revision: use the "revision" value from config.get`);
    }
    out.revision = s;
  }
  if (fields.wait !== undefined) {
    const ms = parseDuration(fields.wait);
    if (ms === undefined || ms > putLimits.maxWaitMs) {
      return bad(
        `wait ${JSON.stringify(fields.wait)} is not a duration up to ${putLimits.maxWaitMs / 1000}s: use e.g. "5s", "1500ms" or a number of seconds`,
      );
    }
    out.waitMs = ms;
  }
  if (fields.strategy !== undefined) {
    if (fields.strategy !== "all" && fields.strategy !== "canary")
      return bad(`strategy ${JSON.stringify(fields.strategy)}: use "all" or "canary"`);
    out.strategy = fields.strategy;
  }
  return { value: out };
}

function checkRoute(r: unknown, i: number): Parsed<{ key: string }> {
  const at = `routes[${i}]`;
  if (typeof r !== "string") return bad(`${at} must be a string URL such as "nats://host:6222"`);
  if (r.length > putLimits.maxRouteLength) return bad(`${at} is ${r.length} characters long: the limit is ${putLimits.maxRouteLength}`);
  const m = routeShape.exec(r);
  if (!m) {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(r)?.[1];
    if (scheme && !["nats", "nats-route"].includes(scheme.toLowerCase())) {
      return bad(`${at} ${JSON.stringify(r)} has scheme "${scheme}": routes use nats:// or nats-route://`);
    }
    return bad(`${at} ${JSON.stringify(r)} is not a route URL: use nats://host:port or nats-route://[user:pass@]host:port`);
  }
  const [, , user, host = "", port] = m;
  if (user !== undefined && !userinfo.test(user))
    return bad(`${at} ${JSON.stringify(r)} has credentials that are not valid: percent-encode reserved characters as %XX`);
  if (!host) return bad(`${at} ${JSON.stringify(r)} has no host`);
  const v4 = ipv4.exec(host);
  const hostOk = v4
    ? v4.slice(1).every((o) => Number(o) <= 255)
    : ipv6.test(host) || (hostname.test(host) && host.length <= 253 && !/^[0-9.]+$/.test(host));
  if (!hostOk) return bad(`${at} ${JSON.stringify(r)} has an invalid host ${JSON.stringify(host)}`);
  if (port === undefined || port === "") return bad(`${at} ${JSON.stringify(r)} has no port: add one, e.g. :6222`);
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return bad(`${at} ${JSON.stringify(r)} has an invalid port ${JSON.stringify(port)}: use 1 to 65535`);
  }
  return { value: { key: `${host.toLowerCase()}:${Number(port)}` } };
}

/** "5s", "1500ms", "1m", or a number of seconds. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : undefined;
  if (typeof v !== "string") return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)$/.exec(v.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as "ms" | "s" | "m"]);
}
