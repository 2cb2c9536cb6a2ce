import { createServer, type Server } from "node:http";
import type { Logger } from "./log.ts";
import { renderMetrics } from "./metrics.ts";

export interface HealthChecks {
  /** Alive: the process can still do its job (false makes the kubelet restart it). */
  live(): boolean;
  /** Ready: connected and serving. */
  ready(): { ok: boolean; reason?: string };
}

/** `host:port` or `:port` (every interface), as the flag `-<flag>` gives it. */
export function listenAddress(flag: string, addr: string, example: string): { host: string; port: number } {
  const i = addr.lastIndexOf(":");
  const host = addr.slice(0, i).replace(/^\[|\]$/g, "") || "0.0.0.0";
  const port = Number(addr.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`-${flag} ${JSON.stringify(addr)} is not an address: use host:port or :port, e.g. ${example}`);
  return { host, port };
}

/** `/healthz` and `/readyz` for the kubelet's probes, `/metrics` for Prometheus. */
export function serveHealth(addr: string, checks: HealthChecks, log: Logger): Promise<Server> {
  let host: string;
  let port: number;
  try {
    ({ host, port } = listenAddress("health", addr, ":8081"));
  } catch (e) {
    return Promise.reject(e);
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/healthz" || path === "/livez") {
      const ok = checks.live();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "not alive\n");
    } else if (path === "/readyz") {
      const r = checks.ready();
      res.writeHead(r.ok ? 200 : 503, { "content-type": "text/plain" }).end(r.ok ? "ok\n" : `not ready: ${r.reason}\n`);
    } else if (path === "/metrics") {
      let text: string;
      try {
        text = renderMetrics();
      } catch (e) {
        log.error("cannot render /metrics", { error: (e as Error).message });
        res.writeHead(500, { "content-type": "text/plain" }).end(`cannot render the metrics: ${(e as Error).message}\n`);
        return;
      }
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(text);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("try /healthz, /readyz or /metrics\n");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`-health ${addr}: cannot listen (${e.message})`)));
    server.listen(port, host, () => {
      log.info("health endpoints listening", { addr: server.address() });
      resolve(server);
    });
  });
}
