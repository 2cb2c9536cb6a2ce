#!/usr/bin/env bash
# Finds or builds the binaries the test bed needs, idempotently, and prints
# their paths as shell assignments (eval-able). Everything built is cached
# per user, keyed by version, so a fresh clone on the same machine reuses it.
#
#   NATS_SERVER_BIN      use this nats-server instead of building one
#   NATS_CLI_BIN         use this nats CLI (natscli) instead of building one
#   NODE_LTS_BIN         use this Node (a current LTS) instead of installing one from npm
#   KUBEBUILDER_ASSETS   use etcd and kube-apiserver from this directory
#   SATELLITE_CACHE      cache directory (default ${XDG_CACHE_HOME:-~/.cache}/satellite)
set -euo pipefail

NATS_VERSION=v2.14.9
KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.8
NATSCLI_VERSION=v0.3.0
NODE_LTS_VERSION=24

CACHE="${SATELLITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/satellite}"
mkdir -p "$CACHE"

say() { echo "provision: $*" >&2; }
die() { echo "provision: $*" >&2; exit 1; }

need_go() {
  command -v go >/dev/null 2>&1 && return 0
  [ -x /usr/local/go/bin/go ] && { PATH="/usr/local/go/bin:$PATH"; return 0; }
  die "Go is needed to build $1 but is not installed: install Go 1.26+, or supply the binary ($2)."
}

apt_install() {
  local pkg=$1
  dpkg -s "$pkg" >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || return 1
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo -n"
  say "installing Debian package $pkg"
  if ! $sudo apt-get install -y -qq "$pkg" >/dev/null 2>&1; then
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    $sudo apt-get install -y -qq "$pkg" >/dev/null 2>&1 || return 1
  fi
}

# go_build_main <out> <module> <version> <package> [extra go.mod lines]
# Builds a main package that lives inside a dependency module, from a
# throw-away module, so the dependency's own replace lines do not matter.
go_build_main() {
  local out=$1 module=$2 version=$3 pkg=$4 extra=${5:-}
  local work; work=$(mktemp -d "$CACHE/build.XXXXXX")
  printf 'module satellite.local/build\n\ngo 1.26\n\nrequire %s %s\n%s\n' "$module" "$version" "$extra" > "$work/go.mod"
  printf 'package build\n\nimport _ "%s"\n' "$pkg" > "$work/tools.go"
  say "building $pkg@$version (first time only; see $work/build.log)"
  if ! (cd "$work" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags='-s -w' -o "$out.tmp" "$pkg" >"$work/build.log" 2>&1); then
    tail -20 "$work/build.log" >&2
    die "could not build $pkg@$version with Go (log above): supply the binary instead (see README, 'Test bed')."
  fi
  mv "$out.tmp" "$out"
  rm -rf "$work"
}

# supplied VAR: the binary a variable names; stops if it is not an executable file.
supplied() {
  [ -x "$1" ] || die "$2 is not an executable file."
  echo "$1"
}

# go_binary OUT WHAT HINT MODULE VERSION PACKAGE [GO.MOD LINES]: OUT, built once.
go_binary() {
  local out=$1 what=$2 hint=$3
  shift 3
  if [ ! -x "$out" ]; then
    need_go "$what" "$hint"
    go_build_main "$out" "$@"
  fi
  echo "$out"
}

nats_server() {
  if [ -n "${NATS_SERVER_BIN:-}" ]; then supplied "$NATS_SERVER_BIN" "NATS_SERVER_BIN=$NATS_SERVER_BIN"; return; fi
  go_binary "$CACHE/nats-server-$NATS_VERSION" "nats-server $NATS_VERSION" "set NATS_SERVER_BIN" \
    github.com/nats-io/nats-server/v2 "$NATS_VERSION" github.com/nats-io/nats-server/v2
}

nats_server_old() {
  [ -x /usr/sbin/nats-server ] || [ -x /usr/bin/nats-server ] || apt_install nats-server || true
  for p in /usr/bin/nats-server /usr/sbin/nats-server; do [ -x "$p" ] && { echo "$p"; return; }; done
  echo ""
}

assets_hint="set KUBEBUILDER_ASSETS to a directory holding etcd and kube-apiserver"

etcd_bin() {
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then supplied "$KUBEBUILDER_ASSETS/etcd" "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS: etcd"; return; fi
  go_binary "$CACHE/etcd-$ETCD_VERSION" "etcd $ETCD_VERSION" "$assets_hint" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
}

kube_apiserver() {
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then supplied "$KUBEBUILDER_ASSETS/kube-apiserver" "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS: kube-apiserver"; return; fi
  local minor=${KUBE_VERSION#v1.}; local staging="v0.$minor" replaces="replace ("
  local mods="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
    cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
    kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
    mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming"
  for m in $mods; do replaces="$replaces
	k8s.io/$m => k8s.io/$m $staging"; done
  go_binary "$CACHE/kube-apiserver-$KUBE_VERSION" "kube-apiserver $KUBE_VERSION" "$assets_hint" \
    k8s.io/kubernetes "$KUBE_VERSION" k8s.io/kubernetes/cmd/kube-apiserver "$replaces
)"
}

nats_cli() {
  if [ -n "${NATS_CLI_BIN:-}" ]; then supplied "$NATS_CLI_BIN" "NATS_CLI_BIN=$NATS_CLI_BIN"; return; fi
  go_binary "$CACHE/nats-cli-$NATSCLI_VERSION" "the nats CLI $NATSCLI_VERSION" "set NATS_CLI_BIN" \
    github.com/nats-io/natscli "$NATSCLI_VERSION" github.com/nats-io/natscli/nats
}

# A current Node LTS (the container's), from npm, to run the bundle on besides the machine's Node.
node_lts() {
  if [ -n "${NODE_LTS_BIN:-}" ]; then supplied "$NODE_LTS_BIN" "NODE_LTS_BIN=$NODE_LTS_BIN"; return; fi
  local dir="$CACHE/node-v$NODE_LTS_VERSION"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    say "installing Node $NODE_LTS_VERSION from npm into $dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "node@$NODE_LTS_VERSION" >/dev/null 2>&1 \
      || die "could not install Node $NODE_LTS_VERSION from npm (npm install node@$NODE_LTS_VERSION): set NODE_LTS_BIN"
  fi
  echo "$dir/node_modules/.bin/node"
}

# Assigned first: with set -e a failure inside $(…) stops here, not inside an echo.
nats=$(nats_server)
nats_old=$(nats_server_old)
etcd=$(etcd_bin)
apiserver=$(kube_apiserver)
cli=$(nats_cli)
node=$(node_lts)
echo "NATS_SERVER_BIN=$nats"
echo "NATS_SERVER_OLD_BIN=$nats_old"
echo "ETCD_BIN=$etcd"
echo "KUBE_APISERVER_BIN=$apiserver"
echo "NATS_CLI_BIN=$cli"
echo "NODE_LTS_BIN=$node"
