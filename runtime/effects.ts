import { type Change, kinds, type PeerRemove, type ServerReload, type TokenWrite } from "../handlers/index.ts";
import type { KubeClient } from "./kube/client.ts";
import { isNotFound } from "./kube/errors.ts";
import type { Logger } from "./log.ts";

type Written = { metadata?: { name?: string; resourceVersion?: string } };

/**
 * Carries out a handler's changes in order and returns what each write gave back. A replace sends
 * the resourceVersion the handler saw, so a concurrent write makes the API server answer 409
 * instead of being overwritten; a delete with a uid only deletes the object that was seen, and
 * deleting what is gone is success. Events are best effort: logged, and a failure to record one
 * stops nothing. Requests to the servers themselves (reloads, meta peer removals) are not the API
 * server's: `servers` carries them out.
 */
export async function applyChanges(
  kube: KubeClient,
  changes: Change[],
  log: Logger,
  servers?: { reload(r: ServerReload): Promise<void>; removePeer(r: PeerRemove): Promise<void> },
): Promise<Written[]> {
  const written: Written[] = [];
  for (const c of changes) {
    if (c.op === "reload" || c.op === "remove-peer") {
      if (!servers) throw new Error(`no way to reach the servers of ${c.namespace}/${c.cluster} here`);
      await (c.op === "reload" ? servers.reload(c) : servers.removePeer(c));
      continue;
    }
    if (c.op === "token") {
      written.push(await writeToken(kube, c));
      continue;
    }
    const type = kinds[c.kind];
    if (c.op === "delete") {
      const grace = c.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: c.gracePeriodSeconds } : {};
      await kube.remove(type, { namespace: c.namespace, name: c.name }, { uid: c.uid, ...grace }).catch((e) => {
        if (!isNotFound(e)) throw e;
      });
    } else if (c.kind === "Event" && c.op === "create") {
      const e = c.object;
      (e.type === "Warning" ? log.warn : log.info)(e.message ?? "", {
        about: `${e.involvedObject.kind}/${e.involvedObject.namespace}/${e.involvedObject.name}`,
        reason: e.reason,
      });
      await kube.create(type, e).catch((err) => log.warn("cannot record event", { reason: e.reason, error: (err as Error).message }));
    } else if (c.op === "create") {
      written.push(await kube.create(type, c.object));
    } else {
      if (!c.object.metadata?.resourceVersion)
        throw new Error(`refusing to replace ${c.kind} ${c.object.metadata?.name} without a resourceVersion`);
      written.push(await kube.replace(type, c.object, c.op === "status" ? { subresource: "status" } : {}));
    }
  }
  return written;
}

/**
 * A `token` change: the Secret (created first when new, so the token can be bound to its uid), a
 * TokenRequest for the ServiceAccount bound to it, then the Secret again with the token, replaced
 * at the resourceVersion just read or written. A failure between the steps leaves a Secret without
 * a token, which the next reconcile asks a token for again; no user is rendered from it meanwhile.
 */
async function writeToken(kube: KubeClient, c: TokenWrite): Promise<Written> {
  const ns = c.secret.metadata!.namespace!;
  const secret = c.secret.metadata?.uid ? c.secret : await kube.create(kinds.Secret, c.secret);
  const request = {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: {
      audiences: [c.audience],
      expirationSeconds: c.expirationSeconds,
      boundObjectRef: { kind: "Secret", apiVersion: "v1", name: secret.metadata!.name!, uid: secret.metadata!.uid! },
    },
  };
  const issued = (await kube.create(kinds.ServiceAccount, request as never, {
    ref: { namespace: ns, name: c.serviceAccount, subresource: "token" },
  })) as unknown as { status?: { token?: string } };
  const token = issued.status?.token;
  if (!token) throw new Error(`the API server gave no token for ServiceAccount ${ns}/${c.serviceAccount}`);
  return kube.replace(kinds.Secret, { ...secret, data: { ...secret.data, token: Buffer.from(token).toString("base64") } });
}
