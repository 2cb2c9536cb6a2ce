import type { Reply, Target } from "../types.ts";

/** What stopped the runtime from carrying out a request, as it saw it. */
export type Failure =
  /** The API server answered with this HTTP status (absent: it could not be reached). */
  | { kind: "api"; status?: number; message: string }
  /** Every write met a concurrent one (409) this many times. */
  | { kind: "conflicts"; attempts: number };

/** The reply for a request the runtime could not carry out. */
export function failureReply(f: Failure, t: Target): Reply {
  if (f.kind === "conflicts") {
    return { error: { code: 409, message: `the config kept changing under this request (${f.attempts} conflicting writes): try again` } };
  }
  if (f.status === undefined) return { error: { code: 503, message: `the Kubernetes API cannot be reached: ${f.message}` } };
  if (f.status === 403) {
    return {
      error: {
        code: 500,
        message: `the controller is not allowed to do this in namespace "${t.namespace}" (${f.message}): grant it with the Role in manifests/`,
      },
    };
  }
  if (f.status === 429 || f.status >= 500)
    return { error: { code: 503, message: `the Kubernetes API is busy or failing (${f.message}): try again` } };
  return { error: { code: 500, message: `the Kubernetes API refused the request: ${f.message}` } };
}
