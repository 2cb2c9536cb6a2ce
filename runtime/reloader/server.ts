import { readFileSync } from "node:fs";
import { get } from "node:http";
import { get as getTls } from "node:https";
import type { NatsConnection } from "@nats-io/nats-core";

export interface Varz {
  server_id: string;
  server_name: string;
  version: string;
  config_load_time: string;
  config_digest?: string;
  /** Leafnode connections. */
  leafnodes?: number;
}

export interface ReloadOutcome {
  ok: boolean;
  /** false: the signal went out, but with no monitoring endpoint nothing could confirm it. */
  confirmed?: boolean;
  error?: string;
  varz?: Varz;
}

export interface ServerControl {
  varz(): Promise<Varz>;
  /** Asks nats-server to reload and finds out whether it did. */
  reload(): Promise<ReloadOutcome>;
}

/** A reload takes nats-server about a millisecond; no new load time after this means it refused. */
const confirmTimeoutMs = 2_000;
/** Leafnode links closed by a new cluster name reconnect after about a second. */
const leafnodeReturnMs = 4_000;

export const fetchVarz = (monitorUrl: string) => monitorGet<Varz>(monitorUrl, "varz");

/**
 * GET a monitoring endpoint with node:http(s) (Node's fetch would cost the sidecar ~40 MB, and
 * needs WebAssembly). `jsonOnError`: a JSON body of another status than 200 is the answer too.
 */
export function monitorGet<T>(monitorUrl: string, endpoint: string, o: { timeoutMs?: number; jsonOnError?: boolean } = {}): Promise<T> {
  const url = `${monitorUrl.replace(/\/$/, "")}/${endpoint}`;
  const timeoutMs = o.timeoutMs ?? 2_000;
  return new Promise((resolve, reject) => {
    const req = (url.startsWith("https:") ? getTls : get)(url, { timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => {
        if (res.statusCode !== 200 && !(o.jsonOnError && body.trimStart().startsWith("{"))) {
          // /healthz says why in its body: {"status":"unavailable","error":"JetStream stream … is not current"}
          const why = /"error"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(body)?.[1];
          return reject(new Error(`GET ${url}: HTTP ${res.statusCode}${why ? `: ${why}` : ""}`));
        }
        try {
          resolve(JSON.parse(body) as T);
        } catch (e) {
          reject(new Error(`GET ${url}: ${(e as Error).message}`));
        }
      });
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs / 1000} s`)));
    req.on("error", reject);
  });
}

/**
 * Reload by signal (the default: SIGHUP to the pid in the pid file), or through the system
 * account's `$SYS.REQ.SERVER.<id>.RELOAD` (2.10+), whose reply carries nats-server's own error.
 * Either way success is confirmed by a new `config_load_time` in /varz.
 */
export function serverControl(o: {
  monitorUrl: string | undefined;
  pidFile: string;
  signal: NodeJS.Signals;
  sys?: NatsConnection;
}): ServerControl {
  const noMonitor = () => Promise.reject(new Error("nats-server has no monitoring endpoint (http in its config, or -monitor)"));
  const varz = () => (o.monitorUrl ? fetchVarz(o.monitorUrl) : noMonitor());
  const leafnodes = () => (o.monitorUrl ? monitorGet<{ leafnodes: number }>(o.monitorUrl, "leafz").then((l) => l.leafnodes) : noMonitor());
  async function confirm(before: Varz, leafsBefore: number): Promise<ReloadOutcome> {
    const deadline = Date.now() + confirmTimeoutMs;
    let pause = 1;
    while (Date.now() < deadline) {
      const now = await varz().catch(() => undefined);
      if (now && now.config_load_time !== before.config_load_time) {
        // A new cluster name closes leafnode links ("Cluster Name Conflict"); they come back about
        // a second later. Confirm only then, so a reply to the ground is not lost in between.
        const linksBack = Date.now() + leafnodeReturnMs;
        while (Date.now() < linksBack && (await leafnodes().catch(() => leafsBefore)) < leafsBefore) {
          await new Promise((r) => setTimeout(r, 50));
        }
        return { ok: true, varz: now };
      }
      // A reload takes nats-server a millisecond or two: look again soon, then less often.
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 20);
    }
    return {
      ok: false,
      error: `nats-server did not load the new config within ${confirmTimeoutMs / 1000} s: it keeps running the previous one (its log says why)`,
    };
  }
  return {
    varz,
    async reload() {
      // Without a monitoring endpoint the signal still goes out, unconfirmed (as nack's reloader does).
      const [before, leafsBefore] = await Promise.all([o.sys || o.monitorUrl ? varz() : undefined, leafnodes().catch(() => 0)]);
      if (o.sys && before) {
        const m = await o.sys.request(`$SYS.REQ.SERVER.${before.server_id}.RELOAD`, "", { timeout: confirmTimeoutMs });
        const reply = JSON.parse(m.string()) as { error?: { description?: string } };
        if (reply.error) return { ok: false, error: `nats-server refused the new config: ${reply.error.description ?? "unknown error"}` };
        return confirm(before, leafsBefore);
      }
      let pid: number;
      try {
        pid = Number(readFileSync(o.pidFile, "utf8").trim());
      } catch (e) {
        return {
          ok: false,
          error: `cannot read nats-server's pid file ${o.pidFile} (${(e as Error).message}): set pid_file in its config and share the directory`,
        };
      }
      try {
        process.kill(pid, o.signal);
      } catch (e) {
        return {
          ok: false,
          error: `cannot signal nats-server (pid ${pid}): ${(e as Error).message}; the pod needs shareProcessNamespace: true`,
        };
      }
      return before ? confirm(before, leafsBefore) : { ok: true, confirmed: false };
    },
  };
}
