#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*.cc, with Debian's clang, ASan and UBSan) in
# build-fuzz/ and runs each for SECONDS (default 30), then prints per target the
# inputs run, their rate and the crashes found. Exits non-zero on any crash, leak,
# timeout or out-of-memory, or when a target does not run.
#
#   fuzz/run.sh            30 s per target (scripts/test.sh runs a shorter split)
#   fuzz/run.sh 3600       an hour per target: hours in all, on demand
#   FUZZ_JOBS=2 fuzz/run.sh 600      two targets at a time
#   FUZZ_TARGETS="node_ipc options" fuzz/run.sh 300   only these
#
# Seeds come from fuzz/corpus/<target>/ (read only); what a run learns is kept in
# build-fuzz/corpus/<target>/, so the next run starts from there. Crashing inputs are
# written to build-fuzz/artifacts/<target>/; reproduce one with
#   build-fuzz/fuzz/<target> build-fuzz/artifacts/<target>/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
jobs="${FUZZ_JOBS:-1}"
build=build-fuzz
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "usage: fuzz/run.sh [SECONDS]" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: FUZZ_JOBS must be a positive number" >&2; exit 2; }

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for source in fuzz/*.cc; do
    name="${source##*/}"
    targets+=("${name%.cc}")
  done
fi

# The build: quiet unless it fails.
mkdir -p "$build"
if ! { CC=clang CXX=clang++ cmake -S . -B "$build" -DCINIT_FUZZ=ON -DCINIT_BUILD_TESTS=OFF \
         -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$build" --target fuzz_targets -j"${FUZZ_BUILD_JOBS:-2}"; } \
       >"$build/build.log" 2>&1; then
  tail -n 40 "$build/build.log" >&2
  echo "fuzz: the build failed (whole log: $build/build.log)" >&2
  exit 1
fi
mkdir -p "$build/logs"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# Runs one target; writes "execs execs_per_s crashes new_units" to logs/<t>.result.
run_one() {
  local t="$1" bin="$build/fuzz/$1" work="$build/corpus/$1" art="$build/artifacts/$1"
  local log="$build/logs/$1.log" rc=0
  rm -rf "$art"
  mkdir -p "$work" "$art"
  if [ ! -x "$bin" ] || [ ! -d "fuzz/corpus/$t" ]; then
    echo "fuzz: $t has no binary or no fuzz/corpus/$t/ (add it to fuzz/CMakeLists.txt)" >"$log"
    echo "0 0 1 0" >"$build/logs/$t.result"
    return
  fi
  # libFuzzer stops itself after max_total_time; timeout is the bound if it does not.
  timeout -k 10 $((seconds + seconds / 10 + 120)) "$bin" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
    "$work" "fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  local execs rate added crashes
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
  crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
    -o -name 'oom-*' \) | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1  # it died without saying which input did it (killed by timeout?)
    echo "fuzz: $t exited with status $rc" >>"$log"
  fi
  echo "${execs:-0} ${rate:-0} $crashes ${added:-0}" >"$build/logs/$t.result"
}

echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
  rm -f "$build/logs/$t.result"
  while (($(jobs -rp | wc -l) >= jobs)); do
    wait -n || true
  done
  run_one "$t" &
done
wait

total=0
printf '%-20s %12s %10s %8s %10s\n' target execs execs/s crashes new-units
for t in "${targets[@]}"; do
  read -r execs rate crashes added <"$build/logs/$t.result" || { execs=0 rate=0 crashes=1 added=0; }
  printf '%-20s %12s %10s %8s %10s\n' "$t" "$execs" "$rate" "$crashes" "$added"
  total=$((total + crashes))
done
if ((total > 0)); then
  for t in "${targets[@]}"; do
    read -r _ _ crashes _ <"$build/logs/$t.result" || crashes=1
    if ((crashes > 0)); then
      echo "---- $t ($build/logs/$t.log; inputs in $build/artifacts/$t/)"
      pattern='ERROR: |runtime error|FUZZ_CHECK|terminate called|^fuzz:'
      if grep -q -E "$pattern" "$build/logs/$t.log"; then
        grep -E -A 25 "$pattern" "$build/logs/$t.log" | head -n 60 || true
      else
        tail -n 30 "$build/logs/$t.log"
      fi
    fi
  done
  echo "fuzz: $total crash(es)" >&2
  exit 1
fi
echo "fuzz: no crashes"
