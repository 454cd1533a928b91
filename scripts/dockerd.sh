#!/usr/bin/env bash
# A private Docker engine in DIR, so tests and demos never collide with
# another engine on the machine:
#   scripts/dockerd.sh start DIR   start it (data-root, exec-root, socket, pidfile, log under DIR);
#                                  prints its DOCKER_HOST once `docker version` answers
#   scripts/dockerd.sh stop DIR    stop it, its containerd, shims and containers; unmount leftovers
#   scripts/dockerd.sh env DIR     print `export DOCKER_HOST=...` (eval "$(scripts/dockerd.sh env DIR)")
#   scripts/dockerd.sh host DIR    print its DOCKER_HOST
# Environment: DOCKERD_STORAGE_DRIVER (default: the engine's own choice, overlay2 where the
# filesystem under DIR supports it, else vfs), DOCKERD_EXTRA_ARGS (more dockerd flags).
#
# Flags: no bridge, no iptables, no masquerading: containers run with --network none, and the
# engine leaves the machine's network alone. Works with cgroup v1 (cgroupfs) and v2.
set -euo pipefail

cmd=${1:?usage: dockerd.sh start|stop|env|host DIR}
dir=${2:?usage: dockerd.sh start|stop|env|host DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/docker.sock"
host="unix://$sock"
pidfile="$dir/dockerd.pid"
docker=/usr/bin/docker   # the engine's own client; a newer one may come first on PATH
[ -x "$docker" ] || docker=docker

alive() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# PIDs of this engine's daemons (dockerd, containerd, shims: their command lines name DIR)
# and of all their descendants (the containers' processes): only what this engine started.
engine_pids() {
  local roots=() pid exe
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case "${exe##*/}" in
      dockerd|containerd|containerd-shim*|runc|docker-proxy) ;;
      *) continue ;;
    esac
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$dir/"; then roots+=("$pid"); fi
  done
  ((${#roots[@]})) || return 0
  # Descendants, breadth first, from the parent links in /proc/*/stat.
  local all=("${roots[@]}") frontier=("${roots[@]}") next ppid
  while ((${#frontier[@]})); do
    next=()
    for p in /proc/[0-9]*; do
      pid=${p#/proc/}
      ppid=$(awk '{sub(/.*\) /, ""); print $2}' "$p/stat" 2>/dev/null) || continue
      for f in "${frontier[@]}"; do
        if [ "$ppid" = "$f" ]; then next+=("$pid"); all+=("$pid"); break; fi
      done
    done
    frontier=("${next[@]+"${next[@]}"}")
  done
  printf '%s\n' "${all[@]}" | sort -un
}

case "$cmd" in
  host)
    echo "$host"
    ;;
  env)
    echo "export DOCKER_HOST=$host"
    ;;
  start)
    if alive && "$docker" -H "$host" version >/dev/null 2>&1; then echo "$host"; exit 0; fi
    args=(--data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" -H "$host"
          --iptables=false --ip-masq=false --bridge=none --userland-proxy=false)
    [ -n "${DOCKERD_STORAGE_DRIVER:-}" ] && args+=(--storage-driver "$DOCKERD_STORAGE_DRIVER")
    # shellcheck disable=SC2206
    [ -n "${DOCKERD_EXTRA_ARGS:-}" ] && args+=($DOCKERD_EXTRA_ARGS)
    setsid /usr/sbin/dockerd "${args[@]}" >>"$dir/dockerd.log" 2>&1 </dev/null &
    echo $! >"$dir/dockerd.launched"
    for _ in $(seq 1 240); do
      if "$docker" -H "$host" version >/dev/null 2>&1; then echo "$host"; exit 0; fi
      kill -0 "$(cat "$dir/dockerd.launched")" 2>/dev/null || break
      sleep 0.25
    done
    echo "dockerd did not start; the end of $dir/dockerd.log:" >&2
    tail -n 30 "$dir/dockerd.log" >&2
    "$0" stop "$dir" || true
    exit 1
    ;;
  stop)
    pid=""
    if [ -f "$pidfile" ]; then pid=$(cat "$pidfile")
    elif [ -f "$dir/dockerd.launched" ]; then pid=$(cat "$dir/dockerd.launched"); fi
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      # SIGTERM: dockerd stops its containers and plugins, then containerd.
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    # Whatever is left: containerd, shims (reparented to init) and their containers.
    left=$(engine_pids)
    if [ -n "$left" ]; then
      # shellcheck disable=SC2086
      kill -TERM $left 2>/dev/null || true
      sleep 1
      left=$(engine_pids)
      # shellcheck disable=SC2086
      [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    fi
    # Mounts left under DIR (overlays, shm, netns, plugin rootfs, propagated binds), deepest first.
    for _ in 1 2 3; do
      mounts=$(awk -v d="$dir/" 'index($2, d) == 1 || $2 == substr(d, 1, length(d) - 1) {print $2}' /proc/mounts | sort -r)
      [ -n "$mounts" ] || break
      while read -r m; do
        m=$(printf '%b' "$m")   # /proc/mounts escapes spaces as \040
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
      done <<<"$mounts"
    done
    rm -f "$dir/dockerd.launched"
    ;;
  *)
    echo "usage: dockerd.sh start|stop|env|host DIR" >&2
    exit 2
    ;;
esac
