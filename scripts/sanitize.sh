#!/usr/bin/env bash
# The sanitizer run: builds cinit, its unit tests and its integration helpers with
# Debian's clang and ASan + UBSan (-fno-sanitize-recover=all) in build-asan/, then runs
# every test of that tree (unit, meta, integration, shim) against build-asan/cinit.
# ASan cannot link statically, so that cinit is dynamic (CINIT_STATIC=OFF); the tests
# that need a static cinit are skipped, by name, with their reason printed below.
#
# LeakSanitizer stays on for all of it, integration tests included: it works in PID 1
# of a PID namespace (it runs at cinit's normal exit, before the namespace goes away).
# Reports go to files in build-asan/sanitizer-logs/ (stderr belongs to the tests); any
# report fails the run, even one from a test that passed.
# Extra arguments go to ctest (e.g. -R integration.signals).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-asan
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
mkdir -p "$build"
if ! { CC=clang CXX=clang++ cmake -S . -B "$build" -DCINIT_STATIC=OFF \
         -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS=$flags" &&
       cmake --build "$build" -j"${SANITIZE_BUILD_JOBS:-2}"; } >"$build/build.log" 2>&1; then
  tail -n 40 "$build/build.log" >&2
  echo "sanitize: the build failed (whole log: $build/build.log)" >&2
  exit 1
fi
grep -q "dynamically linked" <(file "$build/cinit") ||
  { echo "sanitize: $build/cinit is not dynamic" >&2; exit 1; }
grep -q __asan_init <(nm "$build/cinit") || { echo "sanitize: $build/cinit has no ASan" >&2; exit 1; }

# Tests that cannot work with a dynamic cinit: name and reason.
skips=(
  "integration.empty_root|its chroot holds only cinit and static helpers: no dynamic loader or libc for a dynamic cinit"
  "integration.podman_scratch|its FROM scratch image holds only cinit: no dynamic loader or libc for a dynamic cinit"
)
exclude=""
echo "sanitize: skipping ${#skips[@]} test(s) that need a static cinit:"
for entry in "${skips[@]}"; do
  echo "  ${entry%%|*}: ${entry#*|}"
  exclude+="${exclude:+|}${entry%%|*}"
done
exclude="^(${exclude//./\\.})\$"

logs="$PWD/$build/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"

rc=0
ctest --test-dir "$build" -E "$exclude" -j2 --output-on-failure "$@" >"$build/ctest.log" 2>&1 || rc=$?
if ((rc != 0)); then
  cat "$build/ctest.log"
else
  sed -n '/tests passed/,$p' "$build/ctest.log"
fi
reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  for report in $reports; do
    echo "---- $report"
    head -n 60 "$report"
  done
  echo "sanitize: $(echo "$reports" | wc -l) sanitizer report(s)" >&2
  exit 1
fi
if ((rc != 0)); then
  echo "sanitize: tests failed under ASan+UBSan" >&2
  exit "$rc"
fi
run=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$build/ctest.log")
echo "sanitize: ${run:-?} tests passed under ASan+UBSan, ${#skips[@]} skipped, no sanitizer reports"
