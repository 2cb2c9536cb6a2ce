#!/usr/bin/env bash
# node-lts.sh MAJOR: prints the path of a Node MAJOR binary for linux, installed once from the npm
# registry (package "node") into ${SATELLITE_CACHE:-~/.cache/satellite}/node-vMAJOR.
set -euo pipefail
major=$1
dir="${SATELLITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/satellite}/node-v$major"
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  echo "installing Node $major from npm into $dir" >&2
  npm install --prefix "$dir" --no-audit --no-fund --silent "node@$major" >/dev/null 2>&1 \
    || { echo "could not install Node $major from npm (npm install node@$major)" >&2; exit 1; }
fi
readlink -f "$dir/node_modules/.bin/node"
