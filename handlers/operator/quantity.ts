// Kubernetes resource quantities ("1Gi", "500M", "1.5G", 1024) as bytes, for nats.conf and GOMEMLIMIT.
import type { Quantity } from "./natscluster.ts";

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Whole bytes, or undefined for what is not a quantity of bytes (negative, "500m", "x"). */
export function bytesOf(q: Quantity | undefined): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === "number") return Number.isFinite(q) && q >= 0 ? Math.floor(q) : undefined;
  const m = /^(\d+(?:\.\d+)?|\.\d+)(?:([KMGTPE]i)|([kMGTPE]?)|[eE](\d+))$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const factor = m[2] ? binary[m[2]]! : m[4] !== undefined ? 10 ** Number(m[4]) : decimal[m[3] ?? ""]!;
  return Math.floor(n * factor);
}
