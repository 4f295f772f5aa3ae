#!/usr/bin/env bash
# Seccomp bind interception (issue 9): the filter's cost per system call, a Go
# server's requests/s through the filter vs --listen, and 3 reloads under load.
# Usage: bench/share_seccomp.sh      (as root; Debian 12; bench/README.md)
# Knobs: CINIT=/path/to/cinit, and those of bench/share_seccomp.py.
# Output: markdown on stdout and in bench/out/share-seccomp-results.md; raw output
# in bench/out/share-seccomp-raw/.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
OUT=$BENCH_DIR/out
mkdir -p "$OUT"
"$REPO/scripts/install-deps.sh" >/dev/null
missing=()
for p in wrk apache2-utils golang-go; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ -z "${CINIT:-}" ]; then
  cmake -S "$REPO" -B "$OUT/build-share" >/dev/null
  cmake --build "$OUT/build-share" -j"$(nproc)" >/dev/null
  CINIT=$OUT/build-share/cinit
  HELPERS=$OUT/build-share/tests/integration/helpers
else
  HELPERS=${CINIT_HELPERS:-}
fi
cc -static -O2 -o "$OUT/syscall_loop" "$BENCH_DIR/syscall_loop.c"
CINIT_BIN=$CINIT CINIT_HELPERS=$HELPERS SYSCALL_LOOP=$OUT/syscall_loop \
  python3 "$BENCH_DIR/share_seccomp.py" "$OUT/share-seccomp-results.md" "$OUT/share-seccomp-raw"
