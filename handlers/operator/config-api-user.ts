// The operator's own users in a cluster whose clients must authenticate (spec.auth): the config
// API's (-config-api), allowed only what serving the config API takes: to subscribe to its subjects
// and the NATS service subjects, to publish replies, and to ask reloaders to report; and the
// reloader sidecars', allowed only to publish their reports and hear the asks for them.
import { askSubject, reportWildcard } from "../reloader/report.ts";
import { sha256Hex } from "../reloader/sha256.ts";
import type { ClientsAuth, ClientsAuthUser } from "./server-config-auth.ts";

export const configApiUser = "satellite-config-api";
/** The config Secret's key holding that user's password. */
export const keyConfigApiPassword = "config-api-password";
export const reloaderUser = "satellite-reloader";
export const keyReloaderPassword = "reloader-password";

/** A password of its own, from the runtime's entropy (which the system user's password also comes from). */
export const configApiPassword = (entropy: string) => sha256Hex(`config-api:${entropy}`).slice(0, 32);
export const reloaderPassword = (entropy: string) => sha256Hex(`reloader:${entropy}`).slice(0, 32);

/** `allowResponses`: the server takes allow_responses (2.1.0 and later). */
export function configApiUserOf(password: string, allowResponses = true): ClientsAuthUser {
  return {
    username: configApiUser,
    password,
    // Replies go to inboxes: a response permission alone (allow_responses) is forgotten when the
    // server reloads, as a put's own change makes it do before the reply.
    permissions: { subscribe: ["_SAT.>", "$SRV.>"], publish: ["_INBOX.>", "_SAT.*.reloads.ask", "_SAT.*.*.reloads.ask"] },
    ...(allowResponses ? { allowResponses: true } : {}),
  };
}

export function reloaderUserOf(cluster: string, password: string): ClientsAuthUser {
  return { username: reloaderUser, password, permissions: { publish: [reportWildcard(cluster)], subscribe: [askSubject(cluster)] } };
}

/** `auth` with the operator's users added; a user of the same name in the Secret is a problem. */
export function withOperatorUsers(auth: ClientsAuth, users: ClientsAuthUser[]): { auth: ClientsAuth } | { problem: string } {
  const taken = users.find((u) => auth.users?.some((x) => x.username === u.username));
  if (taken) return { problem: `spec.auth.clientsAuthSecret has a user "${taken.username}", which is the operator's own: rename it` };
  return { auth: { ...auth, users: [...(auth.users ?? []), ...users] } };
}
