#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine, as root: installs what is
# needed (apt), builds, then runs the unit tests and the end-to-end suite,
# which starts its own private Docker engine; then the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer and ThreadSanitizer
# (scripts/sanitize.sh), and every fuzz target for FUZZ_SECONDS from its seed
# corpus (scripts/fuzz.sh). Arguments go to the first ctest.
# Environment: BUILD_DIR (build), SANITIZE (1; 0 skips the sanitizer runs),
# FUZZ_SECONDS (15 per target, two targets at a time; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
SANITIZE=${SANITIZE:-1}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
scripts/deps.sh
# Minimal debug info (-g1: functions and lines, enough for a backtrace): full
# -g made the build ~30 % slower, and CI's time is mostly builds.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
# The unit tests in parallel; e2e (RUN_SERIAL) runs alone.
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 1500 -j"$(nproc)" "$@")
if [[ $SANITIZE != 0 ]]; then scripts/sanitize.sh; fi
if [[ $FUZZ_SECONDS != 0 ]]; then scripts/fuzz.sh "$FUZZ_SECONDS"; fi
