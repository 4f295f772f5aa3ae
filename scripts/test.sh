#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds with warnings as errors, and runs
# the unit tests (doctest) and the integration tests (real static binary as PID 1);
# then the sanitizer run (scripts/sanitize.sh) and the fuzz targets (fuzz/run.sh).
# Integration tests need root (or unprivileged user namespaces) for unshare.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# Other Node majors (npm registry) for the cluster tests, next to the installed node.
tests/integration/node_majors.sh 22 24 >/dev/null
# A Prometheus text-format parser (npm) for the /metrics test.
[ -d tests/integration/.npm/node_modules/parse-prometheus-text-format ] ||
  npm install --prefix tests/integration/.npm --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error parse-prometheus-text-format@1.1.1 >/dev/null
# npm 11 and express (npm registry, pinned) for the third-party servers' test (test_third_party).
[ -f tests/integration/.npm-third-party/node_modules/express/package.json ] &&
  [ -f tests/integration/.npm-third-party/node_modules/npm/package.json ] ||
  npm install --prefix tests/integration/.npm-third-party --no-save --no-package-lock --no-audit \
    --no-fund --loglevel=error npm@11.19.1 express@4.21.2 >/dev/null
scripts/build.sh -DCMAKE_COMPILE_WARNING_AS_ERROR=ON
# The same tree with Debian's clang, warnings as errors; its unit tests run too.
CC=clang CXX=clang++ cmake -S . -B build-clang -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >/dev/null
cmake --build build-clang -j"$(nproc)" >/dev/null
ctest --test-dir build-clang -L unit -j2 --output-on-failure | tail -n 3
ctest --test-dir build --output-on-failure -j2 "$@"
# The same tests with ASan + UBSan (a dynamic cinit in build-asan/), then every fuzz
# target briefly (fuzz/run.sh; run it for longer by hand). CINIT_SANITIZE=0 and
# CINIT_FUZZ_SECONDS=0 leave them out.
[ "${CINIT_SANITIZE:-1}" = 0 ] || scripts/sanitize.sh
[ "${CINIT_FUZZ_SECONDS:-10}" = 0 ] || FUZZ_JOBS=2 fuzz/run.sh "${CINIT_FUZZ_SECONDS:-10}"
