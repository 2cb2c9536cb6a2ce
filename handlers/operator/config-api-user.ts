// -config-api on a cluster whose clients must authenticate (spec.auth): the operator's own user in
// the cluster's authorization, allowed only what serving the config API takes: to subscribe to
// its subjects and the NATS service subjects, to publish replies, and to ask reloaders to report.
import { sha256Hex } from "../reloader/sha256.ts";
import type { ClientsAuth } from "./server-config-auth.ts";

export const configApiUser = "satellite-config-api";
/** The config Secret's key holding that user's password. */
export const keyConfigApiPassword = "config-api-password";

/** A password of its own, from the runtime's entropy (which the system user's password also comes from). */
export const configApiPassword = (entropy: string) => sha256Hex(`config-api:${entropy}`).slice(0, 32);

/**
 * `auth` with the operator's user added; a user of the same name in the Secret is a problem.
 * `allowResponses`: the server takes allow_responses (2.1.0 and later).
 */
export function withConfigApiUser(auth: ClientsAuth, password: string, allowResponses = true): { auth: ClientsAuth } | { problem: string } {
  if (auth.users?.some((u) => u.username === configApiUser))
    return { problem: `spec.auth.clientsAuthSecret has a user "${configApiUser}", which is the operator's own: rename it` };
  const user = {
    username: configApiUser,
    password,
    // Replies go to inboxes: a response permission alone (allow_responses) is forgotten when the
    // server reloads, as a put's own change makes it do before the reply.
    permissions: { subscribe: ["_SAT.>", "$SRV.>"], publish: ["_INBOX.>", "_SAT.*.reloads.ask", "_SAT.*.*.reloads.ask"] },
    ...(allowResponses ? { allowResponses: true } : {}),
  };
  return { auth: { ...auth, users: [...(auth.users ?? []), user] } };
}
