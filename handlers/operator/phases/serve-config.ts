// Phase 6, serve the config: the routes file the config API writes, the config Secret the servers
// read, and in configReload.mode operator the next step of moving every server to it.
import type { EventNote } from "../../events.ts";
import { configRevisionAnnotation } from "../../reloader/report.ts";
import type { Change } from "../../types.ts";
import { encodeBase64 } from "../base64.ts";
import { desiredConfigSecret, initialRoutesConfigMap } from "../desired-objects.ts";
import { defaultServerVersion } from "../desired-pod.ts";
import {
  annotationConfigStrategy,
  annotationLastGoodRevision,
  keyLastGood,
  keySystemPassword,
  type RolloutStep,
  rolloutStep,
  strategyOfPut,
} from "../reload-rollout.ts";
import { type Credentials, systemConnect } from "./credentials.ts";
import type { Observed } from "./observe.ts";
import type { RenderedConfig } from "./render.ts";

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
  const served = seen.operatorMode ? operatorModeSecret(seen, config.conf, creds) : configSecret(seen, config, creds);
  return { ...served, changes: [...routesFile, ...served.changes] };
}

/** Sidecar or plain mode: the Secret holds the rendered config; the reloaders or the kubelet bring it to the servers. */
function configSecret(seen: Observed, config: RenderedConfig & { conf: string }, creds: Credentials): ServedConfig {
  const { conf } = config;
  const rendered = desiredConfigSecret(seen.cluster, conf, seen.routesRevision);
  const secret = { ...rendered, data: { ...rendered.data, ...creds.secretData } };
  const have = seen.configSecret;
  if (!have) return { changes: [{ op: "create", kind: "Secret", object: secret }], events: [], target: conf };
  const changes: Change[] = [];
  const confChanged = seen.configText["nats.conf"] !== conf;
  if (confChanged || have.metadata?.annotations?.[configRevisionAnnotation] !== seen.routesRevision) {
    const annotations = { ...have.metadata?.annotations, ...secret.metadata?.annotations };
    const object = { ...have, metadata: { ...have.metadata, annotations }, data: { ...have.data, ...secret.data } };
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
function operatorModeSecret(seen: Observed, conf: string, creds: Credentials): ServedConfig {
  const have = seen.configSecret;
  const password = creds.systemPassword!;
  const data = (target: string, lastGood: string) => ({
    "nats.conf": encodeBase64(target),
    [keyLastGood]: encodeBase64(lastGood),
    [keySystemPassword]: encodeBase64(password),
    ...creds.secretData,
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
  const rollout = nextRolloutStep(seen, conf, password);
  const wantData = data(rollout.target, rollout.lastGood);
  const wantAnnotations = { ...have.metadata?.annotations, ...annotations(rollout.targetRevision, rollout.lastGoodRevision) };
  const same =
    Object.entries(wantData).every(([k, val]) => have.data?.[k] === val) &&
    Object.entries(wantAnnotations).every(([k, val]) => have.metadata?.annotations?.[k] === val);
  if (same) return { changes: [], events: [], rollout, target: rollout.target };
  const object = { ...have, metadata: { ...have.metadata, annotations: wantAnnotations }, data: { ...have.data, ...wantData } };
  return {
    changes: [{ op: "replace", kind: "Secret", object }],
    events: [],
    rollout: { ...rollout, requeueAfterMs: rollout.requeueAfterMs ?? 0 },
    target: rollout.target,
  };
}

function nextRolloutStep(seen: Observed, conf: string, password: string): RolloutStep {
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
    connect: systemConnect(seen, password),
    now: seen.view.now,
  });
}
