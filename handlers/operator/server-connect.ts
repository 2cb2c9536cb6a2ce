// How the operator reaches a cluster's servers (reloads, peer removals, -config-api): by pod IP,
// over TLS where clients must use it, the certificate checked against the CA and the cluster's
// names, and with tls.verify presenting the server's own certificate, as the reloaders do.
import type { Pod, ServerConnect } from "../types.ts";
import { clusterTlsNames } from "./names.ts";
import { type NatsCluster, tlsFiles } from "./natscluster.ts";
import { ports } from "./server-config.ts";

/** `serverSecret`: the texts of spec.tls.serverSecret, when the cluster has one and it is read. */
export function serverConnect(c: NatsCluster, running: Pod[], serverSecret: Record<string, string> | undefined): ServerConnect {
  const files = tlsFiles(c.spec?.tls).server;
  const ca = files ? serverSecret?.[files.ca] : undefined;
  const [cert, key] = files && c.spec?.tls?.verify ? [serverSecret?.[files.cert], serverSecret?.[files.key]] : [];
  const names = () =>
    clusterTlsNames(
      c.metadata.name!,
      c.metadata.namespace!,
      running.map((p) => p.metadata!.name!),
    );
  return {
    urls: running.map((p) => `${ca ? "tls" : "nats"}://${p.status!.podIP}:${ports.client}`),
    ...(ca ? { ca, tlsNames: names() } : {}),
    ...(cert && key ? { cert, key } : {}),
  };
}
