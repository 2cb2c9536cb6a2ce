// A metric family as the Prometheus text format has it: what the exporter's conversion returns and
// the runtime writes out (runtime/metrics.ts renderFamilies).

export type Labels = Record<string, string>;

export interface MetricFamily {
  name: string;
  type: "gauge" | "counter";
  help: string;
  samples: { labels: Labels; value: number }[];
}

/** Families by name, in the order first added: `add` puts a sample in (creating the family once). */
export function familyList() {
  const byName = new Map<string, MetricFamily>();
  return {
    add(name: string, type: MetricFamily["type"], help: string, labels: Labels, value: number): void {
      const f = byName.get(name) ?? { name, type, help, samples: [] };
      byName.set(name, f);
      if (f.type === type) f.samples.push({ labels, value });
    },
    has: (name: string) => byName.has(name),
    families: () => [...byName.values()],
  };
}

export type FamilyList = ReturnType<typeof familyList>;
