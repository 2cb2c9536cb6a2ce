import type { TestProject } from "vitest/node";
import { binaries } from "./binaries.ts";
import { type ControlPlaneInfo, startControlPlane } from "./control-plane.ts";

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

/** One control plane for the whole integration run; each test file takes its own namespace. */
export default async function setup(project: TestProject) {
  binaries();
  const cp = await startControlPlane();
  console.log(`test bed: etcd + kube-apiserver ready at ${cp.server} in ${cp.startMs} ms (logs in ${cp.dir})`);
  const { etcd, apiserver, stop, restartApiServer, ...info } = cp;
  project.provide("controlPlane", info);
  return async () => {
    await stop();
  };
}
