import { inject } from "vitest";
import { testKube, type TestKube } from "./kube.ts";

export { startNatsServer, startNatsCluster, startHubAndLeaf, type NatsServer } from "./nats.ts";
export { waitFor, freePort, freePorts } from "./ports.ts";
export { startProcess, type Proc } from "./process.ts";
export type { TestKube } from "./kube.ts";

/** The run's control plane, seen from a test file (admin client and helpers). */
export function useKube(): TestKube {
  return testKube(inject("controlPlane"));
}
