#!/usr/bin/env bash
# node.sh: one node of a bed of several (up.sh with NODES>1) goes down like a machine losing power,
# or comes back like one booting again.
#   node.sh stop NAME    its kubelet and containerd are killed, its pods' processes frozen (cgroup v1
#                        freezer on the node's cgroup root) and its containerd-shims stopped; every
#                        packet to or from its pods, and to its kubelet, is dropped, so connections to
#                        them hang and time out instead of being refused
#   node.sh start NAME   the reverse: packets flow, pods and shims run on, containerd and the kubelet
#                        start again; returns once the node is Ready
# Needs K8S_BIN_DIR; REALNODE_DIR as up.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ -f "$RUN/nodes" ] && [ -f "$RUN/owner" ] || die "no bed is up (start one with up.sh)"
N=$(cat "$RUN/nodes")
[ "$N" -gt 1 ] || die "node.sh needs a bed of several nodes (NODES=2 or 3): the single node's pods share the host's cgroup root"
action=${1:-} name=${2:-}
case $action in stop | start) ;; *) die "usage: node.sh stop|start NAME" ;; esac
i=$(node_index "$name" "$N")   # on its own: a refusal inside an argument would not stop the script
node_vars "$i" "$N"
freezer=$CGROUPS/freezer$CGROOT/freezer.state
# Dropped in mangle, after Service addresses are translated and before conntrack lets an
# established connection through the filter table.
dead() { # dead -A|-D: adds or removes the node's drop rules
  iptables -t mangle "$1" RN-DEAD -s "$SUBNET" -j DROP -m comment --comment "$NODE down"
  iptables -t mangle "$1" RN-DEAD -d "$SUBNET" -j DROP -m comment --comment "$NODE down"
  iptables -t mangle "$1" RN-DEAD -d "$NODEIP" -p tcp --dport 10250 -j DROP -m comment --comment "$NODE down"
}
freeze() { # freeze FROZEN|THAWED
  echo "$1" >"$freezer"
  for _ in $(seq 100); do [ "$(cat "$freezer")" = "$1" ] && return; sleep 0.05; done
  die "the pods of $NODE did not become $1 within 5 s"
}

if [ "$action" = stop ]; then
  [ -f "$RUN/stopped-$NODE" ] && die "$NODE is already stopped"
  if iptables -t mangle -N RN-DEAD 2>/dev/null; then
    iptables -t mangle -I PREROUTING 1 -j RN-DEAD
    iptables -t mangle -I POSTROUTING 1 -j RN-DEAD
  fi
  dead -A
  kill_pid_file "kubelet$SFX" 0 KILL
  kill_pid_file "containerd$SFX" 0 KILL
  for p in $(shims "$SFX"); do kill -STOP "$p"; done
  freeze FROZEN
  touch "$RUN/stopped-$NODE"
  echo "$NODE stopped"
else
  [ -f "$RUN/stopped-$NODE" ] || die "$NODE is not stopped"
  t0=$(date +%s%N)
  freeze THAWED
  for p in $(shims "$SFX"); do kill -CONT "$p"; done
  dead -D
  rm -f "$R/containerd$SFX/containerd.sock" "$R/containerd$SFX/containerd.sock.ttrpc"
  restart "containerd$SFX"
  until_ok "containerd$SFX" 20 "containerd$SFX" command ctr --connect-timeout 2s -a "$R/containerd$SFX/containerd.sock" version
  rm -f "$RUN/stopped-$NODE"
  # Ready as reported by the kubelet started now, not a status left from before the stop.
  since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  ready() {
    local s
    s=$("$K8S_BIN_DIR/kubectl" --kubeconfig "$ETC/admin.kubeconfig" --request-timeout 5s get node "$NODE" \
      -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}')
    [ "${s% *}" = True ] && [[ ! "${s#* }" < "$since" ]]
  }
  # As systemd's Restart=always does: a kubelet that finds containerd's CRI not initialized yet
  # (it restores every pod's sandbox first) exits, and is started again.
  end=$(($(date +%s) + 120))
  until ready >/dev/null 2>&1; do
    [ -f "$RUN/kubelet$SFX.pid" ] && alive "$(cat "$RUN/kubelet$SFX.pid")" || { sleep 1; restart "kubelet$SFX"; }
    [ "$(date +%s)" -lt "$end" ] || die "timed out after 120s waiting for node $NODE Ready (log: $LOG/kubelet$SFX.log)"
    sleep 0.2
  done
  say "$NODE started and Ready"
fi
