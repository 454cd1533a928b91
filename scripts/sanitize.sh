#!/usr/bin/env bash
# Runs the unit tests under sanitizers, as CI does (scripts/test.sh):
#  - asan: every unit test under AddressSanitizer (leaks included) and
#    UndefinedBehaviorSanitizer, in build-asan. That build also carries
#    libFuzzer's coverage, so scripts/fuzz.sh builds its targets there.
#  - tsan: the threaded tests (Driver*, Session*, LogFile*, Compressor*,
#    *Reader*, Http*, PluginApi*, the reader's follow tests, LogWatch*,
#    ThreadRegistry*) under ThreadSanitizer, in build-tsan.
# clang 14, -O1, line tables only: the reports still name files and lines,
# and full debug info made the builds ~10 % slower. Each test runs in a
# process of its own (ctest), so a failure names its test and shows the
# sanitizer's report with stacks.
#
# Usage: scripts/sanitize.sh [asan] [tsan]     (default: both)
# Environment: ASAN_BUILD_DIR, TSAN_BUILD_DIR, JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
TSAN_BUILD_DIR=${TSAN_BUILD_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}
# The suites that run threads: the list above, plus the reader's follow tests
# (FollowRotationTest, MissedRotationTest), LogWatch and ThreadRegistry.
THREADED_TESTS='^(Driver|Session|LogFile|Compressor|Http|PluginApi|LogWatch|ThreadRegistry)'
THREADED_TESTS+='|Reader|/(Follow|Missed)Rotation'
# Not under UBSan: this test runs the process out of file descriptors, and
# UBSan's vptr check needs a pipe for its slow path (without one it reports
# valid objects as having bad vptrs). It runs in the plain and TSan builds.
NOT_UNDER_UBSAN='AcceptBacksOffWhileOutOfDescriptors'

# Configures a clang build with the given sanitizers (same arguments as scripts/fuzz.sh).
configure() {
  local dir=$1 sanitizers=$2 fuzz=$3
  cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DLOGGUARD_SANITIZE="$sanitizers" \
    -DLOGGUARD_FUZZ="$fuzz" >/dev/null
}

run_asan() {
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer ($ASAN_BUILD_DIR)"
  configure "$ASAN_BUILD_DIR" address,undefined ON
  cmake --build "$ASAN_BUILD_DIR" -j"$JOBS" --target unit_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$ASAN_BUILD_DIR" -L unit -E "$NOT_UNDER_UBSAN" -j"$JOBS" --timeout 300 \
      --output-on-failure
}

run_tsan() {
  echo "== threaded unit tests under ThreadSanitizer ($TSAN_BUILD_DIR)"
  configure "$TSAN_BUILD_DIR" thread OFF
  cmake --build "$TSAN_BUILD_DIR" -j"$JOBS" --target unit_tests
  # clang 14's TSan cannot map its shadow memory under the widest address
  # randomisation some kernels use; without randomisation it always can.
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    setarch "$(uname -m)" -R \
    ctest --test-dir "$TSAN_BUILD_DIR" -L unit -R "$THREADED_TESTS" -j"$JOBS" --timeout 600 \
      --output-on-failure
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
