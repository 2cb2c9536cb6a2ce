import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";

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
  | { op: "create"; kind: "ConfigMap"; object: V1ConfigMap }
  | { op: "replace"; kind: "ConfigMap"; object: V1ConfigMap };

export interface Result {
  reply: Reply;
  changes: Change[];
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

export type { V1ConfigMap as ConfigMap, V1Pod as Pod };
