#!/usr/bin/env bash
# Finds or builds the binaries the test bed needs, idempotently, and prints
# their paths as shell assignments (eval-able). Everything built is cached
# per user, keyed by version, so a fresh clone on the same machine reuses it.
#
#   NATS_SERVER_BIN      use this nats-server instead of building one
#   NATS_CLI_BIN         use this nats CLI (natscli) instead of building one
#   NSC_BIN              use this nsc (operator, account and user JWTs) instead of building one
#   HELM_BIN             use this helm (v4) instead of building one
#   NODE_LTS_BIN         use this Node (a current LTS) instead of installing one from npm
#   KUBEBUILDER_ASSETS   use etcd and kube-apiserver from this directory
#   SATELLITE_CACHE      cache directory (default ${XDG_CACHE_HOME:-~/.cache}/satellite)
#   SATELLITE_REALNODE   off: skip the real node (Debian packages, kubelet and friends, CoreDNS)
#   PROMTOOL_BIN         use this promtool (checks /metrics and the alert rules) instead of Debian's
#   PROMETHEUS_BIN       use this Prometheus (with Kubernetes service discovery) for the real-node suite
set -euo pipefail

NATS_VERSION=v2.14.9
KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.8
NATSCLI_VERSION=v0.3.0
# nsc: operators, accounts and users as JWTs, as NATS users make them (operatorConfig tests).
NSC_VERSION=v2.11.1
NODE_LTS_VERSION=24
NATS_OLD_VERSION=v2.12.0
# Releases nats-operator users still run (its default was 2.1.9), and the oldest satellite supports.
NATS_LEGACY_VERSIONS="v2.0.0 v2.1.9 v2.6.1"
# nats-operator's examples: two pin 2.1.7; websocket.yaml runs synadia/nats-server:nightly-20201008,
# a build of main that day (2.2.0-beta.24), which the module proxy does not serve: 2.2.0, the first
# release after it, stands in for it (the real-node examples suite, docs/nats-operator.md).
NATS_EXAMPLE_VERSION=v2.1.7
NATS_NIGHTLY_STANDIN_VERSION=v2.2.0
# crane's registry stands in for Docker Hub on the real node, for images pods always pull (:latest).
CRANE_VERSION=v0.22.1
NACK_VERSION=v0.22.4
NATS_OPERATOR_VERSION=v0.8.3
COREDNS_VERSION=v1.15.0
HELM_VERSION=v4.3.2
# Prometheus 3.16 (module versions v0.3XY.Z are releases 3.XY.Z): Debian's 2.42 is built without
# Kubernetes service discovery, which the real-node Prometheus suite uses as users do.
PROMETHEUS_MODULE_VERSION=v0.316.0
HERE=$(cd "$(dirname "$0")" && pwd)

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
# GO_X_FLAGS, when set, adds -X version stamps to the linker flags.
go_build_main() {
  local out=$1 module=$2 version=$3 pkg=$4 extra=${5:-}
  local work; work=$(mktemp -d "$CACHE/build.XXXXXX")
  printf 'module satellite.local/build\n\ngo 1.26\n\nrequire %s %s\n%s\n' "$module" "$version" "$extra" > "$work/go.mod"
  printf 'package build\n\nimport _ "%s"\n' "$pkg" > "$work/tools.go"
  say "building $pkg@$version (first time only; see $work/build.log)"
  if ! (cd "$work" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags="-s -w ${GO_X_FLAGS:-}" -o "$out.tmp" "$pkg" >"$work/build.log" 2>&1); then
    tail -20 "$work/build.log" >&2
    die "could not build $pkg@$version with Go (log above): supply the binary instead (see docs/testbed.md, 'Test bed')."
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

nats_server_legacy() { # colon-separated, oldest first
  local v bins=()
  for v in $NATS_LEGACY_VERSIONS; do bins+=("$(nats_server_v "$v")"); done
  (IFS=:; echo "${bins[*]}")
}

assets_hint="set KUBEBUILDER_ASSETS to a directory holding etcd and kube-apiserver"

etcd_bin() {
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then supplied "$KUBEBUILDER_ASSETS/etcd" "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS: etcd"; return; fi
  go_binary "$CACHE/etcd-$ETCD_VERSION" "etcd $ETCD_VERSION" "$assets_hint" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
}

# Kubernetes v1.36.3 components, built together from k8s.io/kubernetes in one throw-away module and
# version-stamped, so /version and `kubectl version` say v1.36.3 (unstamped: v0.0.0-master).
K8S_CMDS="kube-apiserver kubelet kube-controller-manager kube-scheduler kube-proxy kubectl"
k8s_dir() {
  local dir="$CACHE/kubernetes-$KUBE_VERSION" missing="" c
  for c in $K8S_CMDS; do [ -x "$dir/$c" ] || missing="$missing $c"; done
  [ -z "$missing" ] && { echo "$dir"; return; }
  need_go "Kubernetes $KUBE_VERSION" "$assets_hint"
  local minor=${KUBE_VERSION#v1.} staging work pkgs="" m
  staging="v0.${minor%%.*}.${KUBE_VERSION##*.}"
  work=$(mktemp -d "$CACHE/build.XXXXXX")
  { printf 'module satellite.local/build\n\ngo 1.26\n\nrequire k8s.io/kubernetes %s\nreplace (\n' "$KUBE_VERSION"
    for m in api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider \
      cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api \
      cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt \
      kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics \
      mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming; do
      printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$staging"; done
    printf ')\n'; } > "$work/go.mod"
  { printf 'package build\n\nimport (\n'; for c in $missing; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done; printf ')\n'; } > "$work/tools.go"
  for c in $missing; do pkgs="$pkgs k8s.io/kubernetes/cmd/$c"; done
  local stamp="" v
  for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    stamp="$stamp -X $v.gitVersion=$KUBE_VERSION -X $v.gitMajor=1 -X $v.gitMinor=${minor%%.*} -X $v.gitTreeState=clean"
  done
  say "building Kubernetes $KUBE_VERSION:$missing (first time only, several minutes; see $work/build.log)"
  mkdir -p "$dir.tmp"
  if ! (cd "$work" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags="-s -w$stamp" -o "$dir.tmp/" $pkgs >"$work/build.log" 2>&1); then
    tail -20 "$work/build.log" >&2
    die "could not build Kubernetes $KUBE_VERSION with Go (log above): $assets_hint."
  fi
  mkdir -p "$dir"; mv "$dir.tmp"/* "$dir/"; rmdir "$dir.tmp"; rm -rf "$work"
  echo "$dir"
}

kube_apiserver() {
  if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then supplied "$KUBEBUILDER_ASSETS/kube-apiserver" "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS: kube-apiserver"; return; fi
  echo "$(k8s_dir)/kube-apiserver"
}

nats_cli() {
  if [ -n "${NATS_CLI_BIN:-}" ]; then supplied "$NATS_CLI_BIN" "NATS_CLI_BIN=$NATS_CLI_BIN"; return; fi
  go_binary "$CACHE/nats-cli-$NATSCLI_VERSION" "the nats CLI $NATSCLI_VERSION" "set NATS_CLI_BIN" \
    github.com/nats-io/natscli "$NATSCLI_VERSION" github.com/nats-io/natscli/nats
}

nsc_bin() {
  if [ -n "${NSC_BIN:-}" ]; then supplied "$NSC_BIN" "NSC_BIN=$NSC_BIN"; return; fi
  go_binary "$CACHE/nsc-$NSC_VERSION" "nsc $NSC_VERSION" "set NSC_BIN" github.com/nats-io/nsc/v2 "$NSC_VERSION" github.com/nats-io/nsc/v2
}

# Helm, to lint, render and install charts/satellite. Version-stamped as helm's own Makefile does
# for a release tag, so `helm version` says v4.3.2 (unstamped it says "v4.3").
helm_bin() {
  if [ -n "${HELM_BIN:-}" ]; then supplied "$HELM_BIN" "HELM_BIN=$HELM_BIN"; return; fi
  local v=helm.sh/helm/v4/internal/version
  GO_X_FLAGS="-X $v.version=$HELM_VERSION -X $v.metadata= -X $v.gitTreeState=clean" \
    go_binary "$CACHE/helm-$HELM_VERSION" "helm $HELM_VERSION" "set HELM_BIN" \
    helm.sh/helm/v4 "$HELM_VERSION" helm.sh/helm/v4/cmd/helm
}

# A current Node LTS (the container's), from npm, to run the bundle on besides the machine's Node.
node_lts() {
  if [ -n "${NODE_LTS_BIN:-}" ]; then supplied "$NODE_LTS_BIN" "NODE_LTS_BIN=$NODE_LTS_BIN"; return; fi
  SATELLITE_CACHE=$CACHE "$HERE/../../scripts/node-lts.sh" "$NODE_LTS_VERSION" || die "set NODE_LTS_BIN to a Node $NODE_LTS_VERSION binary"
}

# nack's nats-server-config-reloader, the peer the reloader's file mode is measured against.
nack_reloader() {
  go_binary "$CACHE/nack-reloader-$NACK_VERSION" "nack's config reloader $NACK_VERSION" "the bench's peer" \
    github.com/nats-io/nack "$NACK_VERSION" github.com/nats-io/nack/cmd/nats-server-config-reloader
}

# nats-operator, end-of-life, whose running clusters satellite adopts (the adoption test). It pins
# Kubernetes 1.22 by requiring every staging module at v0.0.0, so its own replace lines are needed.
nats_operator() {
  local m replaces="replace ("
  for m in api apiextensions-apiserver apiserver cli-runtime client-go cloud-provider cluster-bootstrap component-base component-helpers controller-manager csi-translation-lib kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet legacy-cloud-providers metrics pod-security-admission sample-apiserver sample-cli-plugin sample-controller; do
    replaces="$replaces
	k8s.io/$m => k8s.io/$m v0.22.2"
  done
  replaces="$replaces
	k8s.io/apimachinery => k8s.io/apimachinery v0.22.3-rc.0
	k8s.io/code-generator => k8s.io/code-generator v0.22.3-rc.0
	k8s.io/mount-utils => k8s.io/mount-utils v0.22.3-rc.0
	k8s.io/cri-api => k8s.io/cri-api v0.23.0-alpha.0
)"
  go_binary "$CACHE/nats-operator-$NATS_OPERATOR_VERSION" "nats-operator $NATS_OPERATOR_VERSION" "the adoption test's predecessor" \
    github.com/nats-io/nats-operator "$NATS_OPERATOR_VERSION" github.com/nats-io/nats-operator/cmd/operator "$replaces"
}

# nats-operator's own example manifests (its module's example/), what its users apply: the
# examples test applies each to satellite's CRD. Read from the module proxy, never built.
nats_operator_examples() {
  local out="$CACHE/nats-operator-$NATS_OPERATOR_VERSION-examples" dir
  if [ ! -d "$out" ]; then
    need_go "nats-operator's examples" "run with Go and the module proxy"
    dir=$(cd "$CACHE" && GOFLAGS=-mod=mod go mod download -json "github.com/nats-io/nats-operator@$NATS_OPERATOR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [ -d "$dir/example" ] || die "nats-operator $NATS_OPERATOR_VERSION's module has no example/ directory (go mod download failed?)"
    mkdir -p "$out.tmp" && cp "$dir"/example/*.yaml "$out.tmp/" && mv "$out.tmp" "$out"
  fi
  echo "$out"
}

nats_server_v() { # a second real release for upgrade tests, laid out as the official image
  go_binary "$CACHE/nats-server-$1" "nats-server $1" "set NATS_SERVER_BIN" \
    github.com/nats-io/nats-server/v2 "$1" github.com/nats-io/nats-server/v2
}

# promtool, from Debian's prometheus package: the exposition and alert-rule tests check with it.
promtool_bin() {
  if [ -n "${PROMTOOL_BIN:-}" ]; then supplied "$PROMTOOL_BIN" "PROMTOOL_BIN=$PROMTOOL_BIN"; return; fi
  # Without it only the metrics tests fail (saying so); the rest of the test bed stays usable.
  command -v promtool >/dev/null 2>&1 || apt_install prometheus || { say "cannot install Debian's prometheus package (promtool)"; echo ""; return; }
  command -v promtool
}

prometheus_bin() {
  if [ -n "${PROMETHEUS_BIN:-}" ]; then supplied "$PROMETHEUS_BIN" "PROMETHEUS_BIN=$PROMETHEUS_BIN"; return; fi
  local v=github.com/prometheus/common/version
  GO_X_FLAGS="-X $v.Version=3.${PROMETHEUS_MODULE_VERSION#v0.3}" \
    go_binary "$CACHE/prometheus-$PROMETHEUS_MODULE_VERSION" "Prometheus $PROMETHEUS_MODULE_VERSION" "set PROMETHEUS_BIN" \
    github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION" github.com/prometheus/prometheus/cmd/prometheus
}

coredns_bin() {
  go_binary "$CACHE/coredns-$COREDNS_VERSION" "CoreDNS $COREDNS_VERSION" "cluster DNS of the real node" \
    github.com/coredns/coredns "$COREDNS_VERSION" github.com/coredns/coredns
}

# The pod sandbox process (the real node's registry.k8s.io/pause:3.10 image), from this repository.
pause_bin() {
  local out="$CACHE/pause-$(sha256sum "$HERE/../realnode/pause/main.go" | cut -c1-12)"
  if [ ! -x "$out" ]; then
    need_go "the pause image" "run as root on Debian"
    (cd "$HERE/../realnode/pause" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$out" main.go) || die "could not build the pause process"
  fi
  echo "$out"
}

crane_bin() {
  go_binary "$CACHE/crane-$CRANE_VERSION" "crane $CRANE_VERSION" "the real node's stand-in registry" \
    github.com/google/go-containerregistry "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane
}

# The real node: Debian's containerd, runc and CNI plugins, the Kubernetes components, CoreDNS.
# Prints why not in one sentence when this machine cannot run one.
realnode() {
  [ "${SATELLITE_REALNODE:-on}" = off ] && { echo "REALNODE_UNAVAILABLE=SATELLITE_REALNODE=off"; return; }
  if [ "$(id -u)" != 0 ]; then echo "REALNODE_UNAVAILABLE=the real node needs root (kubelet, containerd, pod networking)"; return; fi
  local p
  for p in containerd runc containernetworking-plugins iptables conntrack busybox-static; do
    apt_install "$p" || { echo "REALNODE_UNAVAILABLE=Debian package $p could not be installed"; return; }
  done
  [ -x /usr/lib/cni/bridge ] || { echo "REALNODE_UNAVAILABLE=the CNI bridge plugin is not in /usr/lib/cni"; return; }
  local k8s dns pause old natsop example nightly crane
  k8s=$(k8s_dir); dns=$(coredns_bin); pause=$(pause_bin); old=$(nats_server_v "$NATS_OLD_VERSION"); natsop=$(nats_operator)
  example=$(nats_server_v "$NATS_EXAMPLE_VERSION"); nightly=$(nats_server_v "$NATS_NIGHTLY_STANDIN_VERSION"); crane=$(crane_bin)
  echo "REALNODE_UNAVAILABLE="
  echo "NATS_SERVER_EXAMPLE_BIN=$example"
  echo "NATS_SERVER_NIGHTLY_STANDIN_BIN=$nightly"
  echo "CRANE_BIN=$crane"
  echo "BUSYBOX_BIN=/bin/busybox"
  echo "K8S_BIN_DIR=$k8s"
  echo "COREDNS_BIN=$dns"
  echo "PAUSE_BIN=$pause"
  echo "NATS_SERVER_PREV_BIN=$old"
  echo "NATS_OPERATOR_BIN=$natsop"
}

# Assigned first: with set -e a failure inside $(…) stops here, not inside an echo.
nats=$(nats_server)
nats_old=$(nats_server_old)
nats_legacy=$(nats_server_legacy)
etcd=$(etcd_bin)
apiserver=$(kube_apiserver)
cli=$(nats_cli)
nsc=$(nsc_bin)
node=$(node_lts)
nack=$(nack_reloader)
examples=$(nats_operator_examples)
helm=$(helm_bin)
promtool=$(promtool_bin)
prometheus=$(prometheus_bin)
node_env=$(realnode)
echo "CACHE_DIR=$CACHE"
echo "NATS_SERVER_BIN=$nats"
echo "NATS_SERVER_OLD_BIN=$nats_old"
echo "NATS_SERVER_LEGACY_BINS=$nats_legacy"
echo "ETCD_BIN=$etcd"
echo "KUBE_APISERVER_BIN=$apiserver"
echo "NATS_CLI_BIN=$cli"
echo "NSC_BIN=$nsc"
echo "NODE_LTS_BIN=$node"
echo "NACK_RELOADER_BIN=$nack"
echo "NATS_OPERATOR_EXAMPLES=$examples"
echo "HELM_BIN=$helm"
echo "PROMTOOL_BIN=$promtool"
echo "PROMETHEUS_BIN=$prometheus"
echo "$node_env"
