#!/usr/bin/env bash
# Builds logguard, installs it as the managed plugin "logguard" into the local
# Docker engine, and shows it working. For a fresh Debian 12 machine, as root.
# When no engine answers on /var/run/docker.sock, a private one is started
# (data in /var/lib/logguard-demo) and the DOCKER_HOST to use is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

echo "== dependencies (apt)"
scripts/deps.sh

echo "== build"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DLOGGUARD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target logguard

docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=$(command -v docker)
if DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock} "$docker_cli" version >/dev/null 2>&1; then
  export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}
  echo "== using the Docker engine at $DOCKER_HOST"
else
  echo "== no Docker engine answers: starting a private one"
  DOCKER_HOST=$(scripts/dockerd.sh start /var/lib/logguard-demo)
  export DOCKER_HOST
fi
docker() { "$docker_cli" "$@"; }

image=logguard-demo-busybox
if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "== importing a busybox image offline as $image"
  root=$(mktemp -d)
  mkdir -p "$root/bin"
  cp /bin/busybox "$root/bin/"
  for applet in sh seq yes head echo printf sleep cat; do ln -s busybox "$root/bin/$applet"; done
  tar -C "$root" -c . | docker import - "$image" >/dev/null
  rm -rf "$root"
fi

echo "== installing the plugin"
pkg=$(mktemp -d)
plugin/package.sh "$pkg" "$repo/build-release" >/dev/null
if docker plugin inspect logguard >/dev/null 2>&1; then
  docker plugin disable -f logguard >/dev/null 2>&1 || true
  docker plugin rm -f logguard >/dev/null
fi
mkdir -p /var/log/logguard
docker plugin create logguard "$pkg" >/dev/null
# --timeout 0: with enable's default of 30 s the engine cuts `docker logs -f` after 30 s.
docker plugin enable --timeout 0 logguard >/dev/null
rm -rf "$pkg"
docker plugin ls

echo "== a container that logs 5 lines, then floods 2 MB against rate=100k burst=200k"
cid=$(docker run -d --network none --log-driver logguard \
  --log-opt rate=100k --log-opt burst=200k --log-opt max-size=1m --log-opt max-file=3 \
  "$image" sh -c 'seq 1 5; yes "flooding the log with one line after another" | head -c 2000000; echo done')
docker wait "$cid" >/dev/null
logdir=/var/log/logguard/$cid
echo "-- files in $logdir:"
ls -l "$logdir"
echo "-- the first 3 lines of the current file:"
head -n 3 "$logdir/$cid-json.log"
echo "-- docker logs --tail 3 (the drop notice is the last line):"
docker logs --tail 3 "$cid"
docker rm "$cid" >/dev/null
cat <<EOT

logguard is installed. Use it with:
  DOCKER_HOST=$DOCKER_HOST docker run --log-driver logguard --log-opt rate=1m ...
or make it the default in /etc/docker/daemon.json: {"log-driver": "logguard"}
EOT
