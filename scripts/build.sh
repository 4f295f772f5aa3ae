#!/usr/bin/env bash
# Builds the static build/cinit (MinSizeRel, the default build type set in
# CMakeLists.txt). The one build path: the README, the tests, the example and
# docker/Dockerfile all go through here. Extra arguments go to cmake's
# configure step (scripts/test.sh adds -DCMAKE_COMPILE_WARNING_AS_ERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build "$@"
cmake --build build -j"$(nproc)"
file build/cinit | grep -q "statically linked" || { echo "build/cinit is not static" >&2; exit 1; }
