# lib.sh: what up.sh, down.sh, node.sh and leftovers.sh share. Sourced, not run.
R=${REALNODE_DIR:-/var/tmp/satellite-realnode}
RUN=$R/run LOG=$R/logs ETC=$R/etc P=$R/pki
# The bed's pod addresses: one /16, split into a /24 per node when there are several.
POD_CIDR=10.88.0.0/16
ZONES=(a b c)
MAX_NODES=${#ZONES[@]}
CGROUPS=/sys/fs/cgroup
# The stand-in for Docker Hub (up.sh REGISTRY_IMAGES): on loopback, so no pull leaves this machine.
REGISTRY=127.0.0.1:5300

nodes_arg() { # nodes_arg VALUE: the number of nodes asked for, or a clear refusal
  [[ "$1" =~ ^[1-9]$ ]] && [ "$1" -le $MAX_NODES ] || die "NODES must be a number from 1 to $MAX_NODES, not '$1'"
  echo "$1"
}

node_vars() { # node_vars INDEX NODES: sets NODE SFX NODEIP BRIDGE SUBNET CGROOT ZONE for node INDEX (from 0)
  local z=${ZONES[$1]}
  ZONE=zone-$z NODEIP=10.89.0.$(($1 + 1)) BRIDGE=rn$1
  # The first node keeps the single node's names, so NODES=1 is the bed as it always was.
  if [ "$1" = 0 ]; then NODE=realnode SFX=; else NODE=realnode-$z SFX=-$z; fi
  # With one node, the node's pods live in the host's cgroup root as they always did; with several,
  # each node has a root of its own, which node.sh freezes to stop the node's pods like a dead machine.
  if [ "$2" = 1 ]; then SUBNET=$POD_CIDR CGROOT=/; else SUBNET=10.88.$1.0/24 CGROOT=/$NODE; fi
}

node_index() { # node_index NAME NODES: the index of the node called NAME, or a clear refusal
  local i
  for ((i = 0; i < $2; i++)); do node_vars $i "$2"; [ "$NODE" = "$1" ] && { echo $i; return; }; done
  die "no node '$1' in this bed of $2 node(s)"
}

# The per-node cgroup roots, in every hierarchy of this cgroup v1 host.
cgroup_roots() { ls -d $CGROUPS/*/realnode $CGROUPS/*/realnode-? 2>/dev/null; }

say() { printf 'realnode: %5d ms %s\n' $((($(date +%s%N) - ${t0:-$(date +%s%N)}) / 1000000)) "$*" >&2; }
die() { echo "realnode: $*" >&2; exit 1; }
# Daemons get reparented to PID 1 here, which reaps late: a zombie has ended.
alive() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }

start() { # start NAME CMD... : background, log file, pid file; the command is kept for node.sh start
  local n=$1; shift
  printf '%q ' "$@" >"$RUN/$n.cmd"
  # A session of its own: a Ctrl-C at the terminal reaches the harness, which tears down in order,
  # not every daemon at once. (Not a group leader here, so setsid execs in place: $! is the daemon.)
  setsid "$@" >>"$LOG/$n.log" 2>&1 </dev/null &
  echo $! >"$RUN/$n.pid"
}
restart() { # restart NAME: starts NAME again with the command start gave it
  local cmd
  cmd=$(cat "$RUN/$1.cmd")
  eval "start $1 $cmd"
}
until_ok() { # until_ok WHAT SECONDS NAME CMD... : retry CMD until it succeeds; fail if NAME died
  local what=$1 secs=$2 n=$3; shift 3
  local end=$(($(date +%s) + secs))
  until "$@" >/dev/null 2>&1; do
    alive "$(cat "$RUN/$n.pid")" || die "$n exited while waiting for $what: $(tail -5 "$LOG/$n.log")"
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${secs}s waiting for $what (log: $LOG/$n.log)"
    sleep 0.1
  done
}
kill_pid_file() { # kill_pid_file NAME [SECONDS [SIGNAL]]: SIGNAL (default TERM), then SIGKILL after SECONDS
  local f=$RUN/$1.pid pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$pid"; then
    kill -"${3:-TERM}" "$pid" 2>/dev/null
    for ((i = 0; i < ${2:-10} * 20; i++)); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
}
# A node's containerd-shims: they outlive containerd; each names its containerd's socket.
shims() { pgrep -f "containerd-shim.* -address $R/containerd$1/containerd.sock( |\$)"; }
