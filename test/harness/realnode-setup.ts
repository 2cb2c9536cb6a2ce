import type { TestProject } from "vitest/node";
import { binaries } from "./binaries.ts";
import { buildImages, leftovers, type NodeImages, realNodeUnavailable, startRealNode } from "./realnode.ts";

export interface RealNodeInfo {
  /** Why the real-node suites cannot run on this machine; empty when they run. */
  unavailable: string;
  kubeconfig: string;
  /** The bed's nodes by name (see startRealNode). */
  nodes: string[];
  kubectlBin: string;
  natsCliBin: string;
  dir: string;
  images: NodeImages;
}

declare module "vitest" {
  export interface ProvidedContext {
    realNode: RealNodeInfo;
  }
}

/** The bed's nodes: three, each with its own kubelet and containerd, in zones of their own. */
const bedNodes = 3;

/** One bed of real nodes for all real-node suites, one after another; always torn down, and checked clean. */
export default async function setup(project: TestProject) {
  const b = binaries();
  const unavailable = realNodeUnavailable();
  if (unavailable) {
    console.log(`real-node suites not run: ${unavailable}.`);
    project.provide("realNode", {
      unavailable,
      kubeconfig: "",
      nodes: [],
      kubectlBin: "",
      natsCliBin: "",
      dir: "",
      images: undefined as never,
    });
    return;
  }
  const before = leftovers();
  if (before) console.log(`real node: a previous run left this behind, cleaning it up first:\n${before}`);
  const started = Date.now();
  const images = buildImages();
  const node = startRealNode({ archives: images.archives, registryArchives: images.registryArchives, nodes: bedNodes });
  console.log(
    `test bed: ${node.nodes.length} real node(s) Ready in ${((Date.now() - started) / 1000).toFixed(1)} s (images ${images.satellite}, ${images.nats}, ${images.natsPrevious}; state in ${node.dir})`,
  );
  project.provide("realNode", {
    unavailable: "",
    kubeconfig: node.kubeconfig,
    nodes: node.nodes,
    kubectlBin: node.kubectlBin,
    natsCliBin: b.NATS_CLI_BIN,
    dir: node.dir,
    images,
  });
  return () => {
    const left = node.stop();
    if (left) throw new Error(`the real node's teardown left this on the host:\n${left}`);
  };
}
