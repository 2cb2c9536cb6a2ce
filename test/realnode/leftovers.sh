#!/usr/bin/env bash
# leftovers.sh: prints what the bed (any number of nodes) left on this host, one line each; prints
# nothing when clean.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
for f in "$RUN"/*.pid; do [ -f "$f" ] && alive "$(cat "$f")" && echo "process $(basename "$f" .pid) $(cat "$f")"; done
# Every daemon of the bed names a path under $R on its command line (the shims too), but the registry.
for p in $(pgrep -f "$R/") $(pgrep -f "registry serve --address $REGISTRY"); do alive "$p" && echo "process $(cat "/proc/$p/comm" 2>/dev/null) $p"; done
grep -E " $R/|/run/netns/cni-" /proc/self/mounts | cut -d' ' -f2 | sed 's/^/mount /'
ls /var/run/netns 2>/dev/null | grep '^cni-' | sed 's/^/netns /'
ip -br link 2>/dev/null | grep -E '^(rn[0-9]|veth)' | cut -d' ' -f1 | sed 's/^/link /'
ip -br addr show lo | grep -oE '10\.89\.0\.[0-9]+/' | tr -d / | sed 's/^/address on lo /'
{ iptables-save; ip6tables-save; } 2>/dev/null | grep -oE '^:(CNI|KUBE|RN)-[^ ]+' | sed 's/^:/iptables chain /'
ls -d $CGROUPS/*/kubepods 2>/dev/null | sed 's/^/cgroup /'
cgroup_roots | sed 's/^/cgroup /'
ls -d /tmp/hostpath_pv "$R/volumes" 2>/dev/null | sed 's/^/volumes /'
exit 0
