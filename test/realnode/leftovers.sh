#!/usr/bin/env bash
# leftovers.sh: prints what a real node left on this host, one line each; prints nothing when clean.
R=${REALNODE_DIR:-/var/tmp/satellite-realnode}
# Zombies do not count: they have ended, and PID 1 here reaps them late.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for f in "$R"/run/*.pid; do [ -f "$f" ] && alive "$(cat "$f")" && echo "process $(basename "$f" .pid) $(cat "$f")"; done
# Every daemon of the node names a path under $R on its command line (the shims too).
for p in $(pgrep -f "$R/"); do alive "$p" && echo "process $(cat "/proc/$p/comm" 2>/dev/null) $p"; done
grep -E " $R/|/run/netns/cni-" /proc/self/mounts | cut -d' ' -f2 | sed 's/^/mount /'
ls /var/run/netns 2>/dev/null | grep '^cni-' | sed 's/^/netns /'
ip -br link 2>/dev/null | grep -E '^(rn0|veth)' | cut -d' ' -f1 | sed 's/^/link /'
ip -br addr show lo | grep -q '10.89.0.1/' && echo "address 10.89.0.1 on lo"
{ iptables-save; ip6tables-save; } 2>/dev/null | grep -oE '^:(CNI|KUBE|RN)-[^ ]+' | sed 's/^:/iptables chain /'
ls -d /sys/fs/cgroup/*/kubepods 2>/dev/null | sed 's/^/cgroup /'
ls -d /tmp/hostpath_pv 2>/dev/null | sed 's/^/volumes /'
exit 0
