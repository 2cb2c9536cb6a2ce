// spec.jetstream as settings: the store limits nats.conf gets (always explicit, never nats-server's
// dynamic default, which follows the disk and memory as they fill), GOMEMLIMIT, and what is wrong
// with a spec.

import { parseNatsConf } from "../reloader/nats-conf.ts";
import { advertiseStubs } from "./advertise.ts";
import type { NatsCluster } from "./natscluster.ts";
import { bytesOf } from "./quantity.ts";

export const jetstreamStoreDir = "/data/jetstream";
const defaultMemoryStore = 256 * 2 ** 20;

export interface JetStreamSettings {
  maxMemoryStore: number;
  maxFileStore: number;
  domain?: string;
  /** spec.jetstream.serverTags: every server's, after its own zone tag. */
  serverTags: string[];
  uniqueTag?: string;
}

/** The env var holding a server's zone tag, "zone:<zone>", from the node's zone label copied onto its pod. */
export const zoneTagEnv = "NATS_ZONE_TAG";
export const zoneLabel = "topology.kubernetes.io/zone";

export const jetstreamEnabled = (c: NatsCluster) => c.spec?.jetstream?.enabled === true;

/** The container's memory limit in bytes, if it has one. */
const memoryLimit = (c: NatsCluster) => bytesOf(c.spec?.pod?.resources?.limits?.memory);

/** The limits to render, or what is wrong with the spec (undefined: JetStream is off). */
export function jetstreamSettings(c: NatsCluster): { settings?: JetStreamSettings; problems: string[] } {
  const js = c.spec?.jetstream;
  if (!js?.enabled) return { problems: [] };
  const problems: string[] = [];
  const file = bytesOf(js.fileStorage?.size);
  if (js.fileStorage?.size === undefined)
    problems.push("spec.jetstream.fileStorage.size is required: each server keeps its streams on a claim of that size");
  else if (!file)
    problems.push(`spec.jetstream.fileStorage.size ${JSON.stringify(js.fileStorage.size)} is not a size in bytes, e.g. "10Gi"`);
  const limit = memoryLimit(c);
  const memory = js.memoryStorage?.size !== undefined ? bytesOf(js.memoryStorage.size) : limit ? Math.floor(limit / 4) : defaultMemoryStore;
  if (memory === undefined)
    problems.push(`spec.jetstream.memoryStorage.size ${JSON.stringify(js.memoryStorage?.size)} is not a size in bytes, e.g. "1Gi"`);
  else if (limit && memory >= limit)
    problems.push(
      `spec.jetstream.memoryStorage.size (${memory} bytes) does not fit in the container's memory limit (${limit} bytes): the server would be OOM-killed as memory streams fill`,
    );
  for (const t of js.serverTags ?? [])
    if (t.startsWith("zone:"))
      problems.push(`spec.jetstream.serverTags: "${t}": each server gets its own zone: tag from its node; use another prefix`);
  if (problems.length || !file || memory === undefined) return { problems };
  return {
    settings: {
      maxMemoryStore: memory,
      maxFileStore: file,
      ...(js.domain ? { domain: js.domain } : {}),
      serverTags: js.serverTags ?? [],
      ...(js.uniqueTag ? { uniqueTag: js.uniqueTag } : {}),
    },
    problems,
  };
}

/** GOMEMLIMIT for the server: 90% of the memory limit, so Go's collector works before the kernel kills. */
export function goMemLimit(c: NatsCluster): string | undefined {
  const limit = memoryLimit(c);
  return jetstreamEnabled(c) && limit ? String(Math.floor(limit * 0.9)) : undefined;
}

/**
 * What a server's stored JetStream data is tied to in its config: the cluster's name and its own
 * name (the variable it comes from; $HOSTNAME and $POD_NAME name a server alike).
 */
export function jetstreamIdentity(conf: string): { cluster?: string; serverName?: string } {
  const parsed = parseNatsConf({ ...advertiseStubs, "nats.conf": conf }, "nats.conf");
  if ("error" in parsed) return {};
  const cluster = parsed.conf.cluster;
  const serverName = parsed.conf.server_name;
  return {
    ...(cluster && typeof cluster === "object" && !Array.isArray(cluster) && typeof cluster.name === "string"
      ? { cluster: cluster.name }
      : {}),
    ...(typeof serverName === "string" ? { serverName: serverName.replace("$HOSTNAME", "$POD_NAME") } : {}),
  };
}

/** Why `next` may not replace `current` on servers that hold `streams` streams (undefined: it may). */
export function identityChange(current: string | undefined, next: string, streams: number): string | undefined {
  if (!current || !streams) return undefined;
  const was = jetstreamIdentity(current);
  const will = jetstreamIdentity(next);
  const changed = [
    was.cluster !== will.cluster ? `the cluster name (${was.cluster} → ${will.cluster})` : "",
    was.serverName !== will.serverName ? `the server names (${was.serverName} → ${will.serverName})` : "",
  ].filter(Boolean);
  if (!changed.length) return undefined;
  return `JetStream holds ${streams} stream${streams === 1 ? "" : "s"} here, so ${changed.join(" and ")} must not change: nats-server ties stored data to them; change it back`;
}
