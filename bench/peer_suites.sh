#!/usr/bin/env bash
# Runs tini's and dumb-init's own test suites against cinit, black-box, with cinit in
# the peer's place: as a plain child (a copy of cinit named tini / dumb-init first on
# PATH) and as PID 1 of a fresh PID namespace (bench/peers/pid1_launch.py under that
# name, which execs the copy there).
#
#   bench/peer_suites.sh PEERS_DIR [--cinit PATH] [--mode plain|pid1|both] [--only tini|dumb-init]
#
# PEERS_DIR holds checkouts of the two repositories as PEERS_DIR/tini (krallin/tini) and
# PEERS_DIR/dumb-init (Yelp/dumb-init). This script fetches nothing and builds nothing
# of theirs, and copies nothing of theirs: their suites run from their checkouts. A
# suite whose checkout is missing is reported as not run. --cinit may name any init
# (e.g. /usr/bin/dumb-init, to check the harness against the peer itself). Needs root
# (namespaces) and Debian's python3-pytest, python3-pytest-timeout, python3-psutil,
# python3-prctl (installed with apt-get when missing).
#
# Each suite runs in a PID namespace of its own (bench/peers/ns_reaper.py as its PID 1)
# under `timeout` (TINI_TIMEOUT, DUMB_INIT_TIMEOUT: 900 s each), so nothing it starts
# outlives it. Full output: PEER_LOGS (default bench/out/peers/), SUITE-MODE.log.
#
# Prints the failures and, last, one line per suite and mode:
#   tini (plain): N passed, M failed
#   dumb-init (pid1): M failed, N passed
# Which failures are expected, and why, is in bench/README.md ("The peers' suites").
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

peers=""
cinit="$repo/build/cinit"
mode=both
only=""
while (($#)); do
  case "$1" in
    --cinit) cinit=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "peer_suites.sh: unknown option $1" >&2; exit 2 ;;
    *) peers=$1; shift ;;
  esac
done
[[ -n "$peers" ]] || { echo "usage: bench/peer_suites.sh PEERS_DIR [--cinit PATH] [--mode plain|pid1|both]" >&2; exit 2; }
peers=$(readlink -f "$peers")
cinit=$(readlink -f "$cinit")
[[ -x "$cinit" ]] || { echo "peer_suites.sh: $cinit is not executable (scripts/build.sh)" >&2; exit 2; }
case "$mode" in plain) modes=(plain) ;; pid1) modes=(pid1) ;; both) modes=(plain pid1) ;;
  *) echo "peer_suites.sh: --mode plain|pid1|both" >&2; exit 2 ;; esac

# Debian's interpreter, not whatever python3 comes first on PATH: the suites need the
# modules apt installs.
py=/usr/bin/python3
need=()
$py -c 'import pytest' 2>/dev/null || need+=(python3-pytest)
$py -c 'import pytest_timeout' 2>/dev/null || need+=(python3-pytest-timeout)
$py -c 'import psutil' 2>/dev/null || need+=(python3-psutil)
$py -c 'import prctl' 2>/dev/null || need+=(python3-prctl)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/cinit-peers.XXXXXX)
trap 'rm -rf "$work"' EXIT
logs=${PEER_LOGS:-$repo/bench/out/peers}
mkdir -p "$logs"
summary=()

# DIR/bin goes first on PATH: python and python3 (Debian's), and the peer's names.
# DIR/real/NAME is a copy of the binary under test, so that even a test that resolves
# the path it runs (realpath) starts it under the peer's name. Plain mode: bin/NAME
# links to it. PID-1 mode: bin/NAME is a copy of the launcher, which execs real/NAME.
make_bin() {  # make_bin MODE DIR
  local m=$1 dir=$2
  mkdir -p "$dir/bin" "$dir/real"
  ln -sf "$py" "$dir/bin/python3"
  ln -sf "$py" "$dir/bin/python"
  for name in tini dumb-init; do
    cp "$cinit" "$dir/real/$name"
    if [[ $m == plain ]]; then
      ln -sf "$dir/real/$name" "$dir/bin/$name"
    else
      cp "$repo/bench/peers/pid1_launch.py" "$dir/bin/$name"
    fi
  done
}

# One suite in one mode, bounded, as the child of bench/peers/ns_reaper.py, PID 1 of a
# PID namespace of its own: whatever the suite leaves running dies with it.
run_suite() {  # run_suite LOG TIMEOUT_S DIR COMMAND...
  local log=$1 limit=$2 dir=$3; shift 3
  (cd "$dir" && PATH="$path" PYTHONDONTWRITEBYTECODE=1 timeout -k 10 "$limit" \
    unshare --pid --fork --mount-proc --kill-child \
    $py "$repo/bench/peers/ns_reaper.py" -- "$@") >"$log" 2>&1
  local rc=$?
  ((rc == 124 || rc == 137)) && echo "peer_suites.sh: timed out after ${limit}s" >>"$log"
  return 0
}

for m in "${modes[@]}"; do
  make_bin "$m" "$work/$m"
  export PEER_PID1_REAL="$work/$m/real"
  path="$work/$m/bin:$PATH"

  if [[ -z "$only" || "$only" == tini ]]; then
    if [[ -d "$peers/tini/test" ]]; then
      echo "== tini's suite ($m)"
      log="$logs/tini-$m.log"
      run_suite "$log" "${TINI_TIMEOUT:-900}" "$peers/tini" \
        $py "$repo/bench/peers/tini_suite.py" --tini-src "$peers/tini" --real-exe "$work/$m/real/tini"
      grep -E '^(FAIL|tini:|peer_suites.sh:)' "$log"
      line=$(grep -E '^tini: ' "$log" | tail -1 | sed 's/^tini: //')
      summary+=("tini ($m): ${line:-no summary (see $log)}")
    else
      summary+=("tini ($m): not run ($peers/tini/test is missing)")
    fi
  fi

  if [[ -z "$only" || "$only" == dumb-init ]]; then
    if [[ -d "$peers/dumb-init/tests" ]]; then
      echo "== dumb-init's suite ($m)"
      log="$logs/dumb-init-$m.log"
      # From the checkout: the tests import its testing/ package and read its VERSION.
      run_suite "$log" "${DUMB_INIT_TIMEOUT:-900}" "$peers/dumb-init" \
        env PYTHONPATH="$repo/bench/peers" $py -m pytest tests -q -rfE -p no:cacheprovider -p suite_hygiene
      grep -E '^(FAILED|ERROR|peer_suites.sh:)' "$log"
      line=$(grep -E '(passed|failed|error).* in [0-9.]+s' "$log" | tail -1 |
        sed -E 's/^=+ //; s/ in [0-9.]+s.*//')
      summary+=("dumb-init ($m): ${line:-no summary (see $log)}")
    else
      summary+=("dumb-init ($m): not run ($peers/dumb-init/tests is missing)")
    fi
  fi
done

echo "== summary (cinit: $cinit)"
printf '%s\n' "${summary[@]}"
