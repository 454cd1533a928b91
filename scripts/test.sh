#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine, as root: installs what is
# needed (apt), builds, then runs the unit tests and the end-to-end suite,
# which starts its own private Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
scripts/deps.sh
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 1500 "$@"
