// The TLS files of a cluster's servers, carried in its config Secret under names made from their
// content: a renewed certificate (cert-manager renews every few weeks) is a new file name in
// nats.conf, so the config changes and reaches the servers as any config change does, reloaded
// and confirmed in both reload modes; the files and the config that names them arrive together.
import { sha256Hex } from "../reloader/sha256.ts";
import { type TLSConfig, type TLSPort, tlsFiles, tlsPorts } from "./natscluster.ts";
import type { SecretTexts } from "./phases/observe.ts";

export interface TlsPaths {
  ca: string;
  cert: string;
  key: string;
}

export interface TlsMaterial {
  /** Where nats.conf finds each port's files. */
  paths: Partial<Record<TLSPort, TlsPaths>>;
  /** The config Secret's keys for them, as text. */
  files: Record<string, string>;
}

const fileName = `tls-(?:${tlsPorts.join("|")})-[0-9a-f]{12}-(?:ca|cert|key)\\.pem`;
const oneFile = new RegExp(`^${fileName}$`);
const filesIn = new RegExp(fileName, "g");
export const isTlsFileKey = (key: string) => oneFile.test(key);

/** Each TLS Secret's files, under content-made names in `configDir`; a Secret not read yet is left out. */
export function tlsMaterial(tls: TLSConfig | undefined, secrets: SecretTexts, configDir: string): TlsMaterial {
  const paths: TlsMaterial["paths"] = {};
  const files: Record<string, string> = {};
  for (const [port, f] of Object.entries(tlsFiles(tls)) as [TLSPort, NonNullable<ReturnType<typeof tlsFiles>[TLSPort]>][]) {
    const s = secrets[f.secret];
    const [ca, cert, key] = [s?.[f.ca], s?.[f.cert], s?.[f.key]];
    if (ca === undefined || cert === undefined || key === undefined) continue;
    const id = sha256Hex(`${ca}\n${cert}\n${key}`).slice(0, 12);
    const name = (what: string) => `tls-${port}-${id}-${what}.pem`;
    Object.assign(files, { [name("ca")]: ca, [name("cert")]: cert, [name("key")]: key });
    paths[port] = { ca: `${configDir}/${name("ca")}`, cert: `${configDir}/${name("cert")}`, key: `${configDir}/${name("key")}` };
  }
  return { paths, files };
}

/** The TLS file keys a config text names (so a config kept for rollback keeps its files). */
export function tlsKeysNamedIn(conf: string | undefined): string[] {
  return [...new Set((conf ?? "").match(filesIn) ?? [])];
}

const certificates = (pem: string) =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => b.replace(/\s+/g, ""));

/**
 * A routes CA swapped in one step: servers moved to the new files one at a time would trust only
 * the old CA or only the new one and could not route to each other. The new CA bundle must keep
 * every CA certificate the configs the servers run (`running`: the config Secret's texts) trust.
 */
export function droppedRoutesCa(
  running: Record<string, string>,
  lastGoodKey: string,
  material: TlsMaterial,
  secretName: string | undefined,
): string[] {
  const newKey = Object.keys(material.files).find((k) => k.startsWith("tls-routes-") && k.endsWith("-ca.pem"));
  if (!newKey) return [];
  const kept = certificates(material.files[newKey]!);
  const trusted = [running["nats.conf"], running[lastGoodKey]]
    .flatMap((conf) => tlsKeysNamedIn(conf).filter((k) => k.startsWith("tls-routes-") && k.endsWith("-ca.pem")))
    .flatMap((k) => certificates(running[k] ?? ""));
  if (trusted.every((c) => kept.includes(c))) return [];
  return [
    `spec.tls.routesSecret "${secretName}": its CA (ca.pem) no longer holds the CA the servers trust now, so servers moved to it one at a time could not route to those not yet moved: put the new CA next to the old one in ca.pem first (a bundle), let every server reload, then drop the old one`,
  ];
}
