import { connect } from "@nats-io/transport-node";
import type { TestKube } from "../test/harness/kube.ts";
import { waitFor } from "../test/harness/ports.ts";
import { startSeedPicture } from "../test/harness/seed-picture.ts";
import { rssMb } from "./runtimes.ts";

export interface ReloadBench {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** The largest reloader's resident memory after the puts and 10 s idle. */
  reloaderRssMb: number;
}

/**
 * Propagation: from sending config.put (with "wait") on the ground until its reply, which comes
 * once the last of the three servers has confirmed the reload of that revision.
 */
export async function benchReload(kube: TestKube, n = 50): Promise<ReloadBench> {
  const seed = await startSeedPicture(kube);
  const nc = await connect({ servers: seed.ground.url });
  try {
    await waitFor("the controller from the ground", async () =>
      (await nc.request("_SAT.nats.config.get", "", { timeout: 1_000 })).string().includes('"ok":true'),
    );
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const body = JSON.stringify({ routes: [...seed.routes, `nats://10.99.0.${(i % 200) + 1}:6222`], wait: "10s" });
      const t0 = performance.now();
      const reply = JSON.parse((await nc.request("_SAT.nats.config.put", body, { timeout: 15_000 })).string());
      lat.push(performance.now() - t0);
      if (!reply.reload?.complete || !reply.reload.ok)
        throw new Error(`put ${i} not confirmed by every server: ${JSON.stringify(reply.reload ?? reply)}`);
    }
    const sorted = [...lat].sort((a, b) => a - b);
    const pick = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    await new Promise((r) => setTimeout(r, 10_000));
    const reloaderRssMb = Math.max(...seed.reloaders.map((p) => rssMb(p.pid)));
    return { n, p50: pick(50), p99: pick(99), max: sorted.at(-1)!, reloaderRssMb };
  } finally {
    await nc.close();
    await seed.stop();
  }
}
