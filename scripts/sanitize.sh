#!/usr/bin/env bash
# Runs the unit tests under sanitizers, as CI does (scripts/test.sh):
#  - asan: every unit test under AddressSanitizer (leaks included) and
#    UndefinedBehaviorSanitizer, in build-asan. That build also carries
#    libFuzzer's coverage, so scripts/fuzz.sh builds its targets there.
#  - tsan: the tests of what runs threads (CMake's threaded_unit_tests: the
#    driver, sessions, log files, compressor, write-back, node guard,
#    readers, servers, LogWatch, ThreadRegistry) under ThreadSanitizer, in
#    build-tsan.
# clang 14, -O1, line tables only: the reports still name files and lines,
# and full debug info made the builds ~10 % slower. The tests run as JOBS
# gtest shards, a process each (run_shards): a process per test, as ctest
# runs them, spent most of the ASan run's 4 minutes starting processes. A
# failing shard's output is printed whole: gtest names the test that failed
# or was running when a sanitizer stopped the process; leaks are reported
# when a shard exits, with the stacks that allocated them.
#
# Usage: scripts/sanitize.sh [asan] [tsan]     (default: both)
# Environment: ASAN_BUILD_DIR, TSAN_BUILD_DIR, JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
TSAN_BUILD_DIR=${TSAN_BUILD_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}
# Not under UBSan: this test runs the process out of file descriptors, and
# UBSan's vptr check needs a pipe for its slow path (without one it reports
# valid objects as having bad vptrs). It runs in the plain and TSan builds.
NOT_UNDER_UBSAN='*.AcceptBacksOffWhileOutOfDescriptors*'

# Configures a clang build with the given sanitizers (same arguments as scripts/fuzz.sh).
configure() {
  local dir=$1 sanitizers=$2 fuzz=$3
  cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DLOGGUARD_SANITIZE="$sanitizers" \
    -DLOGGUARD_FUZZ="$fuzz" >/dev/null
}

# Runs the test binary as JOBS shards in parallel, with the gtest filter
# given; prints the output of every shard that failed. Extra arguments go
# before the binary (e.g. setarch).
run_shards() {
  local binary=$1 filter=$2 dir
  dir=$(dirname "$binary")
  shift 2
  local pids=() status=0 i
  for ((i = 0; i < JOBS; i++)); do
    GTEST_TOTAL_SHARDS=$JOBS GTEST_SHARD_INDEX=$i \
      "$@" "$binary" --gtest_filter="$filter" --gtest_brief=1 >"$dir/shard-$i.log" 2>&1 &
    pids+=($!)
  done
  for ((i = 0; i < JOBS; i++)); do
    if wait "${pids[$i]}"; then
      grep -h '^\[  PASSED  \]' "$dir/shard-$i.log" | sed "s/^/shard $i: /"
    else
      echo "== shard $i of $JOBS FAILED; its output:"
      cat "$dir/shard-$i.log"
      status=1
    fi
  done
  return $status
}

run_asan() {
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer ($ASAN_BUILD_DIR)"
  configure "$ASAN_BUILD_DIR" address,undefined ON
  # Everything, the fuzz targets too: CI builds them here, beside the engine's
  # suites, so scripts/fuzz.sh after them only runs them.
  cmake --build "$ASAN_BUILD_DIR" -j"$JOBS"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_shards "$ASAN_BUILD_DIR/unit_tests" "-$NOT_UNDER_UBSAN"
}

run_tsan() {
  echo "== the threaded code's unit tests under ThreadSanitizer ($TSAN_BUILD_DIR)"
  configure "$TSAN_BUILD_DIR" thread OFF
  cmake --build "$TSAN_BUILD_DIR" -j"$JOBS" --target threaded_unit_tests
  # clang 14's TSan cannot map its shadow memory under the widest address
  # randomisation some kernels use; without randomisation it always can.
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run_shards "$TSAN_BUILD_DIR/threaded_unit_tests" '*' setarch "$(uname -m)" -R
}

steps=("$@")
((${#steps[@]})) || steps=(asan tsan)
for step in "${steps[@]}"; do
  case $step in
    asan) run_asan ;;
    tsan) run_tsan ;;
    *) echo "usage: $0 [asan] [tsan]" >&2; exit 2 ;;
  esac
done
