#!/usr/bin/env bash
# Writes a managed-plugin directory, offline: OUT_DIR/config.json (the
# manifest) and OUT_DIR/rootfs holding only the logguard binary and the
# shared libraries it loads. Then:
#   docker plugin create logguard OUT_DIR && docker plugin enable --timeout 0 logguard
# usage: plugin/package.sh OUT_DIR [BUILD_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: package.sh OUT_DIR [BUILD_DIR]}
build=${2:-$here/build-release}

if [ ! -x "$build/logguard" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLOGGUARD_TESTS=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target logguard
fi

rm -rf "$out/rootfs"
mkdir -p "$out/rootfs/usr/bin" "$out/rootfs/run/docker/plugins" "$out/rootfs/var/log/logguard" \
         "$out/rootfs/var/lib/logguard" "$out/rootfs/var/lib/docker/containers" "$out/rootfs/var/log/pods" \
         "$out/rootfs/tmp" "$out/rootfs/etc" "$out/rootfs/proc" "$out/rootfs/dev" "$out/rootfs/sys"
install -m 0755 "$build/logguard" "$out/rootfs/usr/bin/logguard"
strip --strip-debug "$out/rootfs/usr/bin/logguard" 2>/dev/null || true
# The libraries at the paths the loader looks for them, the loader included.
ldd "$build/logguard" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | while read -r lib; do
  mkdir -p "$out/rootfs$(dirname "$lib")"
  cp -L "$lib" "$out/rootfs$lib"
done
for dir in lib lib64; do
  [ -e "$out/rootfs/$dir" ] || [ ! -L "/$dir" ] || cp -P "/$dir" "$out/rootfs/$dir"
done
cp "$here/config.json" "$out/config.json"
echo "$out"
