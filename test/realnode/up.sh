#!/usr/bin/env bash
# up.sh: one real single-node Kubernetes on this machine, for the real-node suites, npm run dev and
# the bench. containerd + runc + CNI bridge (Debian), etcd, kube-apiserver, kubelet,
# kube-controller-manager, kube-scheduler, kube-proxy and CoreDNS, all as host processes; every pod
# address, Service address and DNS answer stays inside this machine. Tear down with down.sh.
#
# Needs the assignments of test/harness/provision.sh in the environment (ETCD_BIN, K8S_BIN_DIR, …).
#   REALNODE_DIR     state, logs, kubeconfig (default /var/tmp/satellite-realnode)
#   SYNC_FREQ        kubelet syncFrequency (default 1m, the kubelet's own default)
#   MAX_PODS         kubelet maxPods (default 110, the kubelet's own default)
#   IMAGES           OCI archives to import, separated by spaces
# Prints the admin kubeconfig's path last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
R=${REALNODE_DIR:-/var/tmp/satellite-realnode}
P=$R/pki RUN=$R/run LOG=$R/logs ETC=$R/etc
NODE=realnode HOSTIP=10.89.0.1 API_PORT=6443 POD_CIDR=10.88.0.0/16 SVC_CIDR=10.0.0.0/24
K=$K8S_BIN_DIR
: "${ETCD_BIN:?run test/harness/provision.sh first}" "${PAUSE_BIN:?}" "${COREDNS_BIN:?}"

mkdir -p "$RUN" "$LOG" "$ETC/cni" "$P"
t0=$(date +%s%N)
say() { printf 'realnode: %5d ms %s\n' $(( ($(date +%s%N) - t0) / 1000000 )) "$*" >&2; }
die() { echo "realnode: $*" >&2; exit 1; }

# One node per machine: the bridge, the lo address and the iptables chains have fixed names.
if [ -f "$RUN/owner" ] && [ -d "/proc/$(cat "$RUN/owner")" ]; then
  die "a real node is already up (owner pid $(cat "$RUN/owner")); stop it with $here/down.sh"
fi
"$here/down.sh" >/dev/null 2>&1 || true   # whatever a crashed run left behind
rm -rf "$R/etcd" "$R/kubelet" "$R/containerd" "$R/pod-logs" "$R/logs" /tmp/hostpath_pv   # every node starts empty
mkdir -p "$RUN" "$LOG" "$ETC/cni" "$P"
echo "${REALNODE_OWNER:-$PPID}" > "$RUN/owner"

start() { # start NAME CMD... : background, log file, pid file
  local n=$1; shift
  # A session of its own: a Ctrl-C at the terminal reaches the harness, which tears down in order,
  # not every daemon at once. (Not a group leader here, so setsid execs in place: $! is the daemon.)
  setsid "$@" >>"$LOG/$n.log" 2>&1 </dev/null &
  echo $! >"$RUN/$n.pid"
}
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]; }
until_ok() { # until_ok WHAT SECONDS NAME CMD... : retry CMD until it succeeds; fail if NAME died
  local what=$1 secs=$2 n=$3; shift 3
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    alive "$(cat "$RUN/$n.pid")" || die "$n exited while waiting for $what: $(tail -5 "$LOG/$n.log")"
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${secs}s waiting for $what (log: $LOG/$n.log)"
    sleep 0.1
  done
}

# Host: the kubelet changes these sysctls; down.sh puts them back.
sysctl -n net.ipv4.ip_forward kernel.panic kernel.panic_on_oops vm.overcommit_memory 2>/dev/null \
  | paste -d= <(printf '%s\n' net.ipv4.ip_forward kernel.panic kernel.panic_on_oops vm.overcommit_memory) - >"$RUN/sysctl.saved"
sysctl -qw net.ipv4.ip_forward=1
ip addr add $HOSTIP/32 dev lo 2>/dev/null || true   # the node's address (this kernel has no dummy links)
# Pods may talk to each other and to this host, never past it.
iptables -N RN-FORWARD 2>/dev/null || iptables -F RN-FORWARD
iptables -A RN-FORWARD -s $POD_CIDR ! -o rn0 -j DROP
iptables -I FORWARD 1 -j RN-FORWARD

# Certificates: CA, API server (IP SANs for loopback, the node and the kubernetes Service), admin,
# kubelet client (system:node:<node>), service-account keys.
if [ ! -f "$P/sa.pub" ]; then
  ssl() { openssl "$@" 2>/dev/null; }
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  ssl req -x509 "${ec[@]}" -keyout "$P/ca.key" -out "$P/ca.crt" -days 30 -subj /CN=satellite-realnode-ca
  leaf() {
    printf '%b' "$3" >"$P/$1.ext"
    ssl req "${ec[@]}" -keyout "$P/$1.key" -out "$P/$1.csr" -subj "$2"
    ssl x509 -req -in "$P/$1.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial -days 30 -out "$P/$1.crt" -extfile "$P/$1.ext"
  }
  leaf server /CN=kube-apiserver "subjectAltName=IP:127.0.0.1,IP:$HOSTIP,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n"
  leaf admin /O=system:masters/CN=realnode-admin "extendedKeyUsage=clientAuth\n"
  leaf kubelet "/O=system:nodes/CN=system:node:$NODE" "extendedKeyUsage=clientAuth\n"
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
kubeconfig admin; kubeconfig kubelet
say "host and certificates ready"

# containerd (CRI) with the bridge CNI; pod traffic is not masqueraded.
cat >"$ETC/containerd.toml" <<TOML
version = 2
root = "$R/containerd/root"
state = "$R/containerd/state"
[grpc]
  address = "$R/containerd/containerd.sock"
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
    conf_dir = "$ETC/cni"
TOML
cat >"$ETC/cni/10-realnode.conflist" <<CNI
{"cniVersion": "1.0.0", "name": "realnode", "plugins": [
  {"type": "bridge", "bridge": "rn0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$R/cni-ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
CNI
mkdir -p "$R/containerd"
rm -f "$R/containerd/containerd.sock" "$R/containerd/containerd.sock.ttrpc"
start containerd containerd --config "$ETC/containerd.toml"
ctr() { command ctr --connect-timeout 2s -a "$R/containerd/containerd.sock" -n k8s.io "$@"; }
until_ok "containerd" 20 containerd ctr version
"$here/image-pause.sh" "$PAUSE_BIN" "$R/pause.tar" >/dev/null
for img in "$R/pause.tar" ${IMAGES:-}; do ctr images import --no-unpack "$img" >/dev/null || die "could not import $img"; done
say "containerd up, images imported"

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

# kubelet: cgroupfs on this cgroup v1 host, imported images never collected, DNS on the node address.
mkdir -p "$R/kubelet" "$R/pod-logs"
cat >"$ETC/kubelet.yaml" <<KY
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$R/containerd/containerd.sock
imageServiceEndpoint: unix://$R/containerd/containerd.sock
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: $P/ca.crt}}
authorization: {mode: AlwaysAllow}
clusterDNS: [$HOSTIP]
clusterDomain: cluster.local
address: $HOSTIP
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
syncFrequency: ${SYNC_FREQ:-1m}
maxPods: ${MAX_PODS:-110}
podLogsDir: $R/pod-logs
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
KY
start kubelet "$K/kubelet" --config "$ETC/kubelet.yaml" --kubeconfig "$ETC/kubelet.kubeconfig" --root-dir "$R/kubelet" \
  --cert-dir "$R/kubelet/pki" --hostname-override $NODE --node-ip $HOSTIP --v 1
until_ok "node $NODE Ready" 120 kubelet bash -c "[ \"\$('$K/kubectl' --kubeconfig '$ETC/admin.kubeconfig' get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
say "node Ready"

# Controllers (garbage collection, ServiceAccounts, EndpointSlices), scheduler, Services, DNS.
# The controller-manager runs as uid/gid 1000, the NATS servers' user (Pod Security restricted):
# its host-path provisioner makes each volume a 0750 directory of its own user, and host-path
# volumes ignore fsGroup, so this is what makes them the servers' to write, as a storage driver
# honouring fsGroup would. It reads its keys and kubeconfig, which it is given; it writes only
# its serving certificate (--cert-dir) and /tmp/hostpath_pv.
KCM_UID=1000
install -d -o $KCM_UID -g $KCM_UID -m 0755 /tmp/hostpath_pv "$R/kcm"
chown $KCM_UID "$ETC/admin.kubeconfig" "$P/admin.crt" "$P/admin.key" "$P/sa.key" "$P/ca.key" "$P/ca.crt"
chmod o+x "$R" "$P" "$ETC"
start kube-controller-manager setpriv --reuid $KCM_UID --regid $KCM_UID --clear-groups "$K/kube-controller-manager" --kubeconfig "$ETC/admin.kubeconfig" \
  --authentication-kubeconfig "$ETC/admin.kubeconfig" --authorization-kubeconfig "$ETC/admin.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port 10257 --leader-elect=false --use-service-account-credentials \
  --service-account-private-key-file "$P/sa.key" --root-ca-file "$P/ca.crt" \
  --cluster-signing-cert-file "$P/ca.crt" --cluster-signing-key-file "$P/ca.key" \
  --controllers '*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle,-route' --enable-hostpath-provisioner --cert-dir "$R/kcm" --v 1
start kube-scheduler "$K/kube-scheduler" --kubeconfig "$ETC/admin.kubeconfig" --authentication-kubeconfig "$ETC/admin.kubeconfig" \
  --authorization-kubeconfig "$ETC/admin.kubeconfig" --bind-address 127.0.0.1 --secure-port 10259 --leader-elect=false --v 1
cat >"$ETC/kube-proxy.yaml" <<KP
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $ETC/admin.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE
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
say "up: kubectl --kubeconfig $ETC/admin.kubeconfig"
echo "$ETC/admin.kubeconfig"
