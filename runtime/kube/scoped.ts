import type { Reflector } from "./reflector.ts";

type Meta = { metadata?: { name?: string; namespace?: string } };

/** A read-only view of a shared cache: one namespace, the objects `keep` keeps; stopping it leaves the cache running. */
export function scoped<T extends Meta>(base: Reflector<T>, namespace: string, keep: (o: T) => boolean): Reflector<T> {
  const mine = (o: T | undefined): o is T => Boolean(o && o.metadata?.namespace === namespace && keep(o));
  return {
    synced: base.synced,
    isSynced: () => base.isSynced(),
    get: (name, ns) => {
      const o = base.get(name, ns ?? namespace);
      return mine(o) ? o : undefined;
    },
    list: () => base.list().filter(mine),
    onChange: (fn) =>
      base.onChange((t, o) => {
        if (mine(o)) fn(t, o);
      }),
    observe: (o) => base.observe(o),
    stop: () => undefined,
  };
}
