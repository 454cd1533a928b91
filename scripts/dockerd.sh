#!/usr/bin/env bash
# A private Docker engine in DIR, so tests and demos never collide with
# another engine on the machine:
#   scripts/dockerd.sh start DIR   start it (data-root, exec-root, socket, pidfile under DIR)
#   scripts/dockerd.sh stop DIR    stop it and whatever it started
#   scripts/dockerd.sh host DIR    print its DOCKER_HOST
set -euo pipefail

cmd=${1:?usage: dockerd.sh start|stop|host DIR}
dir=${2:?usage: dockerd.sh start|stop|host DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/docker.sock"
host="unix://$sock"
pidfile="$dir/dockerd.pid"

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$cmd" in
  host)
    echo "$host"
    ;;
  start)
    if alive; then echo "$host"; exit 0; fi
    # No bridge or iptables: test containers run with --network none, and
    # this keeps the engine from touching the machine's network setup.
    setsid /usr/sbin/dockerd \
      --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
      -H "$host" --iptables=false --ip-masq=false --bridge=none \
      >"$dir/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 120); do
      if /usr/bin/docker -H "$host" version >/dev/null 2>&1; then echo "$host"; exit 0; fi
      sleep 0.5
    done
    echo "dockerd did not start; its log:" >&2
    tail -n 30 "$dir/dockerd.log" >&2
    exit 1
    ;;
  stop)
    if alive; then
      pid=$(cat "$pidfile")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    # containerd and shims it started, and mounts left under DIR.
    pkill -f "containerd.*$dir/exec" 2>/dev/null || true
    grep " $dir/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
      umount -l "$m" 2>/dev/null || true
    done
    ;;
  *)
    echo "usage: dockerd.sh start|stop|host DIR" >&2
    exit 2
    ;;
esac
