import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kinds } from "../../handlers/index.ts";
import { createKubeClient } from "../../runtime/kube/client.ts";
import { loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";
import { binaries } from "./binaries.ts";
import { makeCerts } from "./certs.ts";
import { freePorts, waitFor } from "./ports.ts";
import { type Proc, startProcess } from "./process.ts";

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

  const etcd = startProcess(
    "etcd",
    bins.ETCD_BIN,
    [
      "--data-dir",
      join(dir, "etcd"),
      "--listen-client-urls",
      etcdUrl,
      "--advertise-client-urls",
      etcdUrl,
      "--listen-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${etcdPeer}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${etcdPeer}`,
      "--unsafe-no-fsync",
      "--log-level",
      "warn",
    ],
    etcdLog,
  );

  const server = `https://127.0.0.1:${apiPort}`;
  const apiserverArgs = [
    "--etcd-servers",
    etcdUrl,
    "--bind-address",
    "127.0.0.1",
    "--advertise-address",
    "127.0.0.1",
    "--secure-port",
    String(apiPort),
    "--cert-dir",
    dir,
    "--tls-cert-file",
    certs.serverCert,
    "--tls-private-key-file",
    certs.serverKey,
    "--client-ca-file",
    certs.caCert,
    "--authorization-mode",
    "RBAC",
    "--service-account-issuer",
    server,
    "--service-account-key-file",
    certs.saPub,
    "--service-account-signing-key-file",
    certs.saKey,
    "--service-cluster-ip-range",
    "10.0.0.0/24",
    "--disable-admission-plugins",
    "ServiceAccount",
    "--allow-privileged=true",
    // The default reconciler would publish 127.0.0.1 as the kubernetes Service endpoint, which is invalid.
    "--endpoint-reconciler-type",
    "none",
    "--v",
    "1",
  ];
  const apiserver = startProcess("kube-apiserver", bins.KUBE_APISERVER_BIN, apiserverArgs, apiserverLog);

  const kubeconfig = join(dir, "admin.kubeconfig");
  writeFileSync(kubeconfig, kubeconfigYaml(server, certs.caCert, { cert: certs.adminCert, key: certs.adminKey }, "default"));
  const cp: RunningControlPlane = {
    server,
    dir,
    kubeconfig,
    caFile: certs.caCert,
    etcdLog,
    apiserverLog,
    startMs: 0,
    etcd,
    apiserver,
    async stop() {
      await cp.apiserver.stop();
      await etcd.stop();
    },
    async restartApiServer(downMs) {
      await cp.apiserver.stop();
      await new Promise((r) => setTimeout(r, downMs));
      cp.apiserver = startProcess("kube-apiserver", bins.KUBE_APISERVER_BIN, apiserverArgs, apiserverLog);
      await waitFor("kube-apiserver /readyz after restart", async () => (await readyz(server, certs)) === "ok", 60_000, 100);
    },
  };
  const admin = createKubeClient(loadKubeconfig(kubeconfig));
  try {
    await waitFor(
      "kube-apiserver /readyz",
      async () => {
        if (!cp.apiserver.running()) throw new Error("kube-apiserver exited");
        if (!etcd.running()) throw new Error("etcd exited");
        return (await readyz(server, certs)) === "ok";
      },
      60_000,
      100,
    );
    // The default namespace is made by a controller loop inside the API server, shortly after readyz.
    await waitFor("namespace default", () => admin.get(kinds.Namespace, { name: "default" }), 20_000, 100);
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

export function kubeconfigYaml(
  server: string,
  caFile: string,
  user: { cert?: string; key?: string; token?: string },
  namespace: string,
): string {
  const auth = user.token ? `    token: ${user.token}\n` : `    client-certificate: ${user.cert}\n    client-key: ${user.key}\n`;
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

/**
 * The API server's /readyz ("ok" once every post-start hook has run, RBAC's bootstrap roles
 * included), asked with the admin's certificate. Not an API resource, so not the client's.
 */
function readyz(server: string, certs: { caCert: string; adminCert: string; adminKey: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL("/readyz", server),
      {
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.adminCert),
        key: readFileSync(certs.adminKey),
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /readyz: HTTP ${res.statusCode}: ${body.trim().slice(0, 300)}`)),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("GET /readyz: no answer within 5 s")));
    req.on("error", (e) => reject(new Error(`GET /readyz: ${e.message}`)));
    req.end();
  });
}
