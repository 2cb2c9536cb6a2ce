// The ServiceAccount tokens of spec.auth.enableServiceAccounts: their Secret's name, audience and
// life, what a token says of itself (its JWT claims, read without checking the signature: the API
// server issued it and the operator read it from a Secret it writes), and when to ask for the next.

/** The Secret holding a role's token, in its ServiceAccount's namespace (nats-operator's name). */
export const tokenSecretName = (role: string, cluster: string) => `${role}-${cluster}-bound-token`;
export const keyToken = "token";
/** The audience of the cluster's tokens: they are not good for the Kubernetes API. */
export const tokenAudience = (cluster: string, namespace: string) => `nats://${cluster}.${namespace}.svc`;
/**
 * The life asked for (a day). NATS does not check a token's expiry: the password in nats.conf is
 * the token's text, so the life only decides how often a token is replaced, and so how long a
 * leaked one lets a client in. Every replacement makes clients reconnect once (docs/operator.md).
 */
export const tokenLifeSeconds = 24 * 3600;
/** A token is replaced once this much of its life has passed. */
export const refreshFraction = 0.8;
/** On a token Secret taken over from nats-operator: when it was taken over (its token's life counts from then). */
export const annotationTokenAdopted = "nats.io/token-adopted-at";
/** On the token Secrets the operator writes: the namespace of the cluster they are for. */
export const labelClusterNamespace = "nats.io/cluster-namespace";

export interface TokenClaims {
  aud: string[];
  iat?: number;
  exp?: number;
  /** kubernetes.io.serviceaccount.uid */
  serviceAccountUid?: string;
  /** kubernetes.io.secret.uid: the object the token is bound to. */
  boundSecretUid?: string;
}

/** The claims of a JWT, or undefined when it is not one. */
export function tokenClaims(token: string): TokenClaims | undefined {
  const part = token.split(".")[1];
  if (!part || token.split(".").length !== 3) return undefined;
  // biome-ignore lint/suspicious/noExplicitAny: claims are read field by field below, each checked for its type.
  let payload: Record<string, any>;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
  } catch {
    return undefined;
  }
  if (!payload || typeof payload !== "object") return undefined;
  const k8s = payload["kubernetes.io"] ?? {};
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const iat = num(payload.iat);
  const exp = num(payload.exp);
  const sa = str(k8s.serviceaccount?.uid);
  const bound = str(k8s.secret?.uid);
  return {
    aud: Array.isArray(payload.aud)
      ? payload.aud.filter((a: unknown) => typeof a === "string")
      : typeof payload.aud === "string"
        ? [payload.aud]
        : [],
    ...(iat !== undefined ? { iat } : {}),
    ...(exp !== undefined ? { exp } : {}),
    ...(sa ? { serviceAccountUid: sa } : {}),
    ...(bound ? { boundSecretUid: bound } : {}),
  };
}

/**
 * When a token is due for replacement (ms since the epoch). A token the operator asked for: at
 * `refreshFraction` of the life its claims give (issued at → expires). One taken over from
 * nats-operator (`adoptedAt`): its life counts from the takeover, as if asked for then, so the
 * takeover itself changes no password.
 */
export function refreshAtMs(claims: TokenClaims, adoptedAt?: string): number | undefined {
  if (adoptedAt !== undefined) {
    const t = Date.parse(adoptedAt);
    return Number.isNaN(t) ? undefined : t + refreshFraction * tokenLifeSeconds * 1000;
  }
  if (claims.iat === undefined || claims.exp === undefined || claims.exp <= claims.iat) return undefined;
  return (claims.iat + refreshFraction * (claims.exp - claims.iat)) * 1000;
}

/** Why a token must be replaced now, or undefined when it serves until `refreshAt`. */
export function tokenDue(
  token: string | undefined,
  want: { serviceAccountUid?: string; secretUid?: string; audience: string; adoptedAt?: string },
  nowMs: number,
): { reason: string } | { refreshAtMs: number } {
  if (!token) return { reason: "it has no token yet" };
  const claims = tokenClaims(token);
  if (!claims) return { reason: "its token is not a JWT" };
  if (want.serviceAccountUid && claims.serviceAccountUid !== want.serviceAccountUid)
    return { reason: "its token is for an earlier ServiceAccount of that name" };
  // A token taken over keeps nats-operator's audience and binding (it bound them alike).
  if (want.adoptedAt === undefined) {
    if (!claims.aud.includes(want.audience)) return { reason: `its token is not for audience ${want.audience}` };
    if (want.secretUid && claims.boundSecretUid !== want.secretUid)
      return { reason: "its token is bound to an earlier Secret of that name" };
  }
  const at = refreshAtMs(claims, want.adoptedAt);
  if (at === undefined) return { reason: "its token says no issue and expiry time" };
  if (nowMs >= at) return { reason: "its token has passed 80% of its life" };
  return { refreshAtMs: at };
}
