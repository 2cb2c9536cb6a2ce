import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AuthenticationV1TokenRequest, V1CustomResourceDefinition } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { kinds, type ResourceType } from "../../handlers/index.ts";
import { createKubeClient, type KubeClient } from "../../runtime/kube/client.ts";
import { loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";
import { type ControlPlaneInfo, kubeconfigYaml } from "./control-plane.ts";
import { waitFor } from "./ports.ts";

export const manifest = (name: string) => readFileSync(fileURLToPath(new URL(`../../manifests/${name}`, import.meta.url)), "utf8");

/** CustomResourceDefinitions: cluster-scoped; only the tests install and edit them. */
export const customResourceDefinitions: ResourceType<V1CustomResourceDefinition> = {
  kind: "CustomResourceDefinition",
  group: "apiextensions.k8s.io",
  version: "v1",
  resource: "customresourcedefinitions",
  namespaced: false,
};

export interface TestKube {
  info: ControlPlaneInfo;
  admin: KubeClient;
  /** A fresh namespace (namespaces never finish deleting without a controller-manager). */
  createNamespace(prefix: string): Promise<string>;
  /** Server-side apply of every document; `dryRun` asks the API server to validate only. */
  apply(docs: string | object[], opts?: { namespace?: string; dryRun?: boolean }): Promise<any[]>;
  /** Where objects of `kind` in `apiVersion` live, from API discovery (waits for a new CRD to be served). */
  resourceFor(apiVersion: string, kind: string): Promise<ResourceType<any>>;
  /** Applies manifests/crd.yaml and waits until the API server serves NatsClusters and NatsServiceRoles. */
  installCrd(): Promise<void>;
  /** A TokenRequest token for a ServiceAccount, created if missing. */
  tokenFor(namespace: string, serviceAccount: string, seconds?: number): Promise<string>;
  /** A kubeconfig file that authenticates with `token`, defaulting to `namespace`. */
  kubeconfigFor(token: string, namespace: string, name: string): string;
  close(): void;
}

let counter = 0;

export function testKube(info: ControlPlaneInfo): TestKube {
  const admin = createKubeClient(loadKubeconfig(info.kubeconfig));
  const discovered = new Map<string, ResourceType<any>[]>();

  async function resourceFor(apiVersion: string, kind: string): Promise<ResourceType<any>> {
    const [group, version] = apiVersion.includes("/") ? (apiVersion.split("/") as [string, string]) : ["", apiVersion];
    const find = async () => {
      let list = discovered.get(apiVersion);
      if (!list?.some((r) => r.kind === kind)) {
        const res = await admin.discover(apiVersion);
        list = res.resources
          .filter((r) => !r.name.includes("/"))
          .map((r) => ({ kind: r.kind, group, version, resource: r.name, namespaced: r.namespaced }) as ResourceType<any>);
        discovered.set(apiVersion, list);
      }
      return list.find((r) => r.kind === kind);
    };
    return waitFor(`API discovery of ${kind} in ${apiVersion}`, find, 10_000, 200);
  }

  return {
    info,
    admin,
    resourceFor,
    async installCrd() {
      await this.apply(manifest("crd.yaml"));
      for (const name of ["natsclusters.nats.io", "natsserviceroles.nats.io"])
        await waitFor(`the CRD ${name} to be established`, async () => {
          const crd = await admin.get(customResourceDefinitions, { name });
          return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
        });
    },
    async createNamespace(prefix) {
      const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`.slice(0, 63).replace(/-$/, "");
      await admin.create(kinds.Namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
      return name;
    },
    async apply(docs, opts = {}) {
      const objects =
        typeof docs === "string"
          ? parseAllDocuments(docs)
              .map((d) => d.toJS())
              .filter((o) => o && typeof o === "object")
          : docs;
      const applied = [];
      for (const obj of objects as any[]) {
        const type = await resourceFor(obj.apiVersion, obj.kind);
        const namespace = type.namespaced ? (obj.metadata.namespace ?? opts.namespace ?? "default") : undefined;
        const body = type.namespaced ? { ...obj, metadata: { ...obj.metadata, namespace } } : { ...obj };
        // As kustomize's namespace transformer does: bound ServiceAccounts move with the namespace.
        if (opts.namespace && (obj.kind === "RoleBinding" || obj.kind === "ClusterRoleBinding")) {
          body.subjects = obj.subjects?.map((s: any) => (s.kind === "ServiceAccount" ? { ...s, namespace: opts.namespace } : s));
        }
        applied.push(
          await admin.patch(type, { namespace, name: obj.metadata.name }, body, "apply", {
            fieldManager: "satellite-test",
            force: true,
            dryRun: opts.dryRun ? "All" : undefined,
            fieldValidation: "Strict",
          }),
        );
      }
      return applied;
    },
    async tokenFor(namespace, serviceAccount, seconds = 3600) {
      try {
        await admin.create(kinds.ServiceAccount, {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: serviceAccount, namespace },
        });
      } catch (e) {
        if ((e as { status?: number }).status !== 409) throw e;
      }
      // A ServiceAccount's token subresource takes a TokenRequest and answers with one.
      const tokenRequests = kinds.ServiceAccount as ResourceType<AuthenticationV1TokenRequest>;
      const res = await admin.create(
        tokenRequests,
        { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: seconds } },
        {
          ref: { namespace, name: serviceAccount, subresource: "token" },
        },
      );
      return res.status!.token!;
    },
    kubeconfigFor(token, namespace, name) {
      const path = join(info.dir, `${name}-${process.pid}-${counter++}.kubeconfig`);
      writeFileSync(path, kubeconfigYaml(info.server, info.caFile, { token }, namespace));
      return path;
    },
    close: () => admin.close(),
  };
}
