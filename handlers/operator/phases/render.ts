// Phase 4, render: nats.conf for the cluster's servers, from the spec, the routes file the config
// API writes, and the operator's own users.
import { lacksEnv, lacksOurEnv } from "../adopt.ts";
import { type CertificateRefusal, refusedCertificates } from "../certificate-checks.ts";
import { identityChange, jetstreamSettings, zoneTagEnv } from "../jetstream.ts";
import { keyLastGood, systemUser } from "../reload-rollout.ts";
import { ports, renderServerConfig, serverPaths } from "../server-config.ts";
import { droppedRoutesCa, type TlsMaterial, tlsMaterial } from "../tls-material.ts";
import type { Validated } from "../validate.ts";
import type { Credentials } from "./credentials.ts";
import type { Observed } from "./observe.ts";

export interface RenderedConfig {
  /** The config text; undefined when it could not be rendered (see problems) or was not tried. */
  conf?: string;
  /** The TLS files the config names from the config dir (reload modes), as text by config Secret key. */
  tlsFiles: Record<string, string>;
  routes: string[];
  clusterName: string;
  problems: string[];
  /** Refused TLS files that become valid later: look again then. */
  retryAfterMs?: number;
}

/** `skip`: earlier phases found problems, so nothing is rendered. `read`: what validation read from the spec's Secrets. */
export function renderConfig(
  seen: Observed,
  creds: Credentials,
  skip: boolean,
  read: Pick<Validated, "clusterAuth" | "gatewayAuth" | "jwtAccounts"> = {},
): RenderedConfig {
  const { name, namespace: ns, spec } = seen;
  const fromApi = seen.routesFile;
  // nats-server requires a gateway's name to be its cluster's.
  const gatewayName = spec.gatewayConfig?.name;
  const clusterName = fromApi?.name || gatewayName || name;
  const podRoutes = Array.from(
    { length: Math.max(0, seen.size) },
    (_, i) => `nats://${name}-${i + 1}.${name}-mgmt.${ns}.svc:${ports.cluster}`,
  );
  const extra = (spec.extraRoutes ?? [])
    .map((r) => r.route || (r.cluster ? `nats://${r.cluster}-mgmt.${ns}.svc:${ports.cluster}` : ""))
    .filter(Boolean);
  const routes = [...new Set([...podRoutes, ...extra, ...(fromApi?.routes ?? [])])];
  if (skip || creds.problems.length) return { routes, clusterName, tlsFiles: {}, problems: [] };
  if (fromApi?.name && fromApi.name !== name && !seen.version.clusterName)
    return {
      routes,
      clusterName,
      tlsFiles: {},
      problems: [
        `the routes file (config.put) names the cluster ${JSON.stringify(fromApi.name)}, but nats-server ${seen.version.tag} has no cluster name (2.2.0 and later have): put the routes without a name, or raise spec.version`,
      ],
    };
  if (fromApi?.name && gatewayName && fromApi.name !== gatewayName)
    return {
      routes,
      clusterName,
      tlsFiles: {},
      problems: [
        `the routes file (config.put) names the cluster ${JSON.stringify(fromApi.name)}, but spec.gatewayConfig.name is ${JSON.stringify(gatewayName)} and nats-server requires the two to be equal: put the routes with that name, or without one`,
      ],
    };
  // Where the servers reload their config, their TLS files come with it (tls-material.ts).
  const material =
    seen.operatorMode || spec.pod?.enableConfigReload ? tlsMaterial(spec.tls, seen.secrets, serverPaths.configDir) : undefined;
  const refused = material ? refusedMaterial(seen, material) : { problems: [] };
  if (refused.problems.length) return { routes, clusterName, tlsFiles: {}, ...refused };
  const rendered = renderServerConfig({
    ...(material ? { tlsPaths: material.paths } : {}),
    cluster: seen.cluster,
    clusterName,
    routes,
    clientsAuth: creds.clientsAuth,
    ...(read.clusterAuth ? { clusterAuth: read.clusterAuth } : {}),
    ...(read.gatewayAuth ? { gatewayAuth: read.gatewayAuth } : {}),
    ...(creds.systemPassword ? { systemUser: { user: systemUser, password: creds.systemPassword } } : {}),
    fleetServerNames: Boolean(seen.view.site),
    adoptedPods: seen.live.some(lacksOurEnv),
    // Pods made before servers had zone tags get them when replaced; until then none has one.
    zoneTags: !seen.live.some(lacksEnv(zoneTagEnv)),
    jetstream: jetstreamSettings(seen.cluster).settings,
    ...(read.jwtAccounts ? { jwtAccounts: read.jwtAccounts } : {}),
  });
  if ("error" in rendered)
    return { routes, clusterName, tlsFiles: {}, problems: [`the server config cannot be rendered: ${rendered.error.message}`] };
  const renamed = identityChange(seen.configText["nats.conf"], rendered.text, seen.streams.length);
  if (renamed) return { routes, clusterName, tlsFiles: {}, problems: [renamed] };
  return { conf: rendered.text, routes, clusterName, tlsFiles: material?.files ?? {}, problems: [] };
}

/** TLS files the servers must not move to: a routes CA swapped in one step, certificates their peers would refuse. */
function refusedMaterial(seen: Observed, material: TlsMaterial): CertificateRefusal {
  const caDropped = droppedRoutesCa(seen.configText, keyLastGood, material, seen.spec.tls?.routesSecret);
  return caDropped.length ? { problems: caDropped } : refusedCertificates(seen, material);
}
