// npm run dev where no real node can run: a "ground" nats-server, a leaf nats-server for the
// cluster, a real etcd + kube-apiserver with the example from manifests/ applied, no kubelet.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startControlPlane } from "../test/harness/control-plane.ts";
import { manifest, testKube } from "../test/harness/kube.ts";
import { fakeKubelet } from "../test/harness/kubelet.ts";
import { startNatsServer } from "../test/harness/nats.ts";
import { isFree, waitFor } from "../test/harness/ports.ts";
import { shippedFlags } from "../test/harness/satellite.ts";

const say = (s: string) => process.stdout.write(`${s}\n`);

say("starting etcd + kube-apiserver …");
const cp = await startControlPlane();
say(`control plane ready in ${cp.startMs} ms: ${cp.server}`);
const kube = testKube(cp);
const ns = "default";
await kube.installCrd();
await kube.apply(manifest("example-cluster.yaml"), { namespace: ns });
await kube.apply(manifest("controller.yaml"), { namespace: ns });
await kube.apply(manifest("operator.yaml"), { namespace: ns });
await kube.apply(manifest("examples/natscluster.yaml"), { namespace: ns });
// The operator's Role also covers the config API; the controller runs with exactly that.
const kubeconfig = kube.kubeconfigFor(await kube.tokenFor(ns, "satellite-operator", 86_400), ns, "satellite-operator");
// No kubelet here: pods the operator creates are marked Running and Ready, as a kubelet would.
const kubelet = fakeKubelet(kube.admin, ns, "app=nats", 500);

// The ground server takes NATS's default port when it is free, so plain `nats req` reaches it.
const ground = await startNatsServer({ name: "ground", leafListen: true, port: (await isFree(4222)) ? 4222 : undefined });
const leaf = await startNatsServer({ name: "nats-0", leafRemotes: [`nats-leaf://127.0.0.1:${ground.leafPort}`] });
await waitFor("the leafnode link", async () => (await ground.monitor("leafz")).leafnodes >= 1);

const bundle = fileURLToPath(new URL("../dist/satellite.mjs", import.meta.url));
const controller = spawn(
  process.execPath,
  [...shippedFlags.node, bundle, "run", "-operator", "-s", leaf.url, "-name", "nats", "-log-format", "text", "-health", "127.0.0.1:0"],
  {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAMESPACE: ns },
  },
);

say(`
satellite is running: the controller serves cluster "nats" from the leaf ${leaf.url},
and the ground server ${ground.url} reaches it over a leafnode link.

Try (with the nats CLI: go install github.com/nats-io/natscli/nats@latest):
  nats -s ${ground.url} req _SAT.nats.config.get ''
  nats -s ${ground.url} req _SAT.nats.config.put '{"name":"CLUSTER_A","routes":["nats://nats-0.nats:6222","nats://nats-1.nats:6222","nats://nats-2.nats:6222","nats://another-route:6222"]}'
  nats -s ${ground.url} req _SAT.nats.status ''
  nats -s ${ground.url} req _SAT.discover ''
  nats -s ${ground.url} micro ls

The operator runs too: manifests/examples/natscluster.yaml became pods, services and config.
The API server (admin): export KUBECONFIG=${cp.kubeconfig}
  kubectl get configmap nats-config -o yaml
  kubectl get natsclusters
  kubectl patch natscluster example-nats-cluster --type merge -p '{"spec":{"size":5}}'
  kubectl get pods -l nats_cluster=example-nats-cluster

Ctrl-C stops everything.
`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await kubelet.stop();
  controller.kill("SIGTERM");
  await new Promise((r) => (controller.exitCode === null ? controller.once("exit", r) : r(null)));
  await Promise.all([leaf.stop(), ground.stop()]);
  kube.close();
  await cp.stop();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
controller.on("exit", (code) => {
  if (!stopping) {
    say(`the controller exited with code ${code}; stopping`);
    void stop();
  }
});
