// NatsServiceRole (nats.io/v1alpha2): nats-operator's role for clients that authenticate with a
// ServiceAccount token (spec.auth.enableServiceAccounts). The TypeScript mirror of its schema in
// manifests/crd.yaml (the second CustomResourceDefinition there). A role is labelled
// `nats_cluster: <cluster>` and named as the ServiceAccount whose token is its user's password.
import type { V1ObjectMeta } from "@kubernetes/client-node";

export interface NatsServiceRole {
  apiVersion?: "nats.io/v1alpha2";
  kind?: "NatsServiceRole";
  metadata: V1ObjectMeta;
  spec?: { permissions?: { publish?: string[]; subscribe?: string[] } };
}
