#!/usr/bin/env bash
# image-nats.sh NATS_SERVER_BIN VERSION OUT: a nats-server image laid out like the official `nats`
# image (FROM scratch, /nats-server, PATH ending in "/", /nats-server.conf), named nats:VERSION.
set -euo pipefail
root=$(mktemp -d); chmod 755 "$root"; trap 'rm -rf "$root"' EXIT
install -m 0755 "$1" "$root/nats-server"
printf 'port: 4222\nhttp: 8222\n' >"$root/nats-server.conf"
mkdir -m 1777 "$root/tmp"
"$(dirname "$0")/../../scripts/oci-archive.sh" "docker.io/library/nats:$2" "$root" \
  '{"Entrypoint":["/nats-server"],"Cmd":["--config","nats-server.conf"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/"],"WorkingDir":"/"}' "$3"
