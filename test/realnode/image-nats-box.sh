#!/usr/bin/env bash
# image-nats-box.sh BUSYBOX NATS_CLI OUT: an image laid out like synadia/nats-box (a busybox shell,
# the nats CLI on PATH, users in /etc/passwd: without them the CLI says "context not found"), named
# docker.io/synadia/nats-box:latest: the client pods of nats-operator's examples run it.
set -euo pipefail
root=$(mktemp -d); chmod 755 "$root"; trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/usr/local/bin" "$root/root"
install -m 0755 "$1" "$root/bin/busybox"
for applet in $("$1" --list); do [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"; done
install -m 0755 "$2" "$root/usr/local/bin/nats"
mkdir -p "$root/etc"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
mkdir -m 1777 "$root/tmp"
"$(dirname "$0")/../../scripts/oci-archive.sh" "docker.io/synadia/nats-box:latest" "$root" \
  '{"Cmd":["/bin/sh","-l"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"WorkingDir":"/root"}' "$3"
