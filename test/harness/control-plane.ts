import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCerts } from "./certs.ts";
import { binaries } from "./binaries.ts";
import { freePorts, waitFor } from "./ports.ts";
import { startProcess, type Proc } from "./process.ts";
import { createKubeClient } from "../../runtime/kube/client.ts";
import { loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";

/** What a test worker needs to reach a control plane started elsewhere (vitest global setup). */
export interface ControlPlaneInfo {
  server: string;
  dir: string;
  kubeconfig: string;
  caFile: string;
  etcdLog: string;
  apiserverLog: string;
  startMs: number;
}

export interface RunningControlPlane extends ControlPlaneInfo {
  etcd: Proc;
  apiserver: Proc;
  stop(): Promise<void>;
  /** Stops kube-apiserver, waits `downMs`, and starts it again on the same port and etcd. */
  restartApiServer(downMs: number): Promise<void>;
}

/** etcd + kube-apiserver on loopback, RBAC on, service-account tokens issued; like envtest. */
export async function startControlPlane(opts: { dir?: string } = {}): Promise<RunningControlPlane> {
  const started = Date.now();
  const bins = binaries();
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "satellite-cp-"));
  const certs = makeCerts(dir);
  const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const etcdLog = join(dir, "etcd.log");
  const apiserverLog = join(dir, "kube-apiserver.log");

  const etcd = startProcess("etcd", bins.ETCD_BIN, [
    "--data-dir", join(dir, "etcd"),
    "--listen-client-urls", etcdUrl,
    "--advertise-client-urls", etcdUrl,
    "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`,
    "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
    "--initial-cluster", `default=http://127.0.0.1:${etcdPeer}`,
    "--unsafe-no-fsync",
    "--log-level", "warn",
  ], etcdLog);

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserverArgs = [
    "--etcd-servers", etcdUrl,
    "--bind-address", "127.0.0.1",
    "--advertise-address", "127.0.0.1",
    "--secure-port", String(apiPort),
    "--cert-dir", dir,
    "--tls-cert-file", certs.serverCert,
    "--tls-private-key-file", certs.serverKey,
    "--client-ca-file", certs.caCert,
    "--authorization-mode", "RBAC",
    "--service-account-issuer", server,
    "--service-account-key-file", certs.saPub,
    "--service-account-signing-key-file", certs.saKey,
    "--service-cluster-ip-range", "10.0.0.0/24",
    "--disable-admission-plugins", "ServiceAccount",
    "--allow-privileged=true",
    // The default reconciler would publish 127.0.0.1 as the kubernetes Service endpoint, which is invalid.
    "--endpoint-reconciler-type", "none",
    "--v", "1",
  ];
  const apiserver = startProcess("kube-apiserver", bins.KUBE_APISERVER_BIN, apiserverArgs, apiserverLog);

  const kubeconfig = join(dir, "admin.kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(server, certs.caCert, { cert: certs.adminCert, key: certs.adminKey }, "default"));
  const cp: RunningControlPlane = {
    server, dir, kubeconfig, caFile: certs.caCert, etcdLog, apiserverLog, startMs: 0, etcd, apiserver,
    async stop() {
      await cp.apiserver.stop();
      await etcd.stop();
    },
    async restartApiServer(downMs) {
      await cp.apiserver.stop();
      await new Promise((r) => setTimeout(r, downMs));
      cp.apiserver = startProcess("kube-apiserver", bins.KUBE_APISERVER_BIN, apiserverArgs, apiserverLog);
      const client = createKubeClient(loadKubeconfig(kubeconfig));
      try {
        await waitFor("kube-apiserver /readyz after restart", async () => (await client.request<string>("GET", "/readyz")) === "ok", 60_000, 100);
      } finally {
        client.close();
      }
    },
  };
  const admin = createKubeClient(loadKubeconfig(kubeconfig));
  try {
    await waitFor("kube-apiserver /readyz", async () => {
      if (!cp.apiserver.running()) throw new Error("kube-apiserver exited");
      if (!etcd.running()) throw new Error("etcd exited");
      return (await admin.request<string>("GET", "/readyz")) === "ok";
    }, 60_000, 100);
    // The default namespace is made by a controller loop inside the API server, shortly after readyz.
    await waitFor("namespace default", () => admin.request("GET", "/api/v1/namespaces/default"), 20_000, 100);
  } catch (e) {
    const detail = `\n--- etcd log tail ---\n${etcd.tail(15)}\n--- kube-apiserver log tail ---\n${cp.apiserver.tail(30)}`;
    await cp.stop();
    throw new Error(`${(e as Error).message}${detail}`);
  } finally {
    admin.close();
  }
  cp.startMs = Date.now() - started;
  return cp;
}

export function kubeconfigYaml(server: string, caFile: string, user: { cert?: string; key?: string; token?: string }, namespace: string): string {
  const auth = user.token
    ? `    token: ${user.token}\n`
    : `    client-certificate: ${user.cert}\n    client-key: ${user.key}\n`;
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${server}
    certificate-authority: ${caFile}
users:
- name: test
  user:
${auth}contexts:
- name: test
  context:
    cluster: test
    user: test
    namespace: ${namespace}
current-context: test
`;
}

export function readInfo(path: string): ControlPlaneInfo {
  return JSON.parse(readFileSync(path, "utf8")) as ControlPlaneInfo;
}
