#!/usr/bin/env bash
# Packages logguard as a managed plugin and pushes it to a registry, for nodes to install with
#   docker plugin install --alias logguard --grant-all-permissions REGISTRY/logguard:VERSION
# usage: scripts/publish.sh REGISTRY/logguard:VERSION [BUILD_DIR]
#
#  1. plugin/package.sh writes config.json and a minimal rootfs from BUILD_DIR (default
#     build-release/, built there first if it holds no logguard binary), plus
#     rootfs/etc/logguard-release holding REGISTRY/logguard:VERSION, so a node can tell which
#     release its plugin runs (`cat <data-root>/plugins/<id>/rootfs/etc/logguard-release`);
#  2. `docker plugin create REF` on the engine at $DOCKER_HOST (default /var/run/docker.sock);
#  3. `docker plugin push REF`: a registry on 127.0.0.0/8 is reached over plain HTTP, any other
#     must serve HTTPS or be in the engine's insecure-registries; `docker login` first if it
#     wants credentials;
#  4. `docker plugin rm REF`: the engine keeps no copy (nodes install it by its alias).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
ref=${1:?usage: scripts/publish.sh REGISTRY/logguard:VERSION [BUILD_DIR]}
build=${2:-$repo/build-release}
docker=/usr/bin/docker   # the engine's own client (a newer one may come first on PATH)
[ -x "$docker" ] || docker=docker
case "$ref" in
  */*:*) ;;
  *) echo "want REGISTRY/NAME:VERSION (say 127.0.0.1:5000/logguard:0.1.0), not $ref" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
plugin/package.sh "$work/plugin" "$build" >/dev/null
echo "$ref" >"$work/plugin/rootfs/etc/logguard-release"

# A plugin left under this name by an earlier run that failed half way.
"$docker" plugin rm -f "$ref" >/dev/null 2>&1 || true
"$docker" plugin create "$ref" "$work/plugin" >/dev/null
status=0
"$docker" plugin push "$ref" || status=$?
"$docker" plugin rm -f "$ref" >/dev/null
if [ "$status" != 0 ]; then
  echo "docker plugin push $ref failed" >&2
  exit "$status"
fi
echo "pushed $ref"
