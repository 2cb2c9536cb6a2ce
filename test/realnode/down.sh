#!/usr/bin/env bash
# down.sh: stops the bed of up.sh (every node) and removes everything it put on this host: pods and
# their processes, daemons, mounts, network namespaces, iptables chains, the bridges, the lo
# addresses, the kubelets' cgroups, local volumes and sysctls. Safe to run twice, after a crashed
# run, with nodes stopped by node.sh, and whatever NODES the bed had.
#   --purge   also delete the bed's state (etcd, containerd images, certificates)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
kubepods() { ls -d $CGROUPS/*/kubepods $CGROUPS/kubepods $CGROUPS/*/realnode*/kubepods 2>/dev/null; }

# A node stopped by node.sh: thaw its pods and wake its shims, or nothing of it can end.
for d in $CGROUPS/freezer/realnode*; do [ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"; done
for sfx in "" "${ZONES[@]/#/-}"; do for p in $(shims "$sfx"); do kill -CONT "$p" 2>/dev/null; done; done
rm -f "$RUN"/stopped-*

for sfx in "" "${ZONES[@]/#/-}"; do kill_pid_file "kubelet$sfx"; done
# The reclaim loop of local volumes and its kubectl watch: its whole session.
[ -f "$RUN/local-volumes.pid" ] && kill -- -"$(cat "$RUN/local-volumes.pid")" 2>/dev/null
rm -f "$RUN/local-volumes.pid"
# Every process of every pod, found by the kubelets' cgroups (no pod outlives the bed).
for _ in 1 2 3; do
  pids=$(for d in $(kubepods); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -u)
  [ -z "$pids" ] && break
  kill -9 $pids 2>/dev/null; sleep 0.2
done
for n in registry coredns kube-proxy kube-scheduler kube-controller-manager kube-apiserver etcd; do kill_pid_file $n; done
for sfx in "" "${ZONES[@]/#/-}"; do kill_pid_file "containerd$sfx"; done
for p in $(pgrep -f "containerd-shim.*$R/containerd" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
grep -E " $R/" /proc/self/mounts | cut -d' ' -f2 | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
for ns in $(ls /var/run/netns 2>/dev/null | grep '^cni-'); do umount "/var/run/netns/$ns" 2>/dev/null; rm -f "/var/run/netns/$ns"; done
# iptables: jumps from built-in chains first, then flush and delete the chains (v4 and v6).
for ipt in iptables ip6tables; do
  command -v $ipt-save >/dev/null || continue
  for t in nat filter mangle; do
    $ipt-save -t $t 2>/dev/null | grep -E '^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .*-j (CNI-|KUBE-|RN-)' | sed 's/^-A/-D/' \
      | while read -r rule; do eval "$ipt -t $t $rule" 2>/dev/null; done
    chains=$($ipt-save -t $t 2>/dev/null | grep -oE '^:(CNI-|KUBE-|RN-)[^ ]+' | tr -d :)
    for c in $chains; do $ipt -t $t -F "$c" 2>/dev/null; done
    for c in $chains; do $ipt -t $t -X "$c" 2>/dev/null; done
  done
done
for ((i = 0; i < MAX_NODES; i++)); do
  node_vars $i $MAX_NODES
  ip link del "$BRIDGE" 2>/dev/null
  ip addr del "$NODEIP/32" dev lo 2>/dev/null
done
for d in $(kubepods); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
for d in $(cgroup_roots); do rmdir "$d" 2>/dev/null; done
rm -rf "$R"/cni-ipam "$R"/cni-ipam-? "$R/volumes" /tmp/hostpath_pv
[ -f "$RUN/sysctl.saved" ] && { sysctl -q -p "$RUN/sysctl.saved" >/dev/null; rm -f "$RUN/sysctl.saved"; }
rm -f "$RUN/owner" "$RUN/nodes"
[ "${1:-}" = --purge ] && rm -rf "$R"
exit 0
