#!/usr/bin/env bash
# local-volumes.sh: storage tied to a node, like a machine's own disks, for a bed of several nodes.
#   create NODES    makes VOLUMES (default 8) directories per node, owned by uid/gid 1000 (the NATS
#                   servers' user under Pod Security restricted), and prints the "local" StorageClass
#                   (the default; no provisioner, bound when the first pod is scheduled) and one local
#                   PersistentVolume per directory, each only usable on its node
#   reclaim NODES   runs until killed: a volume whose claim was deleted (Released) is wiped and offered
#                   again, as sig-storage's local static provisioner does, so the bed never runs out
# Needs K8S_BIN_DIR; REALNODE_DIR as up.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=$(nodes_arg "${2:-}")
VOLUMES=${VOLUMES:-8} SIZE=1Gi OWNER=1000
kubectl() { "$K8S_BIN_DIR/kubectl" --kubeconfig "$ETC/admin.kubeconfig" --request-timeout 10s "$@"; }

case ${1:-} in
create)
  cat <<SC
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
# Retain: the controller-manager has no deleter for local volumes (Delete would leave them Failed);
# the reclaim loop below wipes a released volume and offers it again.
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
SC
  for ((i = 0; i < N; i++)); do
    node_vars $i "$N"
    for ((k = 0; k < VOLUMES; k++)); do
      dir=$R/volumes/$NODE/pv-$k
      install -d -o $OWNER -g $OWNER -m 0750 "$dir"
      cat <<PV
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-$NODE-$k
  labels: {satellite.test/local-volume: "true"}
spec:
  capacity: {storage: $SIZE}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  local: {path: $dir}
  nodeAffinity:
    required:
      nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [$NODE]}]}]
PV
    done
  done
  ;;
reclaim)
  reclaim() { # reclaim PV PATH
    case $2 in "$R/volumes/"*) ;; *) echo "not wiping $1: $2 is not under $R/volumes" >&2; return ;; esac
    find "$2" -mindepth 1 -delete
    chown $OWNER:$OWNER "$2" && chmod 0750 "$2"
    # A volume seen Released twice was offered again the first time: the patch then finds no claimRef.
    kubectl patch pv "$1" --type json -p '[{"op": "remove", "path": "/spec/claimRef"}]' >/dev/null 2>&1 && echo "reclaimed $1"
  }
  while true; do
    kubectl get pv -l satellite.test/local-volume --watch --request-timeout 0 \
      -o jsonpath='{.metadata.name} {.status.phase} {.spec.local.path}{"\n"}' 2>/dev/null \
      | while read -r name phase path; do if [ "$phase" = Released ]; then reclaim "$name" "$path" || true; fi; done || true
    sleep 1
  done
  ;;
*) die "usage: local-volumes.sh create|reclaim NODES" ;;
esac
