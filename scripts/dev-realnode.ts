// npm run dev on a real node: the images built from this checkout, manifests/ applied with
// kustomize as a user applies them, the example NatsCluster, and a "ground" nats-server on this
// machine that the seed's cluster links to over leafnodes.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startNatsServer } from "../test/harness/nats.ts";
import { isFree, waitFor } from "../test/harness/ports.ts";
import { buildImages, groundPatch, startRealNode, writeOverlay } from "../test/harness/realnode.ts";

const say = (s: string) => process.stdout.write(`${s}\n`);
// Piped into a pager or tee that Ctrl-C ended first: still tear the node down.
process.stdout.on("error", () => undefined);
say("building the images (npm run image) and starting a real node (kubelet, containerd, CoreDNS …) …");
const images = buildImages();
const node = startRealNode({ archives: images.archives });
const kubectl = (...args: string[]) => execFileSync(node.kubectlBin, ["--kubeconfig", node.kubeconfig, ...args], { encoding: "utf8" });
let stopping = false;
// The ground takes NATS's default port when it is free, so a plain `nats req` reaches it.
const ground = await startNatsServer({
  name: "ground",
  port: (await isFree(4222)) ? 4222 : undefined,
  leafListen: true,
  leafHost: "10.89.0.1",
}).catch(async (e) => {
  node.stop();
  throw e;
});
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say("stopping: the ground server and the real node …");
  await ground.stop().catch(() => undefined);
  const left = node.stop();
  if (left) say(`the node left this behind:\n${left}`);
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
try {
  kubectl("apply", "-k", writeOverlay("default", images, [groundPatch(`nats://10.89.0.1:${ground.leafPort}`)]));
  kubectl("apply", "-f", fileURLToPath(new URL("../manifests/examples/natscluster.yaml", import.meta.url)));
  say("waiting for the pods: the seed's StatefulSet nats, the config API, the operator and its NatsCluster …");
  kubectl("rollout", "status", "statefulset/nats", "--timeout=180s");
  kubectl("rollout", "status", "deployment/satellite", "deployment/satellite-operator", "--timeout=120s");
  await waitFor("the 3 leafnode links at the ground", async () => (await ground.monitor("leafz")).leafnodes >= 3, 60_000, 250);
} catch (e) {
  say(`the example did not come up: ${(e as Error).message}`);
  await stop(1);
}

const nats = ground.port === 4222 ? "nats" : `nats -s ${ground.url}`;
say(`
satellite runs on a real node: every pod below is a real container (kubectl logs works).
The ground server ${ground.url} reaches the seed's cluster "nats" (StatefulSet nats, 3 pods) over
leafnode links; the config API controller (Deployment satellite) serves it; the operator runs
the NatsCluster example-nats-cluster.

  export KUBECONFIG=${node.kubeconfig}
  ${node.kubectlBin} get pods -o wide      # or kubectl, if yours is on PATH

Try (nats CLI: go install github.com/nats-io/natscli/nats@v0.3.0):
  ${nats} req _SAT.nats.config.get ''
  ${nats} req _SAT.nats.config.put '{"name":"CLUSTER_A","routes":["nats://nats-0.nats:6222","nats://nats-1.nats:6222","nats://nats-2.nats:6222","nats://another-route:6222"],"wait":"10s"}'
  kubectl logs nats-0 -c nats | tail -3      # "Cluster name updated to CLUSTER_A"
  ${nats} req _SAT.nats.status ''
  ${nats} req --replies=0 _SAT.discover ''
  ${nats} micro ls
  kubectl get natsclusters
  kubectl patch natscluster example-nats-cluster --type merge -p '{"spec":{"size":5}}'
  kubectl get pods -l nats_cluster=example-nats-cluster -w

Ctrl-C stops everything and tears the node down.
`);
await new Promise(() => undefined);
