#!/usr/bin/env bash
# Installs what building, installing and testing logguard need, from Debian's
# packages. Idempotent: does nothing when everything is there.
set -euo pipefail

packages=(
  cmake g++ make pkg-config ccache
  libboost-dev nlohmann-json3-dev libprotobuf-dev protobuf-compiler libspdlog-dev
  zlib1g-dev libzstd-dev libdeflate-dev libre2-dev libgtest-dev libgmock-dev libbenchmark-dev
  prometheus-cpp-dev prometheus docker-registry
  docker.io busybox-static python3 zstd gzip procps rsyslog
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
