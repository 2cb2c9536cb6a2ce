import type { ServerReport } from "./config/reload-wait.ts";
import type { Kind, ObjectOf } from "./kinds.ts";
import type { NatsCluster } from "./operator/natscluster.ts";

/** A reply to a NATS request: success data, or an error with an HTTP-like code. */
export type Reply = OkReply | ErrorReply;
export type OkReply = { ok: true; error?: never; [key: string]: unknown };
export type ErrorReply = { ok?: never; error: ReplyError };

export interface ReplyError {
  code: number;
  message: string;
}

/**
 * A change for the runtime to make. `replace` carries the resourceVersion it was computed from;
 * `status` replaces a NatsCluster's status subresource; an Event `create` is best effort.
 */
export type Change =
  | { [K in Kind]: { op: "create" | "replace"; kind: K; object: ObjectOf<K> } }[Kind]
  | StatusChange
  | Delete
  | ServerReload
  | PeerRemove
  | TokenWrite;
export type StatusChange = { op: "status"; kind: "NatsCluster"; object: NatsCluster };
/**
 * Reload one nats-server over NATS ($SYS.REQ.SERVER.<id>.RELOAD) as a system-account user; the
 * runtime remembers the outcome for the next reconcile. `digest`: the config digest it should reach.
 */
export type ServerReload = {
  op: "reload";
  kind?: never;
  namespace: string;
  cluster: string;
  pod: string;
  serverId: string;
  digest: string;
  connect: ServerConnect;
};

/**
 * How the operator reaches a cluster's servers: by pod IP, so a TLS certificate is checked
 * against the CA and against the cluster's names (`tlsNames`), not the IP.
 */
export interface ServerConnect {
  urls: string[];
  user?: string;
  password?: string;
  /** A creds file's text (a user JWT and its seed): JWT accounts. */
  creds?: string;
  ca?: string;
  tlsNames?: string[];
  /** A client certificate and key (PEM), where servers verify clients' certificates (tls.verify). */
  cert?: string;
  key?: string;
}
/**
 * Remove a server that is gone for good from the JetStream meta group ($JS.API.SERVER.REMOVE, as a
 * system-account user), so its streams' replicas are placed on the servers that remain.
 */
export type PeerRemove = {
  op: "remove-peer";
  kind?: never;
  namespace: string;
  cluster: string;
  server: string;
  connect: ServerReload["connect"];
};
/**
 * Ask the API server for a ServiceAccount token (a TokenRequest: POST
 * serviceaccounts/<serviceAccount>/token in the Secret's namespace) bound to `secret`, and write it
 * into that Secret under key `token`. The runtime creates `secret` first when it has no uid, else
 * replaces it at the resourceVersion the handler saw; the rest of the Secret is written as given.
 */
export type TokenWrite = {
  op: "token";
  kind?: never;
  secret: Secret;
  serviceAccount: string;
  audience: string;
  expirationSeconds: number;
};
/** `uid` makes the delete conditional on the object still being the one that was seen. */
export type Delete = { op: "delete"; kind: Kind; namespace: string; name: string; uid?: string; gracePeriodSeconds?: number };

/**
 * A handler's answer: the changes to make, and the reply, built from what the runtime learned
 * making them. With `wait`, the runtime first follows the servers' reload reports until `done`
 * or the time is up.
 */
export interface Result {
  changes: Change[];
  reply(learned: Learned): Reply;
  wait?: { ms: number; done(learned: Learned): boolean };
}

/** What the runtime learned carrying out a Result. */
export interface Learned {
  /** The resourceVersion of the last object written. */
  revision?: string;
  /** The latest report of each server's reloader, by pod name. */
  reloads?: Record<string, ServerReport | undefined>;
  /** How long the runtime waited for reloads (absent: it did not wait). */
  waitedMs?: number;
  /** The namespace's NatsClusters as the runtime last saw them (their status tracks operator reloads). */
  clusters?: NatsCluster[];
}

/** Who this controller serves: from its flags. */
export interface Target {
  cluster: string;
  namespace: string;
  configMap: string;
  key: string;
  /** Where the cluster runs, in a fleet: its subjects become _SAT.<site>.<cluster>.… */
  site?: string;
}

/** What discover reads of a NatsCluster. */
export type NatsClusterRef = Pick<NatsCluster, "metadata" | "status">;

/** The subjects of a cluster's config API start with this. */
export const subjectPrefix = (t: Pick<Target, "cluster" | "site">) => (t.site ? `_SAT.${t.site}.${t.cluster}` : `_SAT.${t.cluster}`);

export interface Request {
  subject: string;
  data: Uint8Array;
  /** The request's `Nats-Request-Info` header, when nats-server added one (who sent it). */
  info?: string;
}

export const fail = (code: number, message: string): Result => ({ changes: [], reply: () => ({ error: { code, message } }) });
export const ok = (body: Record<string, unknown>): Result => ({ changes: [], reply: () => ({ ok: true, ...body }) });

export type { Kind, ObjectOf };
export type ConfigMap = ObjectOf<"ConfigMap">;
export type Event = ObjectOf<"Event">;
export type Pod = ObjectOf<"Pod">;
export type PersistentVolumeClaim = ObjectOf<"PersistentVolumeClaim">;
export type PodDisruptionBudget = ObjectOf<"PodDisruptionBudget">;
export type Role = ObjectOf<"Role">;
export type RoleBinding = ObjectOf<"RoleBinding">;
export type Secret = ObjectOf<"Secret">;
export type Service = ObjectOf<"Service">;
export type ServiceAccount = ObjectOf<"ServiceAccount">;
