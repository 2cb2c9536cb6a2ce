import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { V1SubjectAccessReview } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { kinds, type ResourceType } from "../../handlers/index.ts";
import { createKubeClient } from "../../runtime/kube/client.ts";
import { findKubeTarget, loadKubeconfig } from "../../runtime/kube/kubeconfig.ts";
import { kubeconfigYaml } from "../harness/control-plane.ts";
import { useKube, waitFor } from "../harness/index.ts";

const kube = useKube();
let ns: string;
const subjectAccessReviews: ResourceType<V1SubjectAccessReview> = {
  kind: "SubjectAccessReview",
  group: "authorization.k8s.io",
  version: "v1",
  resource: "subjectaccessreviews",
  namespaced: false,
};
beforeAll(async () => {
  ns = await kube.createNamespace("auth");
  await kube.apply(
    `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: list-cm }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: list-cm }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: list-cm }
subjects: [{ kind: ServiceAccount, name: robot, namespace: ${ns} }]
`,
    { namespace: ns },
  );
  const admin = kube.admin;
  await waitFor("the RoleBinding to take effect", async () => {
    const review = await admin.create(subjectAccessReviews, {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: { user: `system:serviceaccount:${ns}:robot`, resourceAttributes: { namespace: ns, verb: "list", resource: "configmaps" } },
    });
    return review.status!.allowed;
  });
});
afterAll(() => kube.close());

/** The `kind` of a LIST's answer: "ConfigMapList" when the request was authenticated and allowed. */
const listKind = async (c: ReturnType<typeof createKubeClient>) => ((await c.list(kinds.ConfigMap, ns)) as { kind?: string }).kind;

const whoCanList = async (kubeconfig: string) => {
  const c = createKubeClient(loadKubeconfig(kubeconfig));
  try {
    return await listKind(c);
  } finally {
    c.close();
  }
};

it("authenticates with a client certificate (the admin kubeconfig)", async () => {
  const c = createKubeClient(loadKubeconfig(kube.info.kubeconfig));
  expect((await c.get(kinds.Namespace, { name: ns })).metadata!.name).toBe(ns);
  c.close();
});

it("authenticates with an exec credential plugin", async () => {
  const token = await kube.tokenFor(ns, "robot");
  const plugin = join(kube.info.dir, `exec-plugin-${process.pid}.sh`);
  writeFileSync(
    plugin,
    `#!/bin/sh\n[ -n "$KUBERNETES_EXEC_INFO" ] || exit 3\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`,
  );
  chmodSync(plugin, 0o755);
  const path = join(kube.info.dir, `exec-${process.pid}.kubeconfig`);
  const yaml = kubeconfigYaml(kube.info.server, kube.info.caFile, { token: "unused" }, ns).replace(
    "    token: unused\n",
    `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: Never\n`,
  );
  writeFileSync(path, yaml);
  expect(await whoCanList(path)).toBe("ConfigMapList");
});

it("authenticates with a service-account token file, as in a pod", async () => {
  const saDir = join(kube.info.dir, `sa-${process.pid}`);
  const { mkdirSync, copyFileSync } = await import("node:fs");
  mkdirSync(saDir, { recursive: true });
  writeFileSync(join(saDir, "token"), await kube.tokenFor(ns, "robot"));
  writeFileSync(join(saDir, "namespace"), ns);
  copyFileSync(kube.info.caFile, join(saDir, "ca.crt"));
  const url = new URL(kube.info.server);
  const target = findKubeTarget({ env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port }, saDir });
  expect(target).toMatchObject({ namespace: ns, tokenFile: join(saDir, "token") });
  const c = createKubeClient(target);
  try {
    expect(await listKind(c)).toBe("ConfigMapList");
  } finally {
    c.close();
  }
});
