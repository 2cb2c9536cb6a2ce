/**
 * Who sent a request, from the `Nats-Request-Info` header nats-server adds when a request crosses
 * accounts through a service import with `share: true` (see docs/config-api.md: who may change what). Absent
 * when the caller is in the controller's own account: nats-server then says nothing about it.
 */
export function callerOf(info: string | undefined): string | undefined {
  if (!info) return undefined;
  let ci: { acc?: unknown; user?: unknown; name?: unknown; host?: unknown };
  try {
    ci = JSON.parse(info);
  } catch {
    return undefined;
  }
  const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  const [user, acc, name, host] = [str(ci.user), str(ci.acc), str(ci.name), str(ci.host)];
  if (!user && !acc) return undefined;
  const who = user ? `user ${JSON.stringify(user)}${acc ? ` in account ${acc}` : ""}` : `account ${acc}`;
  const from = [name && `client ${JSON.stringify(name)}`, host].filter(Boolean).join(", ");
  return from ? `${who} (${from})` : who;
}
