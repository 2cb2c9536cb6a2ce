import { kinds } from "../handlers/index.ts";
import type { KubeClient } from "./kube/client.ts";
import { KubeError } from "./kube/errors.ts";

/**
 * What is wrong with the NatsCluster API this operator would work against, in one sentence, or
 * undefined when it is satellite's. Read from API discovery, which any account may read: an old
 * or foreign CRD (nats-operator's has no status subresource) would make every status write fail
 * with a misleading "not found", forever.
 */
export async function natsClusterApiProblem(kube: KubeClient, o: { serviceRoles?: boolean } = {}): Promise<string | undefined> {
  const { group, version, resource } = kinds.NatsCluster;
  let served: { resources: { name: string }[] };
  try {
    served = await kube.discover(`${group}/${version}`);
  } catch (e) {
    if (e instanceof KubeError && e.status === 404) {
      return `the API server does not serve ${resource}.${group}/${version}: install satellite's CustomResourceDefinition (kubectl apply -f manifests/crd.yaml)`;
    }
    throw e;
  }
  const names = served.resources.map((r) => r.name);
  if (!names.includes(resource))
    return `the API server's ${group}/${version} has no ${resource}: install satellite's CustomResourceDefinition (kubectl apply -f manifests/crd.yaml)`;
  // spec.auth.enableServiceAccounts' roles: the operator watches them (`serviceRoles`), so it needs their CRD (the second in manifests/crd.yaml).
  if (o.serviceRoles && !names.includes(kinds.NatsServiceRole.resource))
    return `the API server's ${group}/${version} has no ${kinds.NatsServiceRole.resource}: install satellite's CustomResourceDefinitions (kubectl apply -f manifests/crd.yaml has both)`;
  if (!names.includes(`${resource}/status`)) {
    return `the ${resource}.${group} CustomResourceDefinition installed here has no status subresource (nats-operator's own, or an old one): replace it with satellite's (kubectl apply -f manifests/crd.yaml); the operator waits until then`;
  }
  return undefined;
}
