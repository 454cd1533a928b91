#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang 14, AddressSanitizer +
# UndefinedBehaviorSanitizer, in the build scripts/sanitize.sh uses) and runs
# each for SECONDS, two at a time. Target <name>_fuzz starts from its
# committed seed corpus tests/fuzz/corpus/<name>/; what a run discovers stays
# in <build>/fuzz/<name>_fuzz/corpus. Fails on any crash, leak, timeout, memory
# blow-up or sanitizer report, printing the report and the input that caused
# it. Such an input belongs in tests/fuzz/corpus/<name>/ (so every later run
# replays it) and in a unit test.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]    (default: 60 s, every target)
# Environment: ASAN_BUILD_DIR (default build-asan), JOBS (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${1:-60}
shift || true
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}

targets=("$@")
if ((${#targets[@]} == 0)); then
  for src in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi

# Same configuration as scripts/sanitize.sh's asan build.
cmake -S . -B "$BUILD_DIR" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DLOGGUARD_SANITIZE=address,undefined \
  -DLOGGUARD_FUZZ=ON >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${targets[@]}"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Runs one target; its output goes to <work>/log, its verdict to <work>/status.
run_target() {
  local name=$1 work=$BUILD_DIR/fuzz/$1 seeds=tests/fuzz/corpus/${1%_fuzz}
  rm -rf "$work/artifacts" && mkdir -p "$work/corpus" "$work/artifacts"
  local status=0
  "$BUILD_DIR/$name" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
    "$work/corpus" "$seeds" >"$work/log" 2>&1 || status=$?
  echo "$status" >"$work/status"
}

running=0
for name in "${targets[@]}"; do
  if ((running >= 2)); then
    wait -n || true
    running=$((running - 1))
  fi
  run_target "$name" &
  running=$((running + 1))
done
wait

failed=()
for name in "${targets[@]}"; do
  work=$BUILD_DIR/fuzz/$name
  runs=$(grep -o 'number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo '?')
  edges=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | grep -o '[0-9]*$' || echo '?')
  if [[ $(cat "$work/status") == 0 ]]; then
    echo "fuzz $name: ok, $runs runs in ${SECONDS_PER_TARGET}s, $edges edges covered"
  else
    failed+=("$name")
    echo "fuzz $name: FAILED (exit $(cat "$work/status")) after $runs runs; its report:"
    grep -v '^#' "$work/log" | tail -60
    for input in "$work"/artifacts/*; do
      [[ -e $input ]] || continue
      echo "  input: $input  (add it to tests/fuzz/corpus/${name%_fuzz}/ and to a unit test)"
    done
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]}" >&2
  exit 1
fi
