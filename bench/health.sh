#!/usr/bin/env bash
# Probe benchmark: /livez latency of `cinit -i 16 --health` while idle and while a rolling
# reload runs, and cinit's RSS with the health server on and 16 workers. One run; figures
# on stdout and in bench/out/health-results.md. Loopback only; everything started is
# ended by PID on exit.
#   WORKERS=16 PROBES=500 bash bench/health.sh
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
OUT=$BENCH/out
mkdir -p "$OUT"
WORKERS=${WORKERS:-16}
PROBES=${PROBES:-500}
[ "$(id -u)" = 0 ] || { echo "run as root (unshare)" >&2; exit 1; }

B=$OUT/build-health
cmake -S "$REPO" -B "$B" -DCMAKE_BUILD_TYPE=MinSizeRel -DCINIT_BUILD_TESTS=OFF >/dev/null
cmake --build "$B" -j2 --target cinit >/dev/null
CINIT=$B/cinit

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
HEALTH=$(free_port)
LOG=$OUT/health-cinit.log
TOP=""
cleanup() { [ -n "$TOP" ] && kill -TERM "$TOP" 2>/dev/null; sleep 0.5; [ -n "$TOP" ] && kill -KILL "$TOP" 2>/dev/null; return 0; }
trap cleanup EXIT

PORT=$PORT unshare --pid --fork --mount-proc --kill-child "$CINIT" -v -i "$WORKERS" \
  --control none --status-file none --health "127.0.0.1:$HEALTH" \
  node "$REPO/examples/node-pm2/server.js" >"$LOG" 2>&1 &
TOP=$!
deadline=$((SECONDS + 60))
until [ "$(grep -c 'is online' "$LOG" || true)" -ge "$WORKERS" ]; do
  [ $SECONDS -lt $deadline ] || { echo "workers did not come online" >&2; exit 1; }
  sleep 0.2
done
INIT=$(pgrep -P "$TOP" | head -1)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$INIT/status")
anon=$(awk '/^RssAnon/ {print $2}' "/proc/$INIT/status")

idle=$(python3 "$BENCH/health/probe.py" "$HEALTH" "$PROBES")
# Reloads back to back while probing: each SIGHUP once the previous rollout is done.
reloads=0
(
  while :; do
    before=$(grep -c 'reload done' "$LOG" || true)
    kill -HUP "$INIT" 2>/dev/null || exit 0
    until [ "$(grep -c 'reload done' "$LOG" || true)" -gt "$before" ]; do sleep 0.05; done
  done
) &
RELOADER=$!
until grep -q 'rolling reload of' "$LOG"; do sleep 0.01; done
during=$(python3 "$BENCH/health/probe.py" "$HEALTH" "$PROBES")
done_while_probing=$(grep -c 'reload done' "$LOG" || true)
kill "$RELOADER" 2>/dev/null || true
wait "$RELOADER" 2>/dev/null || true
reloads=$(grep -c 'rolling reload of' "$LOG" || true)

{
  echo "# /livez latency and RSS, cinit -i $WORKERS --health"
  echo
  echo "$(date -u +'%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), cinit $(stat -c %s "$CINIT") bytes, node $(node --version)"
  echo
  echo "| | value |"
  echo "|---|---|"
  echo "| /livez, idle (new connection each, $PROBES probes) | $idle |"
  echo "| /livez, during rolling reloads ($reloads started, $done_while_probing finished while probing) | $during |"
  echo "| cinit VmRSS with --health and $WORKERS workers online | $rss KiB (RssAnon $anon KiB) |"
} | tee "$OUT/health-results.md"
