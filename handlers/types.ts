import type { V1ConfigMap, V1Pod, V1Role, V1RoleBinding, V1Secret, V1Service, V1ServiceAccount } from "@kubernetes/client-node";

/** A reply to a NATS request: success data, or an error with an HTTP-like code. */
export type Reply = OkReply | ErrorReply;
export type OkReply = { ok: true; error?: never; [key: string]: unknown };
export type ErrorReply = { ok?: never; error: ReplyError };

export interface ReplyError {
  code: number;
  message: string;
}

/** A change for the runtime to make. `replace` carries the resourceVersion it was computed from. */
export type Change =
  | Write<"ConfigMap", V1ConfigMap>
  | Write<"Secret", V1Secret>
  | Write<"Service", V1Service>
  | Write<"Pod", V1Pod>
  | Write<"ServiceAccount", V1ServiceAccount>
  | Write<"Role", V1Role>
  | Write<"RoleBinding", V1RoleBinding>
  | Delete;

export type Kind = "ConfigMap" | "Secret" | "Service" | "Pod" | "ServiceAccount" | "Role" | "RoleBinding";
type Write<K extends Kind, T> = { op: "create" | "replace"; kind: K; object: T };
/** `uid` makes the delete conditional on the object still being the one that was seen. */
export type Delete = { op: "delete"; kind: Kind; namespace: string; name: string; uid?: string };

export interface Result {
  reply: Reply;
  changes: Change[];
  /** After the changes, wait this long for the servers to confirm they reloaded (config.put "wait"). */
  waitForReloadMs?: number;
}

/** Who this controller serves: from its flags. */
export interface Target {
  cluster: string;
  namespace: string;
  configMap: string;
  key: string;
}

export interface Request {
  subject: string;
  data: Uint8Array;
}

export const fail = (code: number, message: string): Result => ({ reply: { error: { code, message } }, changes: [] });
export const ok = (body: Record<string, unknown>, changes: Change[] = []): Result => ({ reply: { ok: true, ...body }, changes });

export type { V1ConfigMap as ConfigMap, V1Pod as Pod, V1Secret as Secret, V1Service as Service, V1ServiceAccount as ServiceAccount, V1Role as Role, V1RoleBinding as RoleBinding };
