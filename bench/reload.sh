#!/usr/bin/env bash
# Rolling-reload benchmark: cinit's SIGHUP reload vs `pm2 reload` of the same
# pm2-style Node app (bench/reload/app.js), in one run on the same machine.
# Usage: bench/reload.sh         (as root; Debian 12; see bench/README.md "Rolling reload")
# Knobs (environment):
#   CANDIDATES="cinit pm2 pm2-ready"  in table order (pm2-ready: wait_ready,
#                          listen_timeout 3000, kill_timeout 8000, shutdown_with_message)
#   CINIT=/path/to/cinit   use this binary instead of building bench/out/build-reload/cinit
#   RELOADS=10             reloads under load per candidate and variant (part 1)
#   LOAD_WORKERS=2         workers in part 1
#   LOAD_THREADS=8         closed-loop client threads in part 1
#   ROLL_WORKERS=4         workers in parts 2 and 3
#   ROLL_REPS=3            rounds of parts 2 and 3 (one rollout timed idle, one under
#                          the fixed-rate client, per candidate and round)
#   RATE=200               part 3: requests per second, new connection each
#   STEADY=5               part 3: seconds of steady state measured before the reload
#   PM2_UPDATE=1           reinstall pm2@latest even if bench/out/pm2 has one
#   BUDGET=690             seconds; rounds of parts 2/3 are skipped past this
# Output: markdown on stdout and in bench/out/reload-results.md; client summaries,
# reload timestamps and versions in bench/out/reload-raw/, logs (build, pm2 CLI,
# cinit's log with a timestamp per line, pm2's logs) in bench/out/reload-log/.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
HERE=$BENCH_DIR/reload
OUT=$BENCH_DIR/out
RAW=$OUT/reload-raw
LOGD=$OUT/reload-log
RUND=$OUT/reload-run               # control FIFO, log FIFOs, ecosystem files
RESULTS=$OUT/reload-results.md
APP=$HERE/app.js
PM2_PREFIX=$OUT/pm2                # shared with bench/cluster.sh
PM2_JS=$PM2_PREFIX/node_modules/pm2/bin/pm2
PM2_HOME_D=$OUT/pm2-home-reload    # our own daemon home (cluster.sh uses pm2-home)

CANDIDATES=${CANDIDATES:-cinit pm2 pm2-ready}
CINIT=${CINIT:-}
RELOADS=${RELOADS:-10}
LOAD_WORKERS=${LOAD_WORKERS:-2}
LOAD_THREADS=${LOAD_THREADS:-8}
ROLL_WORKERS=${ROLL_WORKERS:-4}
ROLL_REPS=${ROLL_REPS:-3}
RATE=${RATE:-200}
STEADY=${STEADY:-5}
PM2_UPDATE=${PM2_UPDATE:-0}
BUDGET=${BUDGET:-690}

read -r -a CANDS <<<"$CANDIDATES"
START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '[reload %4ss] %s\n' "$(($(date +%s) - START_TS))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
elapsed() { echo $(($(date +%s) - START_TS)); }
has_cand() { local c; for c in "${CANDS[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }
is_pm2() { case $1 in pm2|pm2-ready) return 0 ;; esac; return 1; }
now_ns() { date +%s%N; }

[ "$(id -u)" = 0 ] || die "must run as root (unshare --pid, mount proc, apt-get)"
for c in "${CANDS[@]}"; do case $c in cinit|pm2|pm2-ready) ;; *) die "unknown candidate $c" ;; esac; done
awk '$1 > 0.7 {exit 1}' /proc/loadavg ||
    log "WARNING: load average is $LOAD_START: the machine is busy, expect noisy numbers"

# ---------------------------------------------------------------- process bookkeeping
# (from bench/cluster.sh) One server runs at a time, the "current candidate": TOP (the
# process we launched, or pm2's daemon) and MAIN (the process whose children are the
# workers: cinit's host PID, pm2's God). cinit's output goes through a FIFO to
# stamp.py (STAMP_PID). Load clients in the background are in BG_PIDS. All are ended
# by PID; PIDs are forgotten once reaped or seen gone.
CUR=""; CUR_TOP=""; CUR_MAIN=""; CUR_PORT=""; CUR_OWN=0; CUR_LOG=""; STAMP_PID=""
BG_PIDS=()

# proc_stat PID N: field N of /proc/PID/stat counted from the state (N=1 is field 3).
proc_stat() {
    local line
    line=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    line=${line##*) }
    awk -v f="$2" '{ print $f }' <<<"$line"
}
# ours PID: does PID still run one of the programs we start (guards against reuse)?
ours() {
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    case "$cmd" in *node*|*cinit*|*unshare*|*PM2*|*pm2*|*python*) return 0 ;; esac
    return 1
}
pm2_cli() { # pm2_cli ARGS...: pm2's CLI with our private home, bounded
    PM2_HOME=$PM2_HOME_D timeout -s KILL 90 node "$PM2_JS" "$@" >>"$LOGD/pm2-cli.log" 2>&1
}
pm2_kill() { # stop a daemon that we started in our home, then make sure
    local pid="" kids p
    [ -f "$PM2_HOME_D/pm2.pid" ] && pid=$(cat "$PM2_HOME_D/pm2.pid" 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kids=$(descendants "$pid")
        pm2_cli kill
        # shellcheck disable=SC2086
        if ! wait_gone 5 "$pid" $kids; then
            for p in $kids $pid; do ours "$p" && kill -KILL "$p" 2>/dev/null; done
        fi
    fi
    rm -f "$PM2_HOME_D/pm2.pid"
}
stop_current() {
    [ -n "$CUR" ] || return 0
    local all p
    all="$CUR_TOP $CUR_MAIN $( [ -n "$CUR_MAIN" ] && descendants "$CUR_MAIN")"
    if is_pm2 "$CUR"; then
        # keep pm2's own logs of this launch
        [ -n "$CUR_LOG" ] && mkdir -p "$CUR_LOG" && cp -r "$PM2_HOME_D/logs/." "$PM2_HOME_D/pm2.log" "$CUR_LOG/" 2>/dev/null
        pm2_kill
    elif [ -n "$CUR_MAIN" ] && kill -0 "$CUR_MAIN" 2>/dev/null; then
        kill -TERM "$CUR_MAIN" 2>/dev/null
    elif [ -n "$CUR_TOP" ]; then
        kill -TERM "$CUR_TOP" 2>/dev/null
    fi
    # shellcheck disable=SC2086
    if ! wait_gone 12 $all; then
        log "WARNING: $CUR did not stop within 12 s after SIGTERM; SIGKILL"
        for p in $all; do ours "$p" && kill -KILL "$p" 2>/dev/null; done
        # shellcheck disable=SC2086
        wait_gone 3 $all || log "WARNING: $CUR: processes left: $all"
    fi
    [ "$CUR_OWN" = 1 ] && [ -n "$CUR_TOP" ] && wait "$CUR_TOP" 2>/dev/null
    if [ -n "$STAMP_PID" ]; then # gets EOF once cinit and its workers are gone
        wait_gone 3 "$STAMP_PID" || kill -TERM "$STAMP_PID" 2>/dev/null
        wait "$STAMP_PID" 2>/dev/null
        STAMP_PID=""
    fi
    CUR=""; CUR_TOP=""; CUR_MAIN=""; CUR_PORT=""; CUR_OWN=0; CUR_LOG=""
}
stop_bg() { # stop_bg [SECONDS]: SIGTERM the load clients; they write their summary and exit
    local p t=${1:-20}
    for p in "${BG_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
    done
    for p in "${BG_PIDS[@]}"; do
        wait_gone "$t" "$p" || { log "WARNING: client $p did not end; SIGKILL"; kill -KILL "$p" 2>/dev/null; }
        wait "$p" 2>/dev/null
    done
    BG_PIDS=()
}
cleanup() {
    stop_bg 5
    stop_current
    [ -x "$(command -v node)" ] && [ -f "$PM2_JS" ] && pm2_kill
    return 0
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- dependencies
want curl /usr/bin/curl
want util-linux /usr/bin/unshare
want procps /usr/bin/pgrep
want iproute2 /usr/bin/ss
want python3 /usr/bin/python3
install_wanted
command -v node >/dev/null || die "node not found (Node.js 20 expected at /usr/bin/node)"
PY=/usr/bin/python3

rm -rf "$RAW" "$LOGD" "$RUND"
mkdir -p "$OUT" "$RAW" "$LOGD" "$RUND"

# pm2, from npm, into bench/out/pm2 (kept between runs, shared with cluster.sh).
if has_cand pm2 || has_cand pm2-ready; then
    install_pm2 "$PM2_PREFIX"
    mkdir -p "$PM2_HOME_D"
    pm2_kill # a daemon left over by an interrupted run
fi

# cinit, built in its own build dir (the tree may be mid-edit: one retry after 60 s).
if has_cand cinit; then
    if [ -n "$CINIT" ]; then
        [ -x "$CINIT" ] || die "CINIT=$CINIT is not executable"
    else
        CINIT=$(build_cinit "$OUT/build-reload")
    fi
fi


# pm2-ready's settings, as an ecosystem file (wait_ready and shutdown_with_message
# have no CLI flag that also sets the other; one file keeps them together).
ecosystem() { # ecosystem PORT N -> path
    local f="$RUND/ecosystem-$1-$2.config.js"
    cat >"$f" <<EOF
module.exports = { apps: [{
  name: 'app', script: '$APP', instances: $2, exec_mode: 'cluster',
  wait_ready: true, listen_timeout: 3000, kill_timeout: 8000, shutdown_with_message: true,
  env: { PORT: '$1', EVENTS: '1' },
}] };
EOF
    echo "$f"
}

# launch NAME PORT N TAG: starts candidate NAME with N workers; sets CUR_*.
launch() {
    local name=$1 port=$2 n=$3 tag=$4 fifo
    CUR=$name; CUR_PORT=$port; CUR_OWN=1; CUR_MAIN=""; CUR_TOP=""
    case $name in
        cinit)
            # PID 1 of a new PID namespace, in the host netns; -v logs the reload steps.
            # Its output goes through stamp.py, which puts a timestamp on every line.
            CUR_LOG="$LOGD/cinit-$tag.log"
            fifo="$RUND/cinit-$tag.fifo"
            rm -f "$fifo"; mkfifo "$fifo"
            "$PY" "$HERE/stamp.py" <"$fifo" >>"$CUR_LOG" 2>&1 &
            STAMP_PID=$!
            PORT=$port EVENTS=1 unshare --pid --fork --mount-proc --kill-child \
                "$CINIT" -v -i "$n" --control "$RUND/control" node "$APP" >"$fifo" 2>&1 &
            CUR_TOP=$! ;;
        pm2)
            CUR_OWN=0; CUR_LOG="$LOGD/$name-$tag"
            rm -rf "$PM2_HOME_D/logs" "$PM2_HOME_D/pm2.log"
            PORT=$port EVENTS=1 pm2_cli start "$APP" -i "$n" --name app
            CUR_TOP=$(cat "$PM2_HOME_D/pm2.pid" 2>/dev/null); CUR_MAIN=$CUR_TOP ;;
        pm2-ready)
            CUR_OWN=0; CUR_LOG="$LOGD/$name-$tag"
            rm -rf "$PM2_HOME_D/logs" "$PM2_HOME_D/pm2.log"
            PORT=$port EVENTS=1 pm2_cli start "$(ecosystem "$port" "$n")"
            CUR_TOP=$(cat "$PM2_HOME_D/pm2.pid" 2>/dev/null); CUR_MAIN=$CUR_TOP ;;
    esac
}
# ready N: waits (60 s max) until the current candidate answers, has N workers and
# holds the listening socket; for cinit also until every worker holds it.
ready() {
    local n=$1 deadline=$(( $(date +%s) + 60 )) holders
    while [ "$(date +%s)" -lt $deadline ]; do
        [ -n "$CUR_TOP" ] && kill -0 "$CUR_TOP" 2>/dev/null || return 1
        if [ "$CUR" = cinit ] && [ -z "$CUR_MAIN" ]; then
            CUR_MAIN=$(pgrep -P "$CUR_TOP" | head -1)
        fi
        if [ -n "$CUR_MAIN" ] && [ "$(children "$CUR_MAIN")" -ge "$n" ] && http_ok "$CUR_PORT"; then
            holders=$(listen_holders "$CUR_PORT")
            if grep -qx "pid=$CUR_MAIN" <<<"$holders"; then
                case $CUR in
                    cinit) [ "$(wc -l <<<"$holders")" -ge $((n + 1)) ] && return 0 ;;
                    *) sleep 1; return 0 ;; # round-robin: only God holds it
                esac
            fi
        fi
        sleep 0.2
    done
    return 1
}
start() { # start NAME N TAG: launch on a fresh port, up to 3 tries
    local try port
    for try in 1 2 3; do
        port=$(pick_port) || die "no free port"
        launch "$1" "$port" "$2" "$3-try$try"
        ready "$2" && return 0
        log "WARNING: $1 (n=$2) not ready on port $port (try $try); see $LOGD"
        stop_current
    done
    return 1
}

# reload_once: one full rollout of the current candidate. Sets R_T0 (ns, just before
# the trigger), R_T1 (ns, end) and R_RC (0 done, 1 timed out, 2 aborted / pm2 error).
# cinit: SIGHUP to its host PID; the end is the timestamp stamp.py put on the next
#   "reload done" line (the wait polls the log every 20 ms, bounded to 60 s).
# pm2: `pm2 reload app`, which returns when the rollout is over; the end is its exit.
reload_once() {
    local done0 ab0 deadline
    R_RC=0
    if [ "$CUR" = cinit ]; then
        done0=$(grep -c ' cinit: reload done' "$CUR_LOG")
        ab0=$(grep -c ' cinit: reload aborted' "$CUR_LOG")
        deadline=$(( $(date +%s) + 60 ))
        R_T0=$(now_ns)
        kill -HUP "$CUR_MAIN"
        while :; do
            [ "$(grep -c ' cinit: reload done' "$CUR_LOG")" -gt "$done0" ] && break
            [ "$(grep -c ' cinit: reload aborted' "$CUR_LOG")" -gt "$ab0" ] && { R_RC=2; break; }
            [ "$(date +%s)" -ge $deadline ] && { R_RC=1; break; }
            sleep 0.02
        done
        if [ $R_RC = 0 ]; then
            R_T1=$(awk -v k=$((done0 + 1)) '/ cinit: reload done/ && ++n == k { print $1; exit }' "$CUR_LOG")
        else
            R_T1=$(now_ns)
        fi
    else
        R_T0=$(now_ns)
        pm2_cli reload app || R_RC=2
        R_T1=$(now_ns)
    fi
}

# client_start OUT ARGS...: starts load.py in the background, waits (10 s max) until it
# has a first good answer.
client_start() {
    local out=$1 deadline=$(( $(date +%s) + 10 ))
    shift
    "$PY" "$HERE/load.py" --port "$CUR_PORT" --out "$out" "$@" >"$out.stdout" 2>"$out.stderr" &
    BG_PIDS+=($!)
    while ! grep -q running "$out.stdout" 2>/dev/null; do
        [ "$(date +%s)" -ge $deadline ] && { log "WARNING: client got no answer within 10 s"; return 1; }
        sleep 0.05
    done
}

# ---------------------------------------------------------------- versions
cinit_version() {
    echo "$("$CINIT" --version 2>&1 | head -1 | sed 's/^cinit //') ($(stat -c %s "$CINIT") bytes, $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null)$(cd "$REPO" && git diff --quiet HEAD -- src CMakeLists.txt 2>/dev/null || echo ', dirty tree'))"
}
{
    echo "node	$(node --version)"
    [ -f "$PM2_PREFIX/node_modules/pm2/package.json" ] &&
        echo "pm2	$(node -p "require('$PM2_PREFIX/node_modules/pm2/package.json').version")"
    [ -n "$CINIT" ] && echo "cinit	$(cinit_version)"
    echo "python	$("$PY" --version 2>&1 | awk '{print $2}')"
    echo "kernel	$(uname -r)"
    echo "cpus	$(nproc)"
    echo "load	$LOAD_START"
    echo "candidates	$CANDIDATES"
    echo "params	reloads=$RELOADS load_workers=$LOAD_WORKERS load_threads=$LOAD_THREADS roll_workers=$ROLL_WORKERS roll_reps=$ROLL_REPS rate=$RATE steady=$STEADY"
} >"$RAW/versions.tsv"

# ---------------------------------------------------------------- 1. failures under load
# Per variant (new connection per request, keep-alive), every candidate (order rotated
# between the variants): start with LOAD_WORKERS workers, closed-loop client with
# LOAD_THREADS threads, 1 s, RELOADS rollouts back to back, 1 s, stop the client.
k=${#CANDS[@]}
vi=0
for variant in close keepalive; do
    for i in $(seq 0 $((k - 1))); do
        c=${CANDS[$(( (i + vi) % k ))]}
        tag="p1-$c-$variant"
        start "$c" "$LOAD_WORKERS" "$tag" || { log "ERROR: $c would not start ($tag)"; continue; }
        args=(--threads "$LOAD_THREADS" --seconds 400 --timeout 5)
        [ $variant = keepalive ] && args+=(--keepalive)
        if ! client_start "$RAW/$tag.json" "${args[@]}"; then stop_bg; stop_current; continue; fi
        sleep 1
        : >"$RAW/$tag-reloads.tsv"
        for r in $(seq 1 "$RELOADS"); do
            reload_once
            printf '%s\t%s\t%s\t%s\n' "$r" "$R_T0" "$R_T1" "$R_RC" >>"$RAW/$tag-reloads.tsv"
            [ $R_RC = 1 ] && { log "WARNING: $c reload $r did not end within 60 s"; break; }
        done
        sleep 1
        stop_bg
        sleep 0.5
        printf '%s\n' "$(children "$CUR_MAIN")" >"$RAW/$tag-workers.txt"
        log "$tag: $("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d failed of %d; idle_closed %d retried %d server_closed %d" % (d["failures"], d["good"] + d["failures"], d["idle_closed"], d["retried"], d["server_closed"]))' "$RAW/$tag.json" 2>&1) ($(awk '{s += ($3 - $2) / 1e9} END {printf "%.1f s for %d reloads", s, NR}' "$RAW/$tag-reloads.tsv"))"
        stop_current
    done
    vi=$((vi + 1))
done

# ---------------------------------------------------------------- 2 + 3. rollout time and latency
# Per round, every candidate (order rotated each round): start with ROLL_WORKERS
# workers; 1 s; one rollout with no load (part 2); 1 s; the fixed-rate client (RATE/s,
# a new connection per request); 1 s warm-up; STEADY s of steady state; one rollout
# under that load; 1 s; stop. Part 3 pools the rounds.
: >"$RAW/rollout.tsv"
: >"$RAW/windows.tsv"
: >"$RAW/pm2-ping.tsv"
for rep in $(seq 1 "$ROLL_REPS"); do
    if [ "$(elapsed)" -gt $((BUDGET - 30 - k * (STEADY + 20))) ]; then
        log "budget: skipping rounds $rep..$ROLL_REPS of parts 2/3"; break
    fi
    for i in $(seq 0 $((k - 1))); do
        c=${CANDS[$(( (i + rep - 1) % k ))]}
        tag="p23-$c-$rep"
        start "$c" "$ROLL_WORKERS" "$tag" || { log "ERROR: $c would not start ($tag)"; continue; }
        sleep 1
        reload_once
        printf '%s\t%s\t%s\t%s\t%s\n' "$c" "$rep" "$R_T0" "$R_T1" "$R_RC" >>"$RAW/rollout.tsv"
        idle_s=$(awk -v a="$R_T0" -v b="$R_T1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
        if is_pm2 "$c"; then # what the CLI alone costs: pm2 ping, wall time
            t0=$(now_ns); pm2_cli ping; t1=$(now_ns)
            printf '%s\t%s\t%s\n' "$c" "$rep" "$((t1 - t0))" >>"$RAW/pm2-ping.tsv"
        fi
        sleep 1
        if client_start "$RAW/$tag.json" --rate "$RATE" --threads 32 --seconds 120 --timeout 5; then
            sleep 1
            s0=$(now_ns); sleep "$STEADY"; s1=$(now_ns)
            reload_once
            sleep 1
            stop_bg
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$rep" "$s0" "$s1" "$R_T0" "$R_T1" "$R_RC" >>"$RAW/windows.tsv"
            log "$tag: idle rollout ${idle_s} s, under load $(awk -v a="$R_T0" -v b="$R_T1" 'BEGIN {printf "%.2f", (b - a) / 1e9}') s"
        else
            stop_bg
        fi
        stop_current
    done
done

echo "load_end	$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW/versions.tsv"
echo "elapsed	$(elapsed)" >>"$RAW/versions.tsv"

# ---------------------------------------------------------------- report
"$PY" "$HERE/report.py" "$RAW" "$LOGD" >"$RESULTS" || die "report failed"
cat "$RESULTS"
log "done in $(elapsed) s; results in $RESULTS"
