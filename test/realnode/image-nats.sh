#!/usr/bin/env bash
# image-nats.sh NATS_SERVER_BIN VERSION OUT: a nats-server image laid out like the official `nats`
# image of that version (FROM scratch, /nats-server, /nats-server.conf), named nats:VERSION. The
# official images put "/" on PATH only since 2.7.3 (nats-docker, March 2022); older ones start
# /nats-server by its absolute path, and so must whatever runs them.
set -euo pipefail
root=$(mktemp -d); chmod 755 "$root"; trap 'rm -rf "$root"' EXIT
install -m 0755 "$1" "$root/nats-server"
printf 'port: 4222\nhttp: 8222\n' >"$root/nats-server.conf"
mkdir -m 1777 "$root/tmp"
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if [ "$(printf '%s\n' "$2" 2.7.3 | sort -V | head -1)" = 2.7.3 ]; then path="$path:/"; fi
"$(dirname "$0")/../../scripts/oci-archive.sh" "docker.io/library/nats:$2" "$root" \
  "{\"Entrypoint\":[\"/nats-server\"],\"Cmd\":[\"--config\",\"nats-server.conf\"],\"Env\":[\"PATH=$path\"],\"WorkingDir\":\"/\"}" "$3"
