import { type ConfValue, parseNatsConf } from "../reloader/nats-conf.ts";
import type { ConfigMap, Target } from "../types.ts";

/** The content of routes.json, included by nats.conf inside `cluster {}`. */
export interface RoutesConfig {
  name?: string;
  routes: string[];
  /** Other cluster-block keys an operator wrote by hand: kept as they are. */
  rest: Record<string, unknown>;
}

export type Loaded = { config: RoutesConfig; revision: string } | { error: { code: number; message: string } };

/** Reads the config out of the ConfigMap, or says precisely what is missing or broken. */
export function loadRoutesConfig(target: Target, cm: ConfigMap | null): Loaded {
  const where = `configmap "${target.configMap}" in namespace "${target.namespace}"`;
  if (!cm) return { error: { code: 404, message: `${where} not found: create it, or pass -cm with the right name` } };
  const revision = cm.metadata?.resourceVersion ?? "";
  const text = cm.data?.[target.key];
  if (text === undefined) {
    const keys = Object.keys(cm.data ?? {});
    const has = keys.length ? `it has ${keys.map((k) => `"${k}"`).join(", ")}` : "it has no data";
    return { error: { code: 404, message: `${where} has no key "${target.key}" (${has}): write one with config.put, or pass -key` } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (jsonError) {
    // The seed writes it in nats-server's own syntax: unquoted keys, `=`, comments, trailing commas.
    const read = parseNatsConf({ [target.key]: text }, target.key);
    if ("error" in read) {
      return {
        error: {
          code: 500,
          message: `${where} key "${target.key}" is neither JSON (${(jsonError as Error).message}) nor nats-server config (${read.error.message}): fix it, or overwrite it with config.put`,
        },
      };
    }
    // name and routes stay text as written (a name may look like a number); other keys get types back.
    const { name, routes, ...other } = read.conf;
    parsed = { name, routes, ...(typed(other) as Record<string, unknown>) };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { error: { code: 500, message: `${where} key "${target.key}" is not a JSON object: overwrite it with config.put` } };
  }
  const { name, routes, ...rest } = parsed as Record<string, unknown>;
  if (name !== undefined && typeof name !== "string") {
    return { error: { code: 500, message: `${where} key "${target.key}": "name" is not a string: overwrite it with config.put` } };
  }
  if (routes !== undefined && (!Array.isArray(routes) || routes.some((r) => typeof r !== "string"))) {
    return {
      error: { code: 500, message: `${where} key "${target.key}": "routes" is not a list of strings: overwrite it with config.put` },
    };
  }
  return { config: { name, routes: (routes as string[] | undefined) ?? [], rest }, revision };
}

/** The reader keeps values as text: numbers and booleans written bare become JSON's again. */
function typed(v: ConfValue): unknown {
  if (Array.isArray(v)) return v.map(typed);
  if (typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typed(x)]));
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === "true" || v === "false") return v === "true";
  return v;
}

/** A put writes JSON, which nats-server reads as config too; comments of a hand-written file are not kept. */
export function renderRoutesConfig(c: RoutesConfig): string {
  const ordered: Record<string, unknown> = {};
  if (c.name !== undefined) ordered.name = c.name;
  ordered.routes = c.routes;
  return `${JSON.stringify({ ...ordered, ...c.rest }, null, 2)}\n`;
}
