// nats.conf for the servers of a NatsCluster: a pure function of the (API-server-defaulted)
// spec, the cluster name, the route URLs and the parsed auth Secret. Same input, same bytes.
//
// Every string is written double-quoted through quote(), which refuses what nats.conf cannot
// hold safely; numbers through num(). The caller validates the spec first, so an error here
// means a validation gap, never a config that says more than the spec did.

import { advertiseFiles, advertiseInclude } from "./advertise.ts";
import { type JetStreamSettings, jetstreamStoreDir, zoneTagEnv } from "./jetstream.ts";
import { type NatsCluster, type TLSPort, tlsFiles } from "./natscluster.ts";
import { type JwtAccounts, jwtAccountLines } from "./operator-jwt.ts";
import { authorizationConf, type ClientsAuth, num, quote, RenderError } from "./server-config-auth.ts";
import { listenerBlocks } from "./server-config-listeners.ts";
import { type PeerAuth, peerAuthorizationConf, withCredentials } from "./server-config-peer-auth.ts";
import { indent, mountedTlsFiles, tlsBlock, tlsDirs } from "./server-config-tls.ts";
import { defaultServerVersion, type ServerVersion, serverVersion } from "./server-version.ts";
import type { TlsPaths } from "./tls-material.ts";

export type { ClientsAuth, ClientsAuthUser, Permissions, SubjectPermission } from "./server-config-auth.ts";
export { chooseClientsAuthKey, clientsAuthKey, parseClientsAuth } from "./server-config-auth.ts";

/** Where the pod mounts things (the pod renderer uses the same constants). */
export const serverPaths = {
  /** The config Secret is mounted here; nats.conf inside. */
  configDir: "/etc/nats-config",
  pidFile: "/var/run/nats/nats.pid",
  /** spec.tls.serverSecret is mounted here. */
  serverTlsDir: tlsDirs.server,
  /** spec.tls.routesSecret is mounted here. */
  routesTlsDir: tlsDirs.routes,
  gatewayTlsDir: tlsDirs.gateway,
  leafnodeTlsDir: tlsDirs.leafnode,
  websocketTlsDir: tlsDirs.websocket,
  /** Each leafnodeConfig.remotes[].credentialsSecret.name is mounted here. */
  leafCredsDir: (secretName: string) => `/etc/nats-leaf-creds/${secretName}`,
};
export type ServerPaths = typeof serverPaths;

/**
 * The servers' ports. `metrics` is the exporter sidecar's; `leafnodes` is the conventional
 * leafnode port: the config listens for leafnodes only on spec.leafnodeConfig.hostPort.
 */
export const ports = { client: 4222, cluster: 6222, monitor: 8222, metrics: 7777, leafnodes: 7422 };
export type ServerPorts = typeof ports;

export interface ServerConfigInput {
  /** spec already defaulted by the API server (see specDefaults). */
  cluster: NatsCluster;
  /** The NATS cluster name, for cluster { name }. */
  clusterName: string;
  /** The complete list of route URLs, computed by the caller. */
  routes: string[];
  /** Present when spec.auth.clientsAuthSecret is set and valid. */
  clientsAuth?: ClientsAuth;
  /** spec.auth.clusterAuthSecret's user: the routes' authorization, and the credentials in every route URL. */
  clusterAuth?: PeerAuth;
  /** spec.auth.gatewayAuthSecret's user (with spec.gatewayConfig). */
  gatewayAuth?: PeerAuth;
  /** Mount paths (default serverPaths); tests point them at a temp dir. */
  paths?: Partial<ServerPaths>;
  /** Listen ports (default `ports`); tests use free ones. */
  ports?: Partial<Pick<ServerPorts, "client" | "cluster" | "monitor">>;
  /** A system-account user, for the operator's reloads over NATS (configReload.mode operator). */
  systemUser?: { user: string; password: string };
  /** In a fleet (-site): server names from the pod's SERVER_NAME, "<site>-<namespace>-<pod>". */
  fleetServerNames?: boolean;
  /**
   * Pods another operator made (adopted) share this file but have neither POD_NAME nor
   * SERVER_NAME: server names come from HOSTNAME (the pod's name, set by the container runtime).
   */
  adoptedPods?: boolean;
  /** The TLS files as the config Secret carries them (tls-material.ts); else each Secret's mount. */
  tlsPaths?: Partial<Record<TLSPort, TlsPaths>>;
  /** spec.jetstream's limits, when it is enabled. */
  jetstream?: JetStreamSettings;
  /** spec.operatorConfig with its Secrets read (operator-jwt.ts). */
  jwtAccounts?: JwtAccounts;
  /** Every server's pod has the zone tag's env var (zoneTagEnv), so the config may name it. */
  zoneTags?: boolean;
}

const listen = (p: number, what: string) => quote(`0.0.0.0:${num(p, what, true)}`, what);

/** nats.conf for the cluster's servers (ending with a newline), or why a value cannot be written into it safely. */
export function renderServerConfig(input: ServerConfigInput): { text: string } | { error: { code: 400; message: string } } {
  try {
    return { text: serverConfigText(input) };
  } catch (e) {
    if (e instanceof RenderError) return { error: { code: 400, message: e.message } };
    throw e;
  }
}

function serverConfigText(input: ServerConfigInput): string {
  const spec = input.cluster.spec ?? {};
  const paths: ServerPaths = { ...serverPaths, ...input.paths };
  const port = { ...ports, ...input.ports };
  const tls = spec.tls;
  const files = tlsFiles(tls);
  const version = serverVersion(spec.version || defaultServerVersion);
  const dirs: Record<TLSPort, string> = {
    server: paths.serverTlsDir,
    routes: paths.routesTlsDir,
    gateway: paths.gatewayTlsDir,
    leafnode: paths.leafnodeTlsDir,
    websocket: paths.websocketTlsDir,
  };
  const tlsAt = (p: TLSPort) => input.tlsPaths?.[p] ?? mountedTlsFiles(dirs[p], files[p]!, `spec.tls.${p}Secret`);
  const out = [
    ...headerLines(input, paths, port, version),
    ...lameDuckLines(input),
    ...loggingAndLimitLines(spec.natsConfig ?? {}),
    ...(files.server ? ["", ...tlsBlock(tlsAt("server"), "spec.tls.serverSecret", clientTlsOptions(spec))] : []),
    "",
    ...clusterBlock(input, tlsAt, port, files, version),
    ...(input.jetstream ? ["", ...serverTagLines(input.jetstream, input.zoneTags), ...jetstreamBlock(input.jetstream)] : []),
    ...accountLines(input),
    ...(input.jwtAccounts ? ["", ...jwtAccountLines(input.jwtAccounts, jwtDir(input, paths))] : []),
    ...listenerBlocks({
      spec,
      files,
      clusterName: input.clusterName,
      leafCredsDir: paths.leafCredsDir,
      tlsAt,
      version,
      gatewayAuth: input.gatewayAuth,
    }),
  ];
  return `${out.join("\n")}\n`;
}

/** The comment naming the cluster, the server's name, its listen addresses and its pid file. */
function headerLines(input: ServerConfigInput, paths: ServerPaths, port: ServerPorts, version: ServerVersion): string[] {
  const { cluster } = input;
  const id = `${cluster.metadata.namespace ?? "default"}/${cluster.metadata.name ?? ""}`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its purpose.
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(id))
    throw new RenderError(`cannot write the NatsCluster's name into nats.conf: it contains a control character`);
  return [
    `# Generated by satellite for NatsCluster ${id}. Edits are overwritten.`,
    // Unquoted: a variable reference, resolved from the pod's env var POD_NAME (SERVER_NAME in a
    // fleet: a ground takes one leafnode link per server name, so they must differ across sites).
    // Servers before 2.1.2 take no server_name: they go by their generated ID.
    ...(version.serverName
      ? [`server_name: $${input.adoptedPods ? "HOSTNAME" : input.fleetServerNames ? "SERVER_NAME" : "POD_NAME"}`]
      : []),
    `listen: ${listen(port.client, "the client port")}`,
    `http: ${listen(port.monitor, "the monitoring port")}`,
    `pid_file: ${quote(paths.pidFile, "the pid file")}`,
    ...(cluster.spec?.pod?.advertiseExternalIP ? [advertiseInclude(advertiseFiles.client)] : []),
  ];
}

/** The client port's TLS: verify (or verify and map users by certificate), ciphers, curves, timeout. */
function clientTlsOptions(spec: NonNullable<NatsCluster["spec"]>) {
  const tls = spec.tls;
  return {
    verify: tls?.verify === true,
    verifyAndMap: spec.auth?.tlsVerifyAndMap === true,
    timeout: tls?.clientsTLSTimeout,
    cipherSuites: tls?.cipherSuites,
    curvePreferences: tls?.curvePreferences,
  };
}

function lameDuckLines(input: ServerConfigInput): string[] {
  const s = input.cluster.spec?.lameDuckDurationSeconds;
  // JetStream servers always say how long lame duck lasts: the pod's grace period is made from it
  // (desired-pod.ts), where nats-server's own default (2m) would outlast it.
  if (s === undefined) return input.jetstream ? ['lame_duck_duration: "30s"'] : [];
  if (!(s >= 30))
    throw new RenderError(
      `spec.lameDuckDurationSeconds is ${s}, but nats-server needs at least 30 seconds: set 30 or more, or leave it out`,
    );
  return [`lame_duck_duration: ${quote(`${num(s, "spec.lameDuckDurationSeconds", true)}s`, "spec.lameDuckDurationSeconds")}`];
}

type NatsConfig = NonNullable<NonNullable<NatsCluster["spec"]>["natsConfig"]>;

function loggingAndLimitLines(c: NatsConfig): string[] {
  const out: string[] = [];
  if (c.debug !== undefined) out.push(`debug: ${c.debug === true}`);
  if (c.trace !== undefined) out.push(`trace: ${c.trace === true}`);
  if (c.disableLogtime === true) out.push("logtime: false");
  const counts: [keyof typeof c, string][] = [
    ["maxConnections", "max_connections"],
    ["maxPayload", "max_payload"],
    ["maxPending", "max_pending"],
    ["maxSubscriptions", "max_subscriptions"],
    ["maxControlLine", "max_control_line"],
  ];
  for (const [field, key] of counts) {
    const v = c[field];
    if (v !== undefined) out.push(`${key}: ${num(v as number, `spec.natsConfig.${field}`, true)}`);
  }
  if (c.write_deadline !== undefined) out.push(`write_deadline: ${quote(c.write_deadline, "spec.natsConfig.write_deadline")}`);
  return out;
}

function clusterBlock(
  input: ServerConfigInput,
  tlsAt: (p: TLSPort) => TlsPaths,
  port: ServerPorts,
  files: ReturnType<typeof tlsFiles>,
  version: ServerVersion,
): string[] {
  const spec = input.cluster.spec ?? {};
  const { clusterAuth } = input;
  // A route URL naming a user of its own keeps it; the others carry the cluster's user, as the
  // servers joined through them dial each other with it (nats-server's implicit routes do).
  const routes = input.routes.map((r) => withCredentials(r, clusterAuth));
  const cl = [
    // Servers before 2.2.0 have no cluster name (render.ts refuses a routes file that sets one).
    ...(version.clusterName ? [`name: ${quote(input.clusterName, "the cluster name")}`] : []),
    `listen: ${listen(port.cluster, "the cluster port")}`,
  ];
  if (routes.length > 0) cl.push("routes: [", ...routes.map((r, i) => `  ${quote(r, `route ${i}`)}`), "]");
  if (spec.noAdvertise === true) cl.push("no_advertise: true");
  if (clusterAuth) cl.push(...peerAuthorizationConf(clusterAuth, spec.auth?.clusterAuthTimeout, "routes'"));
  // No `verify` for routes: nats-server always requires and verifies route certificates (mutual TLS).
  if (files.routes) cl.push(...tlsBlock(tlsAt("routes"), "spec.tls.routesSecret", { timeout: spec.tls?.routesTLSTimeout }));
  return ["cluster {", ...indent(cl), "}"];
}

/**
 * The server's tags: its zone's first (unquoted: a variable reference, resolved from the pod's
 * env), then spec.jetstream.serverTags.
 */
function serverTagLines(js: JetStreamSettings, zoneTags: boolean | undefined): string[] {
  const tags = [...(zoneTags ? [`$${zoneTagEnv}`] : []), ...js.serverTags.map((t, i) => quote(t, `spec.jetstream.serverTags[${i}]`))];
  return tags.length ? [`server_tags: [${tags.join(", ")}]`] : [];
}

function jetstreamBlock(js: JetStreamSettings): string[] {
  const j = [
    `store_dir: ${quote(jetstreamStoreDir, "the JetStream directory")}`,
    `max_memory_store: ${num(js.maxMemoryStore, "spec.jetstream.memoryStorage.size", true)}`,
    `max_file_store: ${num(js.maxFileStore, "spec.jetstream.fileStorage.size", true)}`,
  ];
  if (js.domain) j.push(`domain: ${quote(js.domain, "spec.jetstream.domain")}`);
  if (js.uniqueTag) j.push(`unique_tag: ${quote(js.uniqueTag, "spec.jetstream.uniqueTag")}`);
  return ["jetstream {", ...indent(j), "}"];
}

/** Where the NATS-based resolver keeps accounts: by the JetStream store (on its claim), else in the pid file's emptyDir. */
const jwtDir = (input: ServerConfigInput, paths: ServerPaths) =>
  `${(input.jetstream ? jetstreamStoreDir : paths.pidFile).replace(/\/[^/]+$/, "")}/jwt`;

/** The clients' authorization, and the system account's user; each block after a blank line. */
function accountLines(input: ServerConfigInput): string[] {
  const out: string[] = [];
  if (input.clientsAuth) out.push("", ...authorizationConf(input.clientsAuth, input.cluster.spec?.auth?.clientsAuthTimeout));
  // Users of $SYS only: clients without credentials stay in the global account as before.
  const sys = input.systemUser;
  if (sys) {
    const user = `{ user: ${quote(sys.user, "the system user")}, password: ${quote(sys.password, "the system password")} }`;
    out.push("", "accounts {", ...indent(["$SYS {", ...indent(["users: [", `  ${user}`, "]"]), "}"]), "}");
  }
  return out;
}
