#!/usr/bin/env bash
# image-nats-nightly.sh NATS_SERVER_BIN TAG OUT: a nats-server image laid out like synadia/nats-server's
# nightly images (docker/Dockerfile.nightly in nats-server: alpine, /bin/nats-server on PATH, the
# config at /nats/conf/nats-server.conf), named docker.io/synadia/nats-server:TAG. The bed has no
# alpine: the directories and PATH are the nightly's, the server is the binary given.
set -euo pipefail
root=$(mktemp -d); chmod 755 "$root"; trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/nats/conf"
install -m 0755 "$1" "$root/bin/nats-server"
printf 'port: 4222\nhttp: 8222\n' >"$root/nats/conf/nats-server.conf"
mkdir -m 1777 "$root/tmp"
"$(dirname "$0")/../../scripts/oci-archive.sh" "docker.io/synadia/nats-server:$2" "$root" \
  '{"Entrypoint":["/bin/nats-server"],"Cmd":["-c","/nats/conf/nats-server.conf"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/"}' "$3"
