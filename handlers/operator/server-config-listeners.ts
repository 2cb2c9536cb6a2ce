// The leafnodes, gateway and websocket blocks of nats.conf: the ports other servers and browsers
// connect to, besides the client and route ports.
import { advertiseFiles, advertiseInclude } from "./advertise.ts";
import type { LeafnodeRemote, NatsClusterSpec, TLSFiles, TLSPort } from "./natscluster.ts";
import { num, quote, RenderError } from "./server-config-auth.ts";
import { type PeerAuth, peerAuthorizationConf, withCredentials } from "./server-config-peer-auth.ts";
import { fileIn, indent, tlsBlock } from "./server-config-tls.ts";
import type { ServerVersion } from "./server-version.ts";
import type { TlsPaths } from "./tls-material.ts";

/** Ports used when the spec names none: nats-server's conventional gateway port, the NATS docs' websocket port. */
export const listenerDefaults = { gateway: 7222, websocket: 8080 };

export const gatewayPort = (c: { spec?: NatsClusterSpec }) => c.spec?.gatewayConfig?.hostPort || listenerDefaults.gateway;
export const websocketPort = (c: { spec?: NatsClusterSpec }) => c.spec?.websocketConfig?.port || listenerDefaults.websocket;

export interface ListenerInput {
  spec: NatsClusterSpec;
  files: Partial<Record<TLSPort, TLSFiles>>;
  /** The cluster's name, which nats-server requires the gateway name to equal. */
  clusterName: string;
  leafCredsDir: (secretName: string) => string;
  /** Where each port's TLS files are. */
  tlsAt: (port: TLSPort) => TlsPaths;
  version: ServerVersion;
  /** spec.auth.gatewayAuthSecret's user. */
  gatewayAuth?: PeerAuth;
}

const listen = (p: number, what: string) => quote(`0.0.0.0:${num(p, what, true)}`, what);

/** Each block after a blank line, for the listeners the spec asks for. */
export function listenerBlocks(input: ListenerInput): string[] {
  return [...leafnodesBlock(input), ...gatewayBlock(input), ...websocketBlock(input)];
}

function leafnodesBlock({ spec, files, leafCredsDir, tlsAt, version }: ListenerInput): string[] {
  const leaf = spec.leafnodeConfig;
  const leafPort = leaf?.hostPort ? leaf.hostPort : undefined;
  const remotes = leaf?.remotes ?? [];
  if (leafPort === undefined && remotes.length === 0) return [];
  const ln: string[] = [];
  if (leafPort !== undefined) ln.push(`port: ${num(leafPort, "spec.leafnodeConfig.hostPort", true)}`);
  if (leafPort !== undefined && spec.pod?.advertiseExternalIP) ln.push(advertiseInclude(advertiseFiles.gateway));
  if (remotes.length > 0) ln.push("remotes: [", ...remotes.map((r, i) => `  ${remoteConf(r, i, leafCredsDir, version)}`), "]");
  if (files.leafnode && leafPort !== undefined)
    ln.push(...tlsBlock(tlsAt("leafnode"), "spec.tls.leafnodeSecret", { timeout: spec.tls?.leafnodesTLSTimeout }));
  return ["", "leafnodes {", ...indent(ln), "}"];
}

function remoteConf(r: LeafnodeRemote, i: number, leafCredsDir: (secretName: string) => string, version: ServerVersion): string {
  const what = `spec.leafnodeConfig.remotes[${i}]`;
  const urls = [...(r.url !== undefined ? [r.url] : []), ...(r.urls ?? [])].filter((u, j, all) => all.indexOf(u) === j);
  if (urls.length === 0) throw new RenderError(`cannot write ${what} into nats.conf: it has no url or urls`);
  // Servers before 2.0.2 take a single `url` per remote.
  if (!version.leafnodeUrls && urls.length > 1)
    throw new RenderError(
      `${what} has ${urls.length} URLs, but nats-server ${version.tag} takes one per remote (2.0.2 and later take several): keep one, or raise spec.version`,
    );
  const parts = [
    version.leafnodeUrls
      ? `urls: [${urls.map((u, j) => quote(u, `${what} URL ${j}`)).join(", ")}]`
      : `url: ${quote(urls[0]!, `${what} URL 0`)}`,
  ];
  if (r.credentialsSecret) {
    const file = fileIn(leafCredsDir(r.credentialsSecret.name), r.credentialsSecret.key ?? "user.creds", `${what}.credentialsSecret.key`);
    parts.push(`credentials: ${quote(file, `${what} credentials`)}`);
  } else if (r.credentials !== undefined) {
    parts.push(`credentials: ${quote(r.credentials, `${what}.credentials`)}`);
  }
  return `{ ${parts.join(", ")} }`;
}

/** The gateway to other clusters of a supercluster; its name is the cluster's (nats-server requires that). */
function gatewayBlock({ spec, files, clusterName, tlsAt, version, gatewayAuth }: ListenerInput): string[] {
  const gw = spec.gatewayConfig;
  if (!gw) return [];
  const lines = [
    `name: ${quote(clusterName, "the gateway name")}`,
    `listen: ${listen(gatewayPort({ spec }), "spec.gatewayConfig.hostPort")}`,
  ];
  if (gw.rejectUnknown) lines.push("reject_unknown: true");
  if (spec.pod?.advertiseExternalIP) lines.push(advertiseInclude(advertiseFiles.gateway));
  if (gatewayAuth) lines.push(...peerAuthorizationConf(gatewayAuth, spec.auth?.gatewayAuthTimeout, "gateways'"));
  const remotes = gw.gateways ?? [];
  // The URLs as the spec gives them (nats-operator's way), unless the server would dial one
  // without a user with none: then with the gateways' own, as later servers do.
  const dialed = (url: string) => (version.gatewayOwnCredentials ? url : withCredentials(url, gatewayAuth));
  if (remotes.length)
    lines.push(
      "gateways: [",
      ...remotes.map((g, i) => {
        const what = `spec.gatewayConfig.gateways[${i}]`;
        if (!g.url) throw new RenderError(`cannot write ${what} into nats.conf: it has no url`);
        return `  { name: ${quote(g.name, `${what}.name`)}, url: ${quote(dialed(g.url), `${what}.url`)} }`;
      }),
      "]",
    );
  if (files.gateway) lines.push(...tlsBlock(tlsAt("gateway"), "spec.tls.gatewaySecret", { timeout: spec.tls?.gatewaysTLSTimeout }));
  return ["", "gateway {", ...indent(lines), "}"];
}

/** WebSocket clients; without spec.tls.websocketSecret in plain text (nats-server wants that said: no_tls). */
function websocketBlock({ spec, files, tlsAt }: ListenerInput): string[] {
  const ws = spec.websocketConfig;
  if (!ws) return [];
  const lines = [`listen: ${listen(websocketPort({ spec }), "spec.websocketConfig.port")}`];
  if (ws.handshakeTimeout) lines.push(`handshake_timeout: ${quote(ws.handshakeTimeout, "spec.websocketConfig.handshakeTimeout")}`);
  if (ws.compression) lines.push("compression: true");
  if (files.websocket) lines.push(...tlsBlock(tlsAt("websocket"), "spec.tls.websocketSecret", { timeout: spec.tls?.websocketTLSTimeout }));
  else lines.push("no_tls: true");
  return ["", "websocket {", ...indent(lines), "}"];
}
