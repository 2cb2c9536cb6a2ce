import { inject } from "vitest";
import { type TestKube, testKube } from "./kube.ts";

export type { TestKube } from "./kube.ts";
export { type NatsServer, startHubAndLeaf, startNatsCluster, startNatsServer } from "./nats.ts";
export { freePort, freePorts, waitFor } from "./ports.ts";
export { type Proc, startProcess } from "./process.ts";

/** The run's control plane, seen from a test file (admin client and helpers). */
export function useKube(): TestKube {
  return testKube(inject("controlPlane"));
}
