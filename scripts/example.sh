#!/usr/bin/env bash
# Builds cinit and runs an example under it as PID 1 of a fresh PID namespace.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh --build-only
scripts/build.sh
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
set +e
$sudo unshare --pid --fork --mount-proc build/cinit -v -- sh examples/orphans.sh
echo "example: cinit exited with $? (the example's own status)"
