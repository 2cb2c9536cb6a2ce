#!/usr/bin/env bash
# up.sh: a real Kubernetes of one or more nodes on this machine, for the real-node suites, npm run dev
# and the bench. One control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kube-proxy, CoreDNS) and per node its own containerd + runc + CNI bridge (Debian) and kubelet, all
# as host processes; every pod address, Service address and DNS answer stays inside this machine.
# Tear down with down.sh; stop and start a node like a machine with node.sh.
#
# Needs the assignments of test/harness/provision.sh in the environment (ETCD_BIN, K8S_BIN_DIR, …).
#   REALNODE_DIR     state, logs, kubeconfig (default /var/tmp/satellite-realnode)
#   NODES            how many nodes (default 1: the node "realnode"; 2 or 3 add realnode-b, realnode-c,
#                    each in a zone of its own, with local volumes tied to it; see docs/testbed-multinode.md)
#   SYNC_FREQ        kubelet syncFrequency (default 1m, the kubelet's own default)
#   MAX_PODS         kubelet maxPods (default 110, the kubelet's own default)
#   IMAGES           OCI archives to import, separated by spaces
#   REGISTRY_IMAGES  OCI archives of docker.io images that a registry on 127.0.0.1 serves in Docker
#                    Hub's place (needs CRANE_BIN): pods whose images are always pulled (:latest) get them
# Prints the admin kubeconfig's path last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
HOSTIP=10.89.0.1 API_PORT=6443 SVC_CIDR=10.0.0.0/24
K=$K8S_BIN_DIR
: "${ETCD_BIN:?run test/harness/provision.sh first}" "${PAUSE_BIN:?}" "${COREDNS_BIN:?}"
N=$(nodes_arg "${NODES:-1}")
t0=$(date +%s%N)

# One bed per machine: the bridges, the lo addresses and the iptables chains have fixed names.
if [ -f "$RUN/owner" ] && [ -d "/proc/$(cat "$RUN/owner")" ]; then
  die "a real node is already up (owner pid $(cat "$RUN/owner")); stop it with $here/down.sh"
fi
"$here/down.sh" >/dev/null 2>&1 || true   # whatever a crashed run left behind
# Every node starts empty.
rm -rf "$R/etcd" "$R"/kubelet "$R"/kubelet-? "$R"/containerd "$R"/containerd-? "$R"/pod-logs "$R"/pod-logs-? "$R/volumes" "$R/logs" /tmp/hostpath_pv
mkdir -p "$RUN" "$LOG" "$ETC/cni" "$P"
echo "${REALNODE_OWNER:-$PPID}" > "$RUN/owner"
echo "$N" >"$RUN/nodes"

# Host: the kubelet changes these sysctls; down.sh puts them back.
sysctl -n net.ipv4.ip_forward kernel.panic kernel.panic_on_oops vm.overcommit_memory 2>/dev/null \
  | paste -d= <(printf '%s\n' net.ipv4.ip_forward kernel.panic kernel.panic_on_oops vm.overcommit_memory) - >"$RUN/sysctl.saved"
sysctl -qw net.ipv4.ip_forward=1
for ((i = 0; i < N; i++)); do
  node_vars $i "$N"
  ip addr add "$NODEIP/32" dev lo 2>/dev/null || true   # the node's address (this kernel has no dummy links)
done
# Pods may talk to each other (on any node's bridge) and to this host, never past it.
iptables -N RN-FORWARD 2>/dev/null || iptables -F RN-FORWARD
iptables -A RN-FORWARD -s $POD_CIDR ! -o rn+ -j DROP
iptables -I FORWARD 1 -j RN-FORWARD

# Certificates: CA, API server (IP SANs for loopback, the node and the kubernetes Service), admin,
# kubelet clients (system:node:<node>), service-account keys.
ssl() { openssl "$@" 2>/dev/null; }
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
leaf() {
  printf '%b' "$3" >"$P/$1.ext"
  ssl req "${ec[@]}" -keyout "$P/$1.key" -out "$P/$1.csr" -subj "$2"
  ssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 -out "$P/$1.crt" -extfile "$P/$1.ext"
}
if [ ! -f "$P/sa.pub" ]; then
  ssl req -x509 "${ec[@]}" -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 -subj /CN=satellite-realnode-ca
  leaf server /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,IP:$HOSTIP,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n"
  leaf admin /O=system:masters/CN=realnode-admin "extendedKeyUsage=clientAuth\n"
  ssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$P/sa.key"
  ssl pkey -in "$P/sa.key" -pubout -out "$P/sa.pub"
fi
kubeconfig() { # kubeconfig USER
  cat >"$ETC/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: realnode, cluster: {server: "https://127.0.0.1:$API_PORT", certificate-authority: $P/ca.crt}}]
users: [{name: $1, user: {client-certificate: $P/$1.crt, client-key: $P/$1.key}}]
contexts: [{name: realnode, context: {cluster: realnode, user: $1, namespace: default}}]
current-context: realnode
KC
}
kubeconfig admin
for ((i = 0; i < N; i++)); do
  node_vars $i "$N"
  [ -f "$P/kubelet$SFX.crt" ] || leaf "kubelet$SFX" "/O=system:nodes/CN=system:node:$NODE" "extendedKeyUsage=clientAuth\n"
  kubeconfig "kubelet$SFX"
done
say "host and certificates ready"

# Per node: containerd (CRI) with a bridge CNI of its own; pod traffic is not masqueraded.
ctr() { command ctr --connect-timeout 2s -a "$R/containerd$SFX/containerd.sock" -n k8s.io "$@"; }
"$here/image-pause.sh" "$PAUSE_BIN" "$R/pause.tar" >/dev/null
# docker.io is this machine's registry, and only that: a pull of anything it lacks fails here.
rm -rf "$ETC/registries" && mkdir -p "$ETC/registries/docker.io"
printf 'server = "http://%s"\n[host."http://%s"]\n  capabilities = ["pull", "resolve"]\n' "$REGISTRY" "$REGISTRY" >"$ETC/registries/docker.io/hosts.toml"
if [ -n "${REGISTRY_IMAGES:-}" ]; then
  start registry "${CRANE_BIN:?REGISTRY_IMAGES needs CRANE_BIN}" registry serve --address "$REGISTRY"
  until_ok "the registry" 20 registry "$CRANE_BIN" catalog --insecure "$REGISTRY"
  for img in $REGISTRY_IMAGES; do
    name=$(tar -xOf "$img" manifest.json | sed -n 's/.*"RepoTags":\["docker.io\/\([^"]*\)"\].*/\1/p')
    [ -n "$name" ] || die "$img names no docker.io image"
    "$CRANE_BIN" push --insecure "$img" "$REGISTRY/$name" >/dev/null 2>>"$LOG/registry.log" || die "could not push $img to the registry (log: $LOG/registry.log)"
  done
fi
imports=()
for ((i = 0; i < N; i++)); do
  node_vars $i "$N"
  mkdir -p "$ETC/cni$SFX" "$R/containerd$SFX"
  cat >"$ETC/containerd$SFX.toml" <<TOML
version = 2
root = "$R/containerd$SFX/root"
state = "$R/containerd$SFX/state"
[grpc]
  address = "$R/containerd$SFX/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  enable_cdi = false
  # root here lacks CAP_SYS_RESOURCE: the kubelet's negative oom_score_adj would fail every sandbox
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$ETC/cni$SFX"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$ETC/registries"
TOML
  cat >"$ETC/cni$SFX/10-realnode.conflist" <<CNI
{"cniVersion": "1.0.0", "name": "realnode$SFX", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$SUBNET"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$R/cni-ipam$SFX"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
CNI
  rm -f "$R/containerd$SFX/containerd.sock" "$R/containerd$SFX/containerd.sock.ttrpc"
  start "containerd$SFX" containerd --config "$ETC/containerd$SFX.toml"
  until_ok "containerd$SFX" 20 "containerd$SFX" ctr version
  # Each node holds the images in its own content store, as separate machines would.
  ( for img in "$R/pause.tar" ${IMAGES:-}; do ctr images import --no-unpack "$img" >/dev/null || die "could not import $img into containerd$SFX"; done ) &
  imports+=($!)
done
for p in "${imports[@]}"; do wait "$p" || die "importing the images failed"; done
say "containerd up on $N node(s), images imported"

# etcd and kube-apiserver: Node + RBAC authorization, service-account tokens, reachable from pods.
start etcd "$ETCD_BIN" --data-dir "$R/etcd" --listen-client-urls http://127.0.0.1:2479 --advertise-client-urls http://127.0.0.1:2479 \
  --listen-peer-urls http://127.0.0.1:2480 --initial-advertise-peer-urls http://127.0.0.1:2480 \
  --initial-cluster default=http://127.0.0.1:2480 --unsafe-no-fsync --log-level warn
start kube-apiserver "$K/kube-apiserver" --etcd-servers http://127.0.0.1:2479 --bind-address 0.0.0.0 --advertise-address $HOSTIP \
  --secure-port $API_PORT --cert-dir "$P" --tls-cert-file "$P/server.crt" --tls-private-key-file "$P/server.key" --client-ca-file "$P/ca.crt" \
  --authorization-mode Node,RBAC --service-account-issuer https://kubernetes.default.svc --service-account-key-file "$P/sa.pub" \
  --service-account-signing-key-file "$P/sa.key" --service-cluster-ip-range $SVC_CIDR --allow-privileged=true \
  --kubelet-client-certificate "$P/admin.crt" --kubelet-client-key "$P/admin.key" --kubelet-preferred-address-types InternalIP --v 1
kubectl() { "$K/kubectl" --kubeconfig "$ETC/admin.kubeconfig" --request-timeout 5s "$@"; }
until_ok "kube-apiserver /readyz" 90 kube-apiserver kubectl get --raw /readyz
until_ok "namespace default" 30 kube-apiserver kubectl get namespace default
say "kube-apiserver ready"

# kubelets: cgroupfs on this cgroup v1 host, imported images never collected, DNS on the first
# node's address. Each has its own root, certificates, pod logs, ports and (with several) cgroup root.
for ((i = 0; i < N; i++)); do
  node_vars $i "$N"
  mkdir -p "$R/kubelet$SFX" "$R/pod-logs$SFX"
  extra=""
  if [ "$N" -gt 1 ]; then
    # The kubelet wants its cgroup root to exist in every hierarchy; a new cpuset starts with no CPUs.
    for h in $CGROUPS/*/; do mkdir -p "$h$NODE"; done
    cat $CGROUPS/cpuset/cpuset.cpus >"$CGROUPS/cpuset/$NODE/cpuset.cpus"
    cat $CGROUPS/cpuset/cpuset.mems >"$CGROUPS/cpuset/$NODE/cpuset.mems"
    extra="cgroupRoot: $CGROOT
cgroupsPerQOS: true
healthzPort: $((10248 + 100 * i))
"
  fi
  cat >"$ETC/kubelet$SFX.yaml" <<KY
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$R/containerd$SFX/containerd.sock
imageServiceEndpoint: unix://$R/containerd$SFX/containerd.sock
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: $P/ca.crt}}
authorization: {mode: AlwaysAllow}
clusterDNS: [$HOSTIP]
clusterDomain: cluster.local
address: $NODEIP
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
syncFrequency: ${SYNC_FREQ:-1m}
maxPods: ${MAX_PODS:-110}
podLogsDir: $R/pod-logs$SFX
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
$extra
KY
  labels=()
  [ "$N" -gt 1 ] && labels=(--node-labels "topology.kubernetes.io/zone=$ZONE")
  start "kubelet$SFX" "$K/kubelet" --config "$ETC/kubelet$SFX.yaml" --kubeconfig "$ETC/kubelet$SFX.kubeconfig" --root-dir "$R/kubelet$SFX" \
    --cert-dir "$R/kubelet$SFX/pki" --hostname-override $NODE --node-ip $NODEIP "${labels[@]}" --v 1
done
for ((i = 0; i < N; i++)); do
  node_vars $i "$N"
  until_ok "node $NODE Ready" 120 "kubelet$SFX" bash -c "[ \"\$('$K/kubectl' --kubeconfig '$ETC/admin.kubeconfig' get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
done
say "$N node(s) Ready"

# Controllers (garbage collection, ServiceAccounts, EndpointSlices, node lifecycle), scheduler,
# Services, DNS. The controller-manager runs as uid/gid 1000, the NATS servers' user (Pod Security
# restricted): with one node, its host-path provisioner makes each volume a 0750 directory of its own
# user, and host-path volumes ignore fsGroup, so this is what makes them the servers' to write, as a
# storage driver honouring fsGroup would. It reads its keys and kubeconfig, which it is given; it
# writes only its serving certificate (--cert-dir) and /tmp/hostpath_pv.
KCM_UID=1000
install -d -o $KCM_UID -g $KCM_UID -m 0755 "$R/kcm"
chown $KCM_UID "$ETC/admin.kubeconfig" "$P/admin.crt" "$P/admin.key" "$P/sa.key" "$P/ca.key" "$P/ca.crt"
chmod o+x "$R" "$P" "$ETC"
if [ "$N" = 1 ]; then
  install -d -o $KCM_UID -g $KCM_UID -m 0755 /tmp/hostpath_pv
  kcm_extra=(--enable-hostpath-provisioner)
else
  # A node that stops answering is Unknown and tainted unreachable after 20 s instead of the
  # default 50 s: stopping nodes is what a multi-node bed is for. Still twice the kubelet's
  # 10 s status/lease interval, so a busy but live node is not mistaken for a dead one.
  kcm_extra=(--node-monitor-grace-period 20s)
fi
start kube-controller-manager setpriv --reuid $KCM_UID --regid $KCM_UID --clear-groups "$K/kube-controller-manager" --kubeconfig "$ETC/admin.kubeconfig" \
  --authentication-kubeconfig "$ETC/admin.kubeconfig" --authorization-kubeconfig "$ETC/admin.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false --use-service-account-credentials \
  --service-account-private-key-file "$P/sa.key" --root-ca-file "$P/ca.crt" \
  --cluster-signing-cert-file "$P/ca.crt" --cluster-signing-key-file "$P/ca.key" \
  --controllers '*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle,-route' "${kcm_extra[@]}" --cert-dir "$R/kcm" --v 1
start kube-scheduler "$K/kube-scheduler" --kubeconfig "$ETC/admin.kubeconfig" --authentication-kubeconfig "$ETC/admin.kubeconfig" \
  --authorization-kubeconfig "$ETC/admin.kubeconfig" --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --v 1
cat >"$ETC/kube-proxy.yaml" <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $ETC/admin.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: realnode
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
nodePortAddresses: [$HOSTIP/32]
KP
start kube-proxy "$K/kube-proxy" --config "$ETC/kube-proxy.yaml" --v 1
# No "forward": names outside the cluster are not resolved, so nothing a pod asks leaves the machine.
cat >"$ETC/Corefile" <<CF
.:53 {
    bind $HOSTIP
    errors
    kubernetes cluster.local in-addr.arpa {
        kubeconfig $ETC/admin.kubeconfig realnode
        pods insecure
        ttl 5
    }
    cache 5
}
CF
start coredns "$COREDNS_BIN" -conf "$ETC/Corefile"
until_ok "the default ServiceAccount" 60 kube-controller-manager kubectl get serviceaccount default
until_ok "kube-proxy's Service rules" 60 kube-proxy bash -c "iptables-save -t nat | grep -q 'default/kubernetes:https'"
if [ "$N" = 1 ]; then
  # Volumes: the controller-manager's own provisioner makes each claim a directory under
  # /tmp/hostpath_pv on this host (one node), and removes it with the claim (reclaim policy Delete).
  "$K/kubectl" --kubeconfig "$ETC/admin.kubeconfig" apply -f - >/dev/null <<SC
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
SC
else
  "$here/local-volumes.sh" create "$N" | "$K/kubectl" --kubeconfig "$ETC/admin.kubeconfig" apply -f - >/dev/null
  start local-volumes "$here/local-volumes.sh" reclaim "$N"
fi
say "up: kubectl --kubeconfig $ETC/admin.kubeconfig"
echo "$ETC/admin.kubeconfig"
