import type { ResourceType } from "../../handlers/index.ts";
import type { Logger } from "../log.ts";
import { backoffDelay, sleep } from "./backoff.ts";
import type { KubeClient, ListOptions, WatchEvent } from "./client.ts";
import { isGone, KubeError } from "./errors.ts";

export interface ReflectorOptions extends Pick<ListOptions, "labelSelector" | "fieldSelector"> {
  namespace?: string;
  log: Logger;
  /** A full relist this often, as a safety net (default 10 min). */
  relistMs?: number;
  /** Abort a watch that has been silent this long; bookmarks arrive about every minute (default 3 min). */
  watchdogMs?: number;
  /** A watch that stayed up this long resets the error backoff (default 1 min, as client-go does after minutes). */
  healthyMs?: number;
  /** Objects per LIST page (default 500). */
  pageSize?: number;
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

export interface Reflector<T> {
  /** Resolves after the first successful list. */
  synced: Promise<void>;
  /** Whether the first list has happened: from then on, absent from the cache means absent. */
  isSynced(): boolean;
  get(name: string, namespace?: string): T | undefined;
  list(): T[];
  /** Calls `fn` on every change; the returned function stops that. */
  onChange(fn: (type: ChangeType, obj: T) => void): () => void;
  /** Puts an object this process just wrote into the cache, if it is newer than what is there. */
  observe(obj: T): void;
  stop(): void;
}

type Meta = { metadata?: { name?: string; namespace?: string; resourceVersion?: string } };
/** Server-side-apply bookkeeping is most of an object's size and no reconcile reads it. */
function slim<T extends Meta>(o: T): T {
  if (o.metadata && "managedFields" in o.metadata) delete (o.metadata as { managedFields?: unknown }).managedFields;
  return o;
}

const keyOf = (o: Meta) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
/**
 * resourceVersions are opaque: ordered only when both are plain integers (etcd's are); otherwise
 * the watch, not this process's own write, decides what the cache holds.
 */
const newer = (a: Meta, b: Meta | undefined) => {
  if (!b) return true;
  const [x, y] = [a.metadata?.resourceVersion ?? "", b.metadata?.resourceVersion ?? ""];
  return /^\d+$/.test(x) && /^\d+$/.test(y) && BigInt(x) > BigInt(y);
};

/** List, then watch from the list's resourceVersion; relist on 410, back off on errors, watchdog silent streams. */
export function startReflector<T extends Meta>(kube: KubeClient, type: ResourceType<T>, o: ReflectorOptions): Reflector<T> {
  const shape = (x: T): T => slim(x);
  const store = new Map<string, T>();
  const listeners: ((t: ChangeType, obj: T) => void)[] = [];
  const stopping = new AbortController();
  const relistMs = o.relistMs ?? 600_000;
  const watchdogMs = o.watchdogMs ?? 180_000;
  let markSynced!: () => void;
  let isSynced = false;
  const synced = new Promise<void>((r) => {
    markSynced = r;
  }).then(() => {
    isSynced = true;
  });
  const emit = (t: ChangeType, obj: T) => {
    for (const fn of listeners) fn(t, obj);
  };
  const selectors = { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector };

  /** All pages of one LIST; a continue token that expired is a 410 and starts over. */
  async function listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = "";
    do {
      const page = await kube.list<T>(type, o.namespace, { ...selectors, limit: o.pageSize ?? 500, continue: cont });
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async function relist(): Promise<string> {
    const res = await listAll();
    const seen = new Set<string>();
    for (const item of res.items.map(shape)) {
      const k = keyOf(item);
      seen.add(k);
      const old = store.get(k);
      store.set(k, item);
      if (!old) emit("ADDED", item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) emit("MODIFIED", item);
    }
    for (const [k, old] of store) {
      if (!seen.has(k)) {
        store.delete(k);
        emit("DELETED", old);
      }
    }
    markSynced();
    return res.resourceVersion;
  }

  /** Where a broken watch resumes: the last resourceVersion it saw (undefined: list first). */
  let resumeFrom: string | undefined;

  async function watchFrom(rv: string, until: number): Promise<void> {
    resumeFrom = rv;
    while (Date.now() < until && !stopping.signal.aborted) {
      const abort = new AbortController();
      const onStop = () => abort.abort();
      stopping.signal.addEventListener("abort", onStop, { once: true });
      let timer = setTimeout(() => abort.abort(), watchdogMs);
      try {
        const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
        for await (const ev of kube.watch(type, o.namespace, {
          ...selectors,
          resourceVersion: rv,
          timeoutSeconds,
          signal: abort.signal,
        }) as AsyncGenerator<WatchEvent<T>>) {
          clearTimeout(timer);
          timer = setTimeout(() => abort.abort(), watchdogMs);
          if (ev.type === "ERROR") {
            const st = ev.object as { code?: number; message?: string };
            throw new KubeError(st.code ?? 500, "WatchError", `watch ${type.resource}: ${st.message ?? "error event"}`);
          }
          rv = ev.object.metadata?.resourceVersion ?? rv;
          resumeFrom = rv;
          if (ev.type === "BOOKMARK") continue;
          const obj = shape(ev.object);
          const k = keyOf(obj);
          if (ev.type === "DELETED") store.delete(k);
          else store.set(k, obj);
          emit(ev.type, obj);
        }
      } catch (e) {
        if (!abort.signal.aborted) throw e;
        if (!stopping.signal.aborted) o.log.warn("watch went silent; restarting it", { resource: type.resource });
      } finally {
        clearTimeout(timer);
        stopping.signal.removeEventListener("abort", onStop);
      }
    }
  }

  void (async () => {
    const healthyMs = o.healthyMs ?? 60_000;
    let failures = 0;
    while (!stopping.signal.aborted) {
      let watching = 0;
      try {
        // A watch broken by an error resumes where it was; only a 410 or the periodic relist lists again.
        const rv = resumeFrom ?? (await relist());
        watching = Date.now();
        await watchFrom(rv, watching + relistMs);
        resumeFrom = undefined;
        failures = 0;
      } catch (e) {
        if (stopping.signal.aborted) break;
        if (isGone(e)) {
          o.log.debug("watch expired (410); relisting", { resource: type.resource });
          resumeFrom = undefined;
          continue;
        }
        // Only a watch that stayed up a while counts as recovered: one failing at once (RBAC
        // without watch, say) must not turn into a LIST+WATCH loop.
        if (watching && Date.now() - watching >= healthyMs) failures = 0;
        const retryAfter = e instanceof KubeError && e.retryAfterSeconds ? e.retryAfterSeconds * 1000 : 0;
        const delay = Math.max(retryAfter, backoffDelay(failures++));
        const missing =
          e instanceof KubeError && e.status === 404 && type.group
            ? `the API server does not serve ${type.resource}.${type.group}/${type.version}: install its CustomResourceDefinition (manifests/crd.yaml)`
            : undefined;
        o.log.warn("list/watch failed; retrying", {
          resource: type.resource,
          error: missing ?? (e as Error).message,
          retryInMs: Math.round(delay),
        });
        await sleep(delay, stopping.signal);
      }
    }
  })();

  return {
    synced,
    isSynced: () => isSynced,
    get: (name, namespace = o.namespace) => store.get(`${namespace ?? ""}/${name}`),
    list: () => [...store.values()],
    onChange: (fn) => {
      listeners.push(fn);
      return () => {
        const i = listeners.indexOf(fn);
        if (i >= 0) listeners.splice(i, 1);
      };
    },
    observe(obj) {
      const k = keyOf(obj);
      if (newer(obj, store.get(k))) store.set(k, shape(obj));
    },
    stop: () => stopping.abort(),
  };
}
