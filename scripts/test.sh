#!/usr/bin/env bash
# Runs every test on a fresh Debian 12 machine, as root: installs what is
# needed (apt), builds, then runs the unit tests, the end-to-end suite and the
# chaos soak (both start their own private Docker engine), the unit tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer and
# ThreadSanitizer (scripts/sanitize.sh), and every fuzz target for
# FUZZ_SECONDS from its seed corpus (scripts/fuzz.sh). Arguments go to the
# ctest runs.
#
# The sanitizer builds and runs go on beside the engine-driven suites, at
# nice 1: the builds are most of CI's time and the suites mostly wait on the
# engine, and both must pass on a busy machine anyway. Niced, the plugin's
# compressor counts their CPU as spare, as it would any batch work an
# operator nices, so a suite that waits for compression does not wait for the
# builds (e2e 620 s instead of ~790 s). Nice 1, not 19: at 19 the builds got
# almost no CPU beside the suites and CI took 35 minutes instead of ~25.
# Their output is printed when they are done.
# Environment: BUILD_DIR (build), SANITIZE (1; 0 skips the sanitizer runs),
# FUZZ_SECONDS (15 per target, two targets at a time; 0 skips fuzzing),
# SOAK_MINUTES (2).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
SANITIZE=${SANITIZE:-1}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
export SOAK_MINUTES=${SOAK_MINUTES:-2}
scripts/deps.sh
# Minimal debug info (-g1: functions and lines, enough for a backtrace): full
# -g made the build ~30 % slower, and CI's time is mostly builds.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 300 -j"$(nproc)" -L unit "$@")

sanitize_log=$BUILD_DIR/sanitize.log
sanitize_pid=
if [[ $SANITIZE != 0 ]]; then
  echo "== the sanitizer builds and runs go on beside the engine's suites ($sanitize_log)"
  nice -n 1 scripts/sanitize.sh >"$sanitize_log" 2>&1 &
  sanitize_pid=$!
fi
engine_status=0
(cd "$BUILD_DIR" && ctest --output-on-failure --timeout 1500 -L e2e "$@") || engine_status=$?
sanitize_status=0
if [[ -n $sanitize_pid ]]; then
  wait "$sanitize_pid" || sanitize_status=$?
  cat "$sanitize_log"
fi
if ((engine_status != 0 || sanitize_status != 0)); then
  echo "FAILED: end-to-end suite or soak: exit $engine_status; sanitizers: exit $sanitize_status"
  exit 1
fi
if [[ $FUZZ_SECONDS != 0 ]]; then scripts/fuzz.sh "$FUZZ_SECONDS"; fi
