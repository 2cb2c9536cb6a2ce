#!/usr/bin/env bash
# oci-archive.sh NAME ROOTFS CONFIG_JSON OUT: writes a one-layer OCI image archive of the directory
# ROOTFS, named NAME (repo:tag), with CONFIG_JSON as the image config's "config" object (Entrypoint,
# Cmd, Env, User, WorkingDir). Reproducible: same input, same digests. Loadable by
# `ctr images import`, `podman load` and `docker load`; needs only bash, GNU tar and sha256sum.
set -euo pipefail
name=$1 rootfs=$2 config=$3 out=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/blobs/sha256"
blob() { # blob FILE: moves FILE into blobs/, prints "sha256:HEX SIZE"
  local h; h=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$tmp/blobs/sha256/$h"
  echo "sha256:$h $(stat -c %s "$tmp/blobs/sha256/$h")"
}
tar --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$tmp/layer" .
read -r layer lsize < <(blob "$tmp/layer")
printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/oci-archive.sh"}]}' \
  "$config" "$layer" >"$tmp/config"
read -r cfg csize < <(blob "$tmp/config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
  "$cfg" "$csize" "$layer" "$lsize" >"$tmp/manifest"
read -r man msize < <(blob "$tmp/manifest")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$man" "$msize" "$name" "${name##*:}" >"$tmp/index.json"
# docker load reads manifest.json (its own format) from the same archive.
printf '[{"Config":"blobs/sha256/%s","RepoTags":["%s"],"Layers":["blobs/sha256/%s"]}]' "${cfg#sha256:}" "$name" "${layer#sha256:}" >"$tmp/manifest.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"
mkdir -p "$(dirname "$out")"
tar --format=gnu --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp" -cf "$out" oci-layout index.json manifest.json blobs
echo "$out: $name (layer $layer)"
