#!/usr/bin/env bash
# image-pause.sh PAUSE_BIN OUT: the node's sandbox image, registry.k8s.io/pause:3.10 (containerd's
# sandbox_image), from the pause process built by provision.sh.
set -euo pipefail
root=$(mktemp -d); chmod 755 "$root"; trap 'rm -rf "$root"' EXIT
install -m 0755 "$1" "$root/pause"
"$(dirname "$0")/../../scripts/oci-archive.sh" registry.k8s.io/pause:3.10 "$root" '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$2"
