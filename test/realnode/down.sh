#!/usr/bin/env bash
# down.sh: stops the real node of up.sh and removes everything it put on this host: pods and their
# processes, daemons, mounts, network namespaces, iptables chains, the bridge, the lo address,
# the kubelet's cgroups and sysctls. Safe to run twice, or after a crashed run.
#   --purge   also delete the node's state (etcd, containerd images, certificates)
set -uo pipefail
R=${REALNODE_DIR:-/var/tmp/satellite-realnode}
RUN=$R/run HOSTIP=10.89.0.1
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
stop() { # stop NAME [SECONDS]: SIGTERM, then SIGKILL
  local f=$RUN/$1.pid pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$pid"; then
    kill "$pid" 2>/dev/null
    for ((i = 0; i < ${2:-10} * 20; i++)); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}
kubepods() { ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods 2>/dev/null; }

stop kubelet
# Every process of every pod, found by the kubelet's cgroups (no pod outlives the node).
for _ in 1 2 3; do
  pids=$(for d in $(kubepods); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -u)
  [ -z "$pids" ] && break
  kill -9 $pids 2>/dev/null; sleep 0.2
done
for n in coredns kube-proxy kube-scheduler kube-controller-manager kube-apiserver etcd containerd; do stop $n; done
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
ip link del rn0 2>/dev/null
ip addr del $HOSTIP/32 dev lo 2>/dev/null
for d in $(kubepods); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
rm -rf "$R/cni-ipam" /tmp/hostpath_pv
[ -f "$RUN/sysctl.saved" ] && { sysctl -q -p "$RUN/sysctl.saved" >/dev/null; rm -f "$RUN/sysctl.saved"; }
rm -f "$RUN/owner"
[ "${1:-}" = --purge ] && rm -rf "$R"
exit 0
