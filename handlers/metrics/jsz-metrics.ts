// JetStream's /jsz as prometheus-nats-exporter's jsz collector names it with -prefix=nats:
// nats_server_* (the server's totals), nats_account_*, nats_stream_*, nats_consumer_*, each
// labelled with the server, and the account, stream and consumer they are about.

import type { FamilyList, Labels } from "./metric-family.ts";
import { epochMs } from "./rfc3339.ts";

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown) => (typeof v === "string" ? v : "");
const num = (v: unknown) => (typeof v === "number" ? v : 0);

/** Leader labels: the leader's name, and whether this server (`me`) is it ("true" with no cluster). */
const leader = (cluster: unknown, me: string): [string, string] => {
  const name = str(obj(cluster).leader);
  return [name, cluster === undefined || name === me ? "true" : "false"];
};

export function jszMetrics(out: FamilyList, prefix: string, serverId: string, jsz: Json, varz: Json | undefined): void {
  const serverName = str(varz?.server_name);
  const meta = jsz.meta_cluster;
  const [metaLeader, isMetaLeader] = leader(meta, serverName);
  const server: Labels = {
    server_id: serverId,
    server_name: serverName,
    cluster: str(obj(meta).name),
    domain: str(obj(jsz.config).domain),
    meta_leader: metaLeader,
    is_meta_leader: isMetaLeader,
  };
  const gauge = (name: string, help: string, labels: Labels, value: number) => out.add(`${prefix}_${name}`, "gauge", help, labels, value);

  gauge("server_jetstream_disabled", "JetStream disabled or not", server, jsz.disabled === true ? 1 : 0);
  gauge("server_max_memory", "JetStream Max Memory", server, num(obj(jsz.config).max_memory));
  gauge("server_max_storage", "JetStream Max Storage", server, num(obj(jsz.config).max_storage));
  gauge("server_total_streams", "Total number of streams in JetStream", server, num(jsz.streams));
  gauge("server_total_consumers", "Total number of consumers in JetStream", server, num(jsz.consumers));
  gauge("server_total_messages", "Total number of stored messages in JetStream", server, num(jsz.messages));
  gauge("server_total_message_bytes", "Total number of bytes stored in JetStream", server, num(jsz.bytes));

  for (const account of list(jsz.account_details)) {
    const name = str(account.name);
    const acc = { ...server, account: name, account_name: name, account_id: str(account.id) };
    gauge("account_max_storage", "JetStream Account Max Storage in bytes", acc, num(account.reserved_storage));
    gauge("account_max_memory", "JetStream Account Max Memory in bytes", acc, num(account.reserved_memory));
    gauge("account_storage_used", "Total number of bytes used by JetStream storage", acc, num(account.storage));
    gauge("account_memory_used", "Total number of bytes used by JetStream memory", acc, num(account.memory));
    for (const stream of list(account.stream_detail)) streamMetrics(gauge, acc, stream, serverName);
  }
}

type Gauge = (name: string, help: string, labels: Labels, value: number) => void;

/** `base` and a stream's (consumer's) name, its leader and whether this server is the leader. */
function named(base: Labels, kind: "stream" | "consumer", x: Json, serverName: string): Labels {
  const [name, isLeader] = leader(x.cluster, serverName);
  return { ...base, [`${kind}_name`]: str(x.name), [`${kind}_leader`]: name, [`is_${kind}_leader`]: isLeader };
}

function streamMetrics(gauge: Gauge, acc: Labels, stream: Json, serverName: string): void {
  const labels = { ...named(acc, "stream", stream, serverName), stream_raft_group: str(stream.stream_raft_group) };
  const state = obj(stream.state);
  gauge("stream_total_messages", "Total number of messages from a stream", labels, num(state.messages));
  gauge("stream_total_bytes", "Total stored bytes from a stream", labels, num(state.bytes));
  gauge("stream_first_seq", "First sequence from a stream", labels, num(state.first_seq));
  gauge("stream_last_seq", "Last sequence from a stream", labels, num(state.last_seq));
  gauge("stream_consumer_count", "Total number of consumers from a stream", labels, num(state.consumer_count));
  gauge("stream_subject_count", "Total number of subjects in a stream", labels, num(state.num_subjects));
  if (stream.config !== undefined) {
    const config = obj(stream.config);
    gauge(
      "stream_limit_bytes",
      "The maximum configured storage limit (in bytes) for a JetStream stream. A value of -1 indicates no limit.",
      labels,
      num(config.max_bytes),
    );
    gauge(
      "stream_limit_messages",
      "The maximum number of messages allowed in a JetStream stream as per its configuration. A value of -1 indicates no limit.",
      labels,
      num(config.max_msgs),
    );
  }
  const upstream = (kind: "source" | "mirror", s: Json) => {
    const ext = obj(s.external);
    const l = { ...labels, [`${kind}_name`]: str(s.name), [`${kind}_api`]: str(ext.api), [`${kind}_deliver`]: str(ext.deliver) };
    gauge(`stream_${kind}_lag`, `Number of messages a stream ${kind} is behind`, l, num(s.lag));
    gauge(`stream_${kind}_active_duration_ns`, `Stream ${kind} active duration in nanoseconds (-1 indicates inactive)`, l, num(s.active));
  };
  for (const s of list(stream.sources)) upstream("source", s);
  if (stream.mirror !== undefined) upstream("mirror", obj(stream.mirror));
  for (const c of list(stream.consumer_detail)) consumerMetrics(gauge, labels, c, serverName);
}

function consumerMetrics(gauge: Gauge, stream: Labels, c: Json, serverName: string): void {
  const labels = { ...named(stream, "consumer", c, serverName), consumer_desc: str(obj(c.config).description) };
  const delivered = obj(c.delivered);
  const ackFloor = obj(c.ack_floor);
  // Seconds from the last delivery (ack) to the time of the answer.
  const since = (t: unknown) => (epochMs(str(c.ts)) - epochMs(str(t))) / 1000;
  if (typeof delivered.last_active === "string")
    gauge("consumer_last_delivery_seconds", "Seconds since last message delivery to consumer", labels, since(delivered.last_active));
  if (typeof ackFloor.last_active === "string")
    gauge("consumer_last_ack_seconds", "Seconds since last ack from consumer", labels, since(ackFloor.last_active));
  gauge("consumer_delivered_consumer_seq", "Latest sequence number of a stream consumer", labels, num(delivered.consumer_seq));
  gauge("consumer_delivered_stream_seq", "Latest sequence number of a stream", labels, num(delivered.stream_seq));
  gauge("consumer_num_ack_pending", "Number of pending acks from a consumer", labels, num(c.num_ack_pending));
  gauge("consumer_num_redelivered", "Number of redelivered messages from a consumer", labels, num(c.num_redelivered));
  gauge("consumer_num_waiting", "Number of inflight fetch requests from a pull consumer", labels, num(c.num_waiting));
  gauge("consumer_num_pending", "Number of pending messages from a consumer", labels, num(c.num_pending));
  gauge("consumer_ack_floor_stream_seq", "Number of ack floor stream seq from a consumer", labels, num(ackFloor.stream_seq));
  gauge("consumer_ack_floor_consumer_seq", "Number of ack floor consumer seq from a consumer", labels, num(ackFloor.consumer_seq));
}
