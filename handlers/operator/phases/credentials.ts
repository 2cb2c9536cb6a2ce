// Phase 3, credentials: the operator's own users in the servers' config. The system-account user
// does reloads (operator mode) and meta peer removals (JetStream); the config API's user serves
// -config-api on clusters whose clients must authenticate. Their passwords are made once from the
// runtime's entropy and kept in the config Secret.
import type { ServerReload } from "../../types.ts";
import { encodeBase64 } from "../base64.ts";
import {
  configApiPassword,
  configApiUserOf,
  keyConfigApiPassword,
  keyReloaderPassword,
  reloaderPassword,
  reloaderUserOf,
  withOperatorUsers,
} from "../config-api-user.ts";
import { tlsFiles } from "../natscluster.ts";
import { systemCredsOf } from "../operator-jwt.ts";
import { keySystemPassword, systemUser } from "../reload-rollout.ts";
import type { ClientsAuth } from "../server-config.ts";
import { serverConnect } from "../server-connect.ts";
import type { Observed } from "./observe.ts";

export type SystemLogin = { password: string } | { creds: string };

export interface Credentials {
  problems: string[];
  /** spec.auth's users with the config API's user added. */
  clientsAuth?: ClientsAuth;
  /** The password of the system user in the servers' config; none with JWT accounts. */
  systemPassword?: string;
  /** How the operator acts as a system-account user: that password, or (JWT accounts) the user's creds. */
  systemLogin?: SystemLogin;
  /** The passwords as the config Secret keeps them (base64), besides what each mode writes itself. */
  secretData: Record<string, string>;
}

/** `usersAuth`: spec.auth's users, as validation read them. */
export function credentials(seen: Observed, usersAuth: ClientsAuth | undefined): Credentials {
  const entropy = seen.view.entropy;
  const problems: string[] = [];
  const needsSystemUser = seen.operatorMode || seen.jetstream;
  // JWT accounts: validation made sure the user gave a system user's creds where they are needed.
  const jwtCreds = seen.spec.operatorConfig ? systemCredsOf(seen.cluster, seen.secrets) : undefined;
  const systemPassword = needsSystemUser && !seen.spec.operatorConfig ? (seen.configText[keySystemPassword] ?? entropy) : undefined;
  if (needsSystemUser && !systemPassword && !jwtCreds) problems.push("no password for the system user yet (the operator supplies one)");
  const systemLogin = jwtCreds ? { creds: jwtCreds } : systemPassword ? { password: systemPassword } : undefined;
  const kept = (key: string, make: (entropy: string) => string) => seen.configText[key] ?? (entropy ? make(entropy) : undefined);
  const apiPassword = usersAuth ? kept(keyConfigApiPassword, configApiPassword) : undefined;
  // The reloader sidecars report as a user of their own (sidecar mode only).
  const sidecarPassword = usersAuth && seen.spec.pod?.enableConfigReload ? kept(keyReloaderPassword, reloaderPassword) : undefined;
  let clientsAuth = usersAuth;
  if (usersAuth && !apiPassword) problems.push("no password for the config API's user yet (the operator supplies one)");
  else if (usersAuth && apiPassword) {
    const users = [
      configApiUserOf(apiPassword, seen.version.allowResponses),
      ...(sidecarPassword ? [reloaderUserOf(seen.name, sidecarPassword)] : []),
    ];
    const withUsers = withOperatorUsers(usersAuth, users);
    if ("problem" in withUsers) problems.push(withUsers.problem);
    else clientsAuth = withUsers.auth;
  }
  const secretData = {
    ...(apiPassword ? { [keyConfigApiPassword]: encodeBase64(apiPassword) } : {}),
    ...(sidecarPassword ? { [keyReloaderPassword]: encodeBase64(sidecarPassword) } : {}),
    // Operator mode writes the whole Secret itself, this password with it.
    ...(systemPassword && !seen.operatorMode ? { [keySystemPassword]: encodeBase64(systemPassword) } : {}),
  };
  return {
    problems,
    ...(clientsAuth ? { clientsAuth } : {}),
    ...(systemPassword ? { systemPassword } : {}),
    ...(needsSystemUser && systemLogin ? { systemLogin } : {}),
    secretData,
  };
}

/** How the operator reaches the cluster's servers as its system-account user. */
export function systemConnect(seen: Observed, login: SystemLogin): ServerReload["connect"] {
  const files = tlsFiles(seen.spec.tls).server;
  const running = seen.live.filter((p) => p.status?.podIP);
  const as = "creds" in login ? { creds: login.creds } : { user: systemUser, password: login.password };
  return { ...serverConnect(seen.cluster, running, files && seen.secrets[files.secret]), ...as };
}
