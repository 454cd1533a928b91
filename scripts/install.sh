#!/usr/bin/env bash
# Builds logguard, installs it as the managed plugin `logguard` and shows it working.
# On a fresh Debian 12 machine, as root, from a checkout:   scripts/install.sh
#
#  1. installs the build dependencies and docker.io (scripts/deps.sh, apt);
#  2. builds the plugin (Release, in $BUILD_DIR, default build-release/);
#  3. uses the engine at $DOCKER_HOST, else the one on /var/run/docker.sock; if none answers,
#     starts a private dockerd in $ENGINE_DIR (default /var/lib/logguard-demo) and tells you
#     the DOCKER_HOST to use with it;
#  4. imports a busybox image offline (from busybox-static) as `busybox`, unless there is one;
#  5. packages the plugin offline (plugin/package.sh) and installs it: `docker plugin create
#     logguard`, `docker plugin set logguard containers.source=<data root>/containers`,
#     `docker plugin enable --timeout 0 logguard`, replacing an older install;
#     (to install from a registry instead, see scripts/publish.sh and the README);
#  6. runs a sample container with --log-driver logguard and shows its file under
#     /var/log/logguard and `docker logs`; then a flood, cut by the rate limit with a notice.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
BUILD_DIR=${BUILD_DIR:-$repo/build-release}
ENGINE_DIR=${ENGINE_DIR:-/var/lib/logguard-demo}
LOG_ROOT=/var/log/logguard   # config.json's `logroot` mount source
docker=/usr/bin/docker       # the engine's own client (a newer one may come first on PATH)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ]; then echo "run as root" >&2; exit 1; fi

step "dependencies (apt)"
scripts/deps.sh
[ -x "$docker" ] || docker=$(command -v docker)

step "build ($BUILD_DIR)"
cmake -S "$repo" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DLOGGUARD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target logguard | tail -n 1

step "docker engine"
started_engine=""
if [ -n "${DOCKER_HOST:-}" ] && "$docker" version >/dev/null 2>&1; then
  echo "using DOCKER_HOST=$DOCKER_HOST"
elif DOCKER_HOST=unix:///var/run/docker.sock "$docker" version >/dev/null 2>&1; then
  export DOCKER_HOST=unix:///var/run/docker.sock
  echo "using the engine on /var/run/docker.sock"
else
  export DOCKER_HOST=$(scripts/dockerd.sh start "$ENGINE_DIR")
  started_engine=1
  echo "no engine answered on /var/run/docker.sock: started a private dockerd in $ENGINE_DIR"
fi
"$docker" version --format 'engine {{.Server.Version}}'

step "busybox image"
if "$docker" image inspect busybox >/dev/null 2>&1; then
  echo "busybox is there"
else
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  mkdir -p "$root/bin" "$root/tmp" "$root/etc"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  tar -C "$root" -c . | "$docker" import -c 'CMD ["sh"]' - busybox >/dev/null
  echo "imported busybox from $(readlink -f /bin/busybox)"
fi

step "plugin"
pkg="$BUILD_DIR/plugin"
plugin/package.sh "$pkg" "$BUILD_DIR" >/dev/null
# Mount sources must exist: the log root, and kubelet's pod logs directory (the `pods` mount;
# empty on a node without kubelet).
mkdir -p "$LOG_ROOT" /var/log/pods
if "$docker" plugin inspect logguard >/dev/null 2>&1; then
  users=$("$docker" ps -aq --filter label=logguard-demo)
  [ -z "$users" ] || "$docker" rm -f $users >/dev/null
  "$docker" plugin disable -f logguard >/dev/null 2>&1 || true
  "$docker" plugin rm -f logguard >/dev/null
  echo "removed the older logguard plugin"
fi
"$docker" plugin create logguard "$pkg" >/dev/null
# The `containers` mount (logs follow `docker rm` by it) must be this engine's containers
# directory, not config.json's /var/lib/docker/containers under another data root (a private
# dockerd's): a missing source fails the enable, another engine's would delete nothing.
"$docker" plugin set logguard \
  containers.source="$("$docker" info -f '{{.DockerRootDir}}')/containers"
# --timeout 0: with enable's default of 30 s the engine cuts `docker logs -f` after 30 s.
"$docker" plugin enable --timeout 0 logguard >/dev/null
"$docker" plugin ls

step "a container logging through logguard"
cid=$("$docker" run -d --label logguard-demo --network none --log-driver logguard \
  --log-opt max-size=1m --log-opt compress=zstd busybox \
  sh -c 'echo "hello from logguard"; echo "a \"quoted\" line with a tab:	end"; echo "to stderr" >&2; seq 1 3')
"$docker" wait "$cid" >/dev/null
file="$LOG_ROOT/$cid/$cid-json.log"
echo "\$ cat $file"
cat "$file"
echo "\$ docker logs ${cid:0:12}"
"$docker" logs "$cid"

step "a flood cut to rate=100k burst=200k (the default is rate=1m burst=10m)"
cid=$("$docker" run -d --label logguard-demo --network none --log-driver logguard \
  --log-opt rate=100k --log-opt burst=200k busybox sh -c 'yes "a noisy line" | head -n 2000000')
"$docker" wait "$cid" >/dev/null
file="$LOG_ROOT/$cid/$cid-json.log"
echo "the container wrote 2,000,000 lines (26,000,000 bytes) in $("$docker" inspect -f \
  '{{.State.StartedAt}} .. {{.State.FinishedAt}}' "$cid");"
echo "$(stat -c %s "$file") bytes are in $file; its last lines:"
echo "\$ docker logs --tail 2 ${cid:0:12}"
"$docker" logs --tail 2 "$cid"

step "done"
echo "logguard is installed and enabled. Use it with:"
echo "  DOCKER_HOST=$DOCKER_HOST docker run --log-driver logguard --log-opt rate=1m ..."
echo "or make it every container's driver in /etc/docker/daemon.json: {\"log-driver\": \"logguard\"}"
if [ -n "$started_engine" ]; then
  echo "The private engine keeps running. Point the docker client at it with:"
  echo "  export DOCKER_HOST=$DOCKER_HOST"
  echo "Stop it with: scripts/dockerd.sh stop $ENGINE_DIR"
fi
