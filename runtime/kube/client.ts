import * as http from "node:http";
import * as https from "node:https";
import type { ResourceType } from "../../handlers/index.ts";
import { counter } from "../metrics.ts";
import { type CredentialSource, type Credentials, credentialSource } from "./credentials.ts";
import { KubeError } from "./errors.ts";
import type { KubeTarget } from "./kubeconfig.ts";

const requests = counter("satellite_kube_requests_total", "Requests to the Kubernetes API server, by verb, resource and status code.");

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface WatchEvent<T = unknown> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  /** Paging: at most this many objects, and the token of the page to continue from. */
  limit?: number;
  continue?: string;
}

export type PatchType = "merge" | "strategic" | "json" | "apply";
const patchContentTypes: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface ObjectRef {
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** What API discovery says a group/version serves. */
export interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** A client typed by the kinds registry: each call returns the type of the kind it is given. */
export interface KubeClient {
  readonly target: KubeTarget;
  get<T>(type: ResourceType<T>, ref: ObjectRef): Promise<T>;
  list<T>(
    type: ResourceType<T>,
    namespace: string | undefined,
    opts?: ListOptions,
  ): Promise<{ metadata: { resourceVersion: string; continue?: string }; items: T[] }>;
  /** `ref`: create a subresource of an existing object (e.g. a ServiceAccount's token). */
  create<T>(type: ResourceType<T>, obj: T, opts?: { dryRun?: boolean; namespace?: string; ref?: ObjectRef }): Promise<T>;
  replace<T>(type: ResourceType<T>, obj: T, opts?: { subresource?: "status" }): Promise<T>;
  patch<T>(type: ResourceType<T>, ref: ObjectRef, patch: unknown, patchType?: PatchType, query?: Query): Promise<T>;
  /** With `uid`, deletes only the object that was seen (a precondition); absent is an error (404). */
  /** gracePeriodSeconds 0: at once, without the kubelet's word (a pod on a node that stopped answering). */
  remove<T>(type: ResourceType<T>, ref: ObjectRef, opts?: { uid?: string; gracePeriodSeconds?: number }): Promise<void>;
  watch<T>(
    type: ResourceType<T>,
    namespace: string | undefined,
    opts: ListOptions & { timeoutSeconds?: number; signal?: AbortSignal },
  ): AsyncGenerator<WatchEvent<T>>;
  /** API discovery of one group/version ("v1", "nats.io/v1alpha2"); any account may read it. */
  discover(groupVersion: string): Promise<ApiResourceList>;
  close(): void;
}

export const defaultRequestTimeoutMs = 30_000;

/** A small REST client over node:https; runs unchanged on Node and Deno. */
export function createKubeClient(target: KubeTarget, opts: { timeoutMs?: number; userAgent?: string } = {}): KubeClient {
  const creds: CredentialSource = credentialSource(target);
  const url = new URL(target.server);
  const secure = url.protocol === "https:";
  const agents = new Map<string, http.Agent>();
  const timeoutMs = opts.timeoutMs ?? defaultRequestTimeoutMs;
  const userAgent = opts.userAgent ?? "satellite";

  function agentFor(c: Credentials): http.Agent {
    const key = c.cert ? String(c.cert).slice(-64) : "";
    let agent = agents.get(key);
    if (!agent) {
      agent = secure
        ? new https.Agent({
            keepAlive: true,
            ca: target.ca,
            cert: c.cert ?? target.cert,
            key: c.key ?? target.key,
            rejectUnauthorized: !target.insecureSkipTLSVerify,
          })
        : new http.Agent({ keepAlive: true });
      agents.set(key, agent);
    }
    return agent;
  }

  async function open(method: string, path: string, o: RequestOptions, streaming: boolean): Promise<http.IncomingMessage> {
    for (let attempt = 0; ; attempt++) {
      const c = await creds.get();
      const res = await send(method, path, o, c, streaming).catch((e) => {
        requests.inc({ verb: verbOf(method, o, streaming, path), resource: resourceOf(path), code: "error" });
        throw e;
      });
      requests.inc({ verb: verbOf(method, o, streaming, path), resource: resourceOf(path), code: String(res.statusCode) });
      if (res.statusCode === 401 && attempt === 0) {
        res.resume();
        creds.refresh();
        continue;
      }
      if ((res.statusCode ?? 0) >= 400) throw await errorFrom(res, method, path);
      return res;
    }
  }

  function send(method: string, path: string, o: RequestOptions, c: Credentials, streaming: boolean): Promise<http.IncomingMessage> {
    const headers: http.OutgoingHttpHeaders = { Accept: "application/json", "User-Agent": userAgent };
    if (c.authorization) headers.Authorization = c.authorization;
    let payload: Buffer | undefined;
    if (o.body !== undefined) {
      payload = Buffer.from(typeof o.body === "string" ? o.body : JSON.stringify(o.body));
      headers["Content-Type"] = o.contentType ?? "application/json";
      headers["Content-Length"] = payload.length;
    }
    const mod = secure ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ""),
          port: url.port || (secure ? 443 : 80),
          method,
          path: url.pathname.replace(/\/$/, "") + path + queryString(o.query),
          headers,
          agent: agentFor(c),
          signal: o.signal,
        },
        resolve,
      );
      req.on("error", (e) => reject(new Error(`${method} ${path}: cannot reach the API server at ${target.server}: ${e.message}`)));
      if (!streaming) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      }
      req.end(payload);
    });
  }

  async function request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await open(method, path, o, false);
    const text = await readBody(res);
    if (!text) return undefined as T;
    return (String(res.headers["content-type"]).includes("json") ? JSON.parse(text) : text) as T;
  }

  async function* stream<T>(path: string, o: RequestOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const res = await open("GET", path, o, true);
    // A decoder that keeps a character split across chunks until its last byte arrives.
    res.setEncoding("utf8");
    let buffered = "";
    try {
      for await (const chunk of res) {
        buffered += chunk as string;
        for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T>;
        }
      }
    } finally {
      res.destroy();
    }
  }

  type Meta = { metadata?: { name?: string; namespace?: string } };
  const nsOf = (type: ResourceType<unknown>, obj: Meta, ns?: string) => (type.namespaced ? (ns ?? obj.metadata?.namespace) : undefined);

  return {
    target,
    get: (type, ref) => request("GET", resourcePath(type, ref)),
    list: (type, namespace, lo = {}) => request("GET", resourcePath(type, { namespace }), { query: { ...lo } }),
    create: (type, obj, co = {}) =>
      request("POST", resourcePath(type, co.ref ?? { namespace: nsOf(type, obj as Meta, co.namespace) }), {
        body: obj,
        query: co.dryRun ? { dryRun: "All" } : undefined,
      }),
    replace: (type, obj, ro = {}) =>
      request(
        "PUT",
        resourcePath(type, { namespace: nsOf(type, obj as Meta), name: (obj as Meta).metadata?.name, subresource: ro.subresource }),
        { body: obj },
      ),
    patch: (type, ref, body, patchType = "merge", query) =>
      request("PATCH", resourcePath(type, ref), { body, contentType: patchContentTypes[patchType], query }),
    remove: async (type, ref, ro = {}) => {
      const body =
        ro.uid || ro.gracePeriodSeconds !== undefined
          ? {
              apiVersion: "v1",
              kind: "DeleteOptions",
              ...(ro.uid ? { preconditions: { uid: ro.uid } } : {}),
              ...(ro.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: ro.gracePeriodSeconds } : {}),
            }
          : undefined;
      await request("DELETE", resourcePath(type, ref), { body });
    },
    watch: (type, namespace, wo) =>
      stream(resourcePath(type, { namespace }), {
        signal: wo.signal,
        query: {
          watch: 1,
          allowWatchBookmarks: true,
          resourceVersion: wo.resourceVersion,
          labelSelector: wo.labelSelector,
          fieldSelector: wo.fieldSelector,
          timeoutSeconds: wo.timeoutSeconds,
        },
      }),
    discover: (groupVersion) => request("GET", groupVersion.includes("/") ? `/apis/${groupVersion}` : `/api/${groupVersion}`),
    close() {
      for (const a of agents.values()) a.destroy();
      agents.clear();
    },
  };
}

function resourcePath(type: ResourceType<unknown>, ref: ObjectRef = {}): string {
  let path = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  if (type.namespaced && ref.namespace) path += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  path += `/${type.resource}`;
  if (ref.name) path += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource) path += `/${ref.subresource}`;
  return path;
}

function verbOf(method: string, o: RequestOptions, streaming: boolean, path: string): string {
  if (streaming || o.query?.watch) return "watch";
  if (method === "GET") return pathParts(path).named ? "get" : "list";
  return method.toLowerCase();
}

/** The resource (and subresource) a path names: /api/v1/namespaces/x/pods/y/status → pods/status. */
function resourceOf(path: string): string {
  return pathParts(path).resource;
}

function pathParts(path: string): { resource: string; named: boolean } {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const start = parts[0] === "api" ? 2 : parts[0] === "apis" ? 3 : 0;
  if (!start) return { resource: parts.join("/") || "/", named: true };
  const rest = parts.slice(start);
  if (rest[0] === "namespaces" && rest.length > 2) rest.splice(0, 2);
  return { resource: rest.length > 2 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? ""), named: rest.length > 1 };
}

function queryString(q: Query | undefined): string {
  if (!q) return "";
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function errorFrom(res: http.IncomingMessage, method: string, path: string): Promise<KubeError> {
  const text = await readBody(res).catch(() => "");
  let status: { reason?: string; message?: string } = {};
  try {
    status = JSON.parse(text);
  } catch {
    status = { message: text.trim().slice(0, 300) };
  }
  const code = res.statusCode ?? 0;
  const retryAfter = Number(res.headers["retry-after"]);
  return new KubeError(
    code,
    status.reason ?? String(code),
    `${method} ${path}: ${status.message || res.statusMessage || `HTTP ${code}`}`,
    Number.isFinite(retryAfter) ? retryAfter : undefined,
  );
}
