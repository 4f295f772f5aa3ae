#!/usr/bin/env bash
# Installs what building and testing cinit needs on Debian 12, from Debian's packages.
# --build-only skips what only the tests need. Idempotent: does nothing (and touches no network) when everything is present.
set -euo pipefail

# To build: the toolchain (glibc's static libraries come with libc6-dev) and the libraries.
packages=(build-essential cmake file libfmt-dev nlohmann-json3-dev libseccomp-dev doctest-dev)
# To test: python3 (stdlib only) drives the integration tests; unshare, script, ps, ss (iproute2), tmux;
# podman with runc runs cinit in a FROM scratch image and examples/kubernetes/ as a pod
# (podman kube play builds its pause image from catatonit); musl-gcc builds a musl program
# to prove the bind shim loads under musl.
if [ "${1:-}" != "--build-only" ]; then
  packages+=(python3 python3-yaml util-linux procps iproute2 tmux podman runc catatonit musl-tools)
  # The code must build with Debian 12's clang as well as its gcc (the test suite builds both).
  # libclang-rt-14-dev (only recommended by clang) holds libFuzzer and the ASan/UBSan
  # runtimes: fuzz/run.sh and scripts/sanitize.sh need them; llvm-14 symbolizes reports.
  packages+=(clang libclang-rt-14-dev llvm-14)
  # The cluster tests run real Node apps: Debian's nodejs when no node is installed.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
  # Third-party servers run as cluster workers (test_third_party): Ruby's WEBrick, socat,
  # uvicorn and gunicorn (Debian's python3), flask and nginx (bench/third_party.sh, too).
  packages+=(ruby ruby-webrick socat gunicorn python3-uvicorn python3-flask nginx-light)
  # An unmodified static Go server shares the port through the seccomp filter
  # (test_share_seccomp builds it with Debian's Go).
  packages+=(golang-go)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
