// Phase 6, serve the config: the routes file the config API writes, the config Secret the servers
// read, and in configReload.mode operator the next step of moving every server to it.
import type { EventNote } from "../../events.ts";
import { configRevisionAnnotation } from "../../reloader/report.ts";
import type { Change } from "../../types.ts";
import { encodeBase64 } from "../base64.ts";
import { desiredConfigSecret, initialRoutesConfigMap } from "../desired-objects.ts";
import { defaultServerVersion } from "../desired-pod.ts";
import { tlsPorts } from "../natscluster.ts";
import {
  annotationConfigStrategy,
  annotationLastGoodRevision,
  keyLastGood,
  keySystemPassword,
  type RolloutStep,
  rolloutStep,
  strategyOfPut,
} from "../reload-rollout.ts";
import { isTlsFileKey, tlsKeysNamedIn } from "../tls-material.ts";
import { type Credentials, type SystemLogin, systemConnect } from "./credentials.ts";
import type { Observed } from "./observe.ts";
import type { RenderedConfig } from "./render.ts";

const encoded = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [k, encodeBase64(v)]));

export interface ServedConfig {
  changes: Change[];
  events: EventNote[];
  /** Operator mode: the rollout's step (undefined until the config Secret exists). */
  rollout?: RolloutStep;
  /** The config the servers are being moved to: the pods' restart key is made from it. */
  target: string;
}

export function serveConfig(seen: Observed, config: RenderedConfig & { conf: string }, creds: Credentials): ServedConfig {
  const routesFile: Change[] = seen.view.routesConfigMap
    ? []
    : [{ op: "create", kind: "ConfigMap", object: initialRoutesConfigMap(seen.cluster) }];
  const served = seen.operatorMode ? operatorModeSecret(seen, config, creds) : configSecret(seen, config, creds);
  return { ...served, changes: [...routesFile, ...served.changes], events: [...tlsEvents(seen, config), ...served.events] };
}

/** A renewed certificate (or key, or CA) of a TLS Secret: an Event naming the Secrets whose files changed. */
function tlsEvents(seen: Observed, config: RenderedConfig & { conf: string }): EventNote[] {
  const before = seen.configText["nats.conf"];
  if (before === undefined) return [];
  const idOf = (conf: string, port: string) =>
    tlsKeysNamedIn(conf)
      .find((k) => k.startsWith(`tls-${port}-`))
      ?.split("-")[2];
  const tls = seen.spec.tls as Record<string, unknown> | undefined;
  const renewed = tlsPorts.filter((p) => idOf(config.conf, p) !== undefined && idOf(before, p) !== idOf(config.conf, p));
  if (!renewed.length) return [];
  const named = renewed.map((p) => `spec.tls.${p}Secret "${String(tls?.[`${p}Secret`])}"`).join(", ");
  const how = seen.operatorMode ? "the operator reloads each server" : "each server's reloader reloads it";
  return [{ type: "Normal", reason: "CertificatesChanged", message: `new TLS files from ${named}: ${how}, no restart` }];
}

/** The config Secret's data: stale TLS files (named by no config it keeps) dropped, `want` laid over. */
function withTlsFilesOf(have: Record<string, string> | undefined, want: Record<string, string>): Record<string, string> {
  const kept = Object.entries(have ?? {}).filter(([k]) => !isTlsFileKey(k) || k in want);
  return { ...Object.fromEntries(kept), ...want };
}

/** Sidecar or plain mode: the Secret holds the rendered config; the reloaders or the kubelet bring it to the servers. */
function configSecret(seen: Observed, config: RenderedConfig & { conf: string }, creds: Credentials): ServedConfig {
  const { conf } = config;
  const rendered = desiredConfigSecret(seen.cluster, conf, seen.routesRevision);
  const secret = { ...rendered, data: { ...rendered.data, ...creds.secretData, ...encoded(config.tlsFiles) } };
  const have = seen.configSecret;
  if (!have) return { changes: [{ op: "create", kind: "Secret", object: secret }], events: [], target: conf };
  const changes: Change[] = [];
  const confChanged = seen.configText["nats.conf"] !== conf;
  if (confChanged || have.metadata?.annotations?.[configRevisionAnnotation] !== seen.routesRevision) {
    const annotations = { ...have.metadata?.annotations, ...secret.metadata?.annotations };
    const object = { ...have, metadata: { ...have.metadata, annotations }, data: withTlsFilesOf(have.data, secret.data) };
    changes.push({ op: "replace", kind: "Secret", object });
  }
  const events: EventNote[] = confChanged
    ? [
        {
          type: "Normal",
          reason: "ConfigUpdated",
          message: `server config changed (${config.routes.length} routes, cluster name ${config.clusterName}); servers reload it`,
        },
      ]
    : [];
  return { changes, events, target: conf };
}

/**
 * configReload.mode operator: the config Secret holds the config to run, the last good one and the
 * system user's password; the rollout moves the servers from one to the other.
 */
function operatorModeSecret(seen: Observed, config: RenderedConfig & { conf: string }, creds: Credentials): ServedConfig {
  const { conf } = config;
  const have = seen.configSecret;
  const login = creds.systemLogin!;
  // The TLS files of both configs it keeps: the one to run, and the last good one to go back to.
  const tlsFilesOf = (target: string, lastGood: string) =>
    Object.fromEntries(
      [...new Set([...tlsKeysNamedIn(target), ...tlsKeysNamedIn(lastGood)])].flatMap((k) => {
        const b64 = config.tlsFiles[k] !== undefined ? encodeBase64(config.tlsFiles[k]!) : have?.data?.[k];
        return b64 === undefined ? [] : [[k, b64]];
      }),
    );
  const data = (target: string, lastGood: string) => ({
    "nats.conf": encodeBase64(target),
    [keyLastGood]: encodeBase64(lastGood),
    ...("password" in login ? { [keySystemPassword]: encodeBase64(login.password) } : {}),
    ...creds.secretData,
    ...tlsFilesOf(target, lastGood),
  });
  const annotations = (targetRevision?: string, lastGoodRevision?: string) => ({
    ...(targetRevision ? { [configRevisionAnnotation]: targetRevision } : {}),
    ...(lastGoodRevision ? { [annotationLastGoodRevision]: lastGoodRevision } : {}),
  });
  const revision = seen.routesRevision;
  if (!have) {
    const s = desiredConfigSecret(seen.cluster, conf, revision);
    const object = { ...s, metadata: { ...s.metadata, annotations: annotations(revision, revision) }, data: data(conf, conf) };
    return { changes: [{ op: "create", kind: "Secret", object }], events: [], target: conf };
  }
  const rollout = nextRolloutStep(seen, conf, login);
  const wantData = data(rollout.target, rollout.lastGood);
  const wantAnnotations = { ...have.metadata?.annotations, ...annotations(rollout.targetRevision, rollout.lastGoodRevision) };
  const same =
    Object.entries(wantData).every(([k, val]) => have.data?.[k] === val) &&
    Object.keys(have.data ?? {}).every((k) => !isTlsFileKey(k) || k in wantData) &&
    Object.entries(wantAnnotations).every(([k, val]) => have.metadata?.annotations?.[k] === val);
  if (same) return { changes: [], events: [], rollout, target: rollout.target };
  const object = { ...have, metadata: { ...have.metadata, annotations: wantAnnotations }, data: withTlsFilesOf(have.data, wantData) };
  return {
    changes: [{ op: "replace", kind: "Secret", object }],
    events: [],
    rollout: { ...rollout, requeueAfterMs: rollout.requeueAfterMs ?? 0 },
    target: rollout.target,
  };
}

function nextRolloutStep(seen: Observed, conf: string, login: SystemLogin): RolloutStep {
  const cm = seen.view.routesConfigMap;
  const text = seen.configText;
  return rolloutStep({
    cluster: seen.cluster,
    pods: seen.live,
    size: seen.size,
    rendered: conf,
    renderedRevision: seen.routesRevision,
    renderedStrategy: strategyOfPut(
      cm?.metadata?.annotations?.[annotationConfigStrategy],
      cm?.data?.["routes.json"],
      seen.cluster.metadata.generation,
    ),
    lastGood: text[keyLastGood] ?? text["nats.conf"] ?? conf,
    lastGoodRevision: seen.configSecret?.metadata?.annotations?.[annotationLastGoodRevision],
    servers: seen.servers,
    ...(seen.view.site ? { site: seen.view.site } : {}),
    version: seen.spec.version || defaultServerVersion,
    connect: systemConnect(seen, login),
    now: seen.view.now,
  });
}
