#!/usr/bin/env bash
# Cluster-mode benchmark: `cinit -i N node app.js` vs one plain node, pm2 (-i N),
# pm2-runtime and Node's own cluster module (round-robin and shared handle).
# Usage: bench/cluster.sh        (as root; Debian 12; see bench/README.md "Cluster mode")
# Knobs (environment):
#   CANDIDATES="node cinit cinit-rp pm2 pm2-runtime node-rr node-none"   in table order
#   (cinit-rp: cinit --balance reuseport)
#   CINIT=/path/to/cinit   use this binary instead of building bench/out/build-cluster/cinit
#   WORKERS=2              workers of every cluster candidate in the throughput runs
#   REPS=3                 repetitions (round-robin over the candidates); medians reported
#   WRK_SECONDS=10 WRK_CONNS=50        keep-alive load: wrk -t1 -c WRK_CONNS -d WRK_SECONDS
#   AB_N=20000 AB_CONC=50              new connection per request: ab -n AB_N -c AB_CONC
#   SHARE_N=4000 SHARE_THREADS=8       per-worker share: requests and client threads
#   RSS_WORKERS=16         workers for the idle-RSS comparison
#   PM2_UPDATE=1           reinstall pm2@latest even if bench/out/pm2 has one
#   BUDGET=870             seconds; optional steps are skipped past this
# Output: markdown on stdout and in bench/out/cluster-results.md; raw load-generator
# output in bench/out/cluster-raw/, logs in bench/out/cluster-log/.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
HERE=$BENCH_DIR/cluster
OUT=$BENCH_DIR/out
RAW=$OUT/cluster-raw
LOGD=$OUT/cluster-log
RESULTS=$OUT/cluster-results.md
APP=$HERE/app.js
PRIMARY=$HERE/primary.js
PM2_PREFIX=$OUT/pm2
PM2_JS=$PM2_PREFIX/node_modules/pm2/bin/pm2
PM2RT_JS=$PM2_PREFIX/node_modules/pm2/bin/pm2-runtime
PM2_HOME_D=$OUT/pm2-home           # pm2's daemon
PM2RT_HOME_D=$OUT/pm2-runtime-home # pm2-runtime (its God runs in-process)

CANDIDATES=${CANDIDATES:-node cinit cinit-rp pm2 pm2-runtime node-rr node-none}
CINIT=${CINIT:-}
WORKERS=${WORKERS:-2}
REPS=${REPS:-3}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_CONNS=${WRK_CONNS:-50}
AB_N=${AB_N:-20000}
AB_CONC=${AB_CONC:-50}
SHARE_N=${SHARE_N:-4000}
SHARE_THREADS=${SHARE_THREADS:-8}
RSS_WORKERS=${RSS_WORKERS:-16}
PM2_UPDATE=${PM2_UPDATE:-0}
BUDGET=${BUDGET:-870}

read -r -a CANDS <<<"$CANDIDATES"
START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '[cluster %4ss] %s\n' "$(($(date +%s) - START_TS))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
elapsed() { echo $(($(date +%s) - START_TS)); }
has_cand() { local c; for c in "${CANDS[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }

[ "$(id -u)" = 0 ] || die "must run as root (unshare --pid, mount proc, apt-get)"
awk '$1 > 0.7 {exit 1}' /proc/loadavg ||
    log "WARNING: load average is $LOAD_START: the machine is busy, expect noisy numbers"

# ---------------------------------------------------------------- process bookkeeping
# Every server we start is one "current candidate": TOP (the process we launched, or
# pm2's daemon) and MAIN (the process whose children are the workers: cinit's host
# PID, pm2's God, the Node primary). Load generators running in the background are in
# BG_PIDS. All are ended by PID; PIDs are forgotten once reaped or seen gone.
CUR=""; CUR_TOP=""; CUR_MAIN=""; CUR_PORT=""; CUR_OWN=0; READY_NS=0
BG_PIDS=()

# proc_stat PID N...: fields of /proc/PID/stat counted from the state (N=1 is field 3),
# so a comm with spaces ("PM2 v7.0.4: God") does not shift them.
proc_stat() {
    local pid=$1 line
    shift
    line=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    line=${line##*) }
    awk -v f="$*" '{ n = split(f, k, " "); s = 0; for (i = 1; i <= n; i++) s += $(k[i]); if (n == 1) print $(k[1]); else print s }' <<<"$line"
}
# ours PID: does PID still run one of the programs we start (guards against reuse)?
ours() {
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
    case "$cmd" in *node*|*cinit*|*unshare*|*PM2*|*pm2*|*ab\ *|*wrk*|*python*) return 0 ;; esac
    return 1
}
pm2_cli() { # pm2_cli HOME ARGS...: pm2's CLI with a private home, bounded
    local home=$1
    shift
    PM2_HOME=$home timeout -s KILL 60 node "$PM2_JS" "$@" >>"$LOGD/pm2-cli.log" 2>&1
}
pm2_kill() { # pm2_kill HOME: stop a daemon that we started there, then make sure
    local home=$1 pid=""
    [ -f "$home/pm2.pid" ] && pid=$(cat "$home/pm2.pid" 2>/dev/null)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        local kids
        kids=$(descendants "$pid")
        pm2_cli "$home" kill
        # shellcheck disable=SC2086
        if ! wait_gone 5 "$pid" $kids; then
            for p in $kids $pid; do ours "$p" && kill -KILL "$p" 2>/dev/null; done
        fi
    fi
    rm -f "$home/pm2.pid"
}
stop_current() {
    [ -n "$CUR" ] || return 0
    local all p
    all="$CUR_TOP $CUR_MAIN $( [ -n "$CUR_MAIN" ] && descendants "$CUR_MAIN")"
    if [ "$CUR" = pm2 ]; then
        pm2_kill "$PM2_HOME_D"
    elif [ -n "$CUR_MAIN" ] && kill -0 "$CUR_MAIN" 2>/dev/null; then
        kill -TERM "$CUR_MAIN" 2>/dev/null
    elif [ -n "$CUR_TOP" ]; then
        kill -TERM "$CUR_TOP" 2>/dev/null
    fi
    # shellcheck disable=SC2086
    if ! wait_gone 10 $all; then
        log "WARNING: $CUR did not stop within 10 s after SIGTERM; SIGKILL"
        for p in $all; do ours "$p" && kill -KILL "$p" 2>/dev/null; done
        # shellcheck disable=SC2086
        wait_gone 3 $all || log "WARNING: $CUR: processes left: $all"
    fi
    [ "$CUR_OWN" = 1 ] && [ -n "$CUR_TOP" ] && wait "$CUR_TOP" 2>/dev/null
    CUR=""; CUR_TOP=""; CUR_MAIN=""; CUR_PORT=""; CUR_OWN=0
}
stop_bg() {
    local p
    for p in "${BG_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
    done
    for p in "${BG_PIDS[@]}"; do
        wait_gone 3 "$p" || kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    BG_PIDS=()
}
cleanup() {
    stop_bg
    stop_current
    [ -x "$(command -v node)" ] && [ -f "$PM2_JS" ] && pm2_kill "$PM2_HOME_D"
    return 0
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- dependencies
want wrk /usr/bin/wrk
want apache2-utils /usr/bin/ab
want curl /usr/bin/curl
want util-linux /usr/bin/unshare
want procps /usr/bin/pgrep
want iproute2 /usr/bin/ss
want python3 /usr/bin/python3
install_wanted
command -v node >/dev/null || die "node not found (Node.js 20 expected at /usr/bin/node)"
PY=/usr/bin/python3

rm -rf "$RAW" "$LOGD"
mkdir -p "$OUT" "$RAW" "$LOGD"

# pm2, from npm, into bench/out/pm2 (kept between runs).
if has_cand pm2 || has_cand pm2-runtime; then
    install_pm2 "$PM2_PREFIX"
    mkdir -p "$PM2_HOME_D" "$PM2RT_HOME_D"
    pm2_kill "$PM2_HOME_D" # a daemon left over by an interrupted run
fi

# cinit, built in its own build dir (the tree may be mid-edit: one retry after 60 s).
if has_cand cinit || has_cand cinit-rp; then
    if [ -n "$CINIT" ]; then
        [ -x "$CINIT" ] || die "CINIT=$CINIT is not executable"
    else
        CINIT=$(build_cinit "$OUT/build-cluster")
    fi
fi


# launch NAME PORT BODY N: starts candidate NAME with N workers; sets CUR_*.
launch() {
    local name=$1 port=$2 body=$3 n=$4 lf="$LOGD/$1.log"
    CUR=$name; CUR_PORT=$port; CUR_OWN=1; CUR_MAIN=""
    echo "== start $name port=$port body=$body n=$n" >>"$lf"
    case $name in
        node)
            PORT=$port BODY=$body node "$APP" >>"$lf" 2>&1 &
            CUR_TOP=$!; CUR_MAIN=$CUR_TOP ;;
        cinit|cinit-rp)
            # PID 1 of a new PID namespace; the port is in the host netns.
            local balance=shared
            [ "$name" = cinit-rp ] && balance=reuseport
            PORT=$port BODY=$body unshare --pid --fork --mount-proc --kill-child \
                "$CINIT" -i "$n" --control none --balance "$balance" node "$APP" >>"$lf" 2>&1 &
            CUR_TOP=$! ;;
        pm2)
            CUR_OWN=0
            PORT=$port BODY=$body pm2_cli "$PM2_HOME_D" start "$APP" -i "$n" --name bench
            CUR_TOP=$(cat "$PM2_HOME_D/pm2.pid" 2>/dev/null); CUR_MAIN=$CUR_TOP ;;
        pm2-runtime)
            PM2_HOME=$PM2RT_HOME_D PORT=$port BODY=$body node "$PM2RT_JS" start "$APP" -i "$n" >>"$lf" 2>&1 &
            CUR_TOP=$!; CUR_MAIN=$CUR_TOP ;;
        node-rr)
            NODE_CLUSTER_SCHED_POLICY=rr PORT=$port BODY=$body node "$PRIMARY" "$n" >>"$lf" 2>&1 &
            CUR_TOP=$!; CUR_MAIN=$CUR_TOP ;;
        node-none)
            NODE_CLUSTER_SCHED_POLICY=none PORT=$port BODY=$body node "$PRIMARY" "$n" >>"$lf" 2>&1 &
            CUR_TOP=$!; CUR_MAIN=$CUR_TOP ;;
        *) die "unknown candidate $name" ;;
    esac
}
# ready N: waits (60 s max) until the current candidate answers, has N workers and,
# for shared-handle candidates, every worker holds the listening socket.
ready() {
    local n=$1 deadline=$(( $(date +%s) + 60 )) want_workers=$1 holders
    [ "$CUR" = node ] && want_workers=0
    while [ "$(date +%s)" -lt $deadline ]; do
        [ -n "$CUR_TOP" ] && kill -0 "$CUR_TOP" 2>/dev/null || return 1
        if [ "${CUR%-rp}" = cinit ] && [ -z "$CUR_MAIN" ]; then
            CUR_MAIN=$(pgrep -P "$CUR_TOP" | head -1)
        fi
        if [ -n "$CUR_MAIN" ] && [ "$(children "$CUR_MAIN")" -ge "$want_workers" ] && http_ok "$CUR_PORT"; then
            holders=$(listen_holders "$CUR_PORT")
            READY_NS=$(date +%s%N)
            # the listener must be ours: held by MAIN
            if grep -qx "pid=$CUR_MAIN" <<<"$holders"; then
                case $CUR in
                    # shared handle: every worker holds the socket once it listens
                    cinit|cinit-rp|node-none) [ "$(wc -l <<<"$holders")" -ge $((n + 1)) ] && return 0 ;;
                    # round-robin: only the primary holds it; give the last workers 1 s
                    *) sleep 1; return 0 ;;
                esac
            fi
        fi
        sleep 0.2
    done
    return 1
}
# start NAME BODY N: launch on a fresh port, up to 3 tries (a port may be taken meanwhile).
start() {
    local try port
    for try in 1 2 3; do
        port=$(pick_port) || die "no free port"
        launch "$1" "$port" "$2" "$3"
        ready "$3" && return 0
        log "WARNING: $1 (n=$3) not ready on port $port (try $try); see $LOGD/$1.log"
        stop_current
    done
    return 1
}

ab_run() { # ab_run OUTFILE
    timeout -s KILL 300 ab -r -s 10 -n "$AB_N" -c "$AB_CONC" "http://127.0.0.1:$CUR_PORT/" >"$1" 2>&1
}

# ---------------------------------------------------------------- versions
{
    echo "node	$(node --version)"
    [ -f "$PM2_PREFIX/node_modules/pm2/package.json" ] &&
        echo "pm2	$(node -p "require('$PM2_PREFIX/node_modules/pm2/package.json').version")"
    [ -n "$CINIT" ] && echo "cinit	$("$CINIT" --version 2>&1 | head -1 | sed 's/^cinit //') ($(stat -c %s "$CINIT") bytes, $(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null)$(cd "$REPO" && git diff --quiet HEAD -- src CMakeLists.txt 2>/dev/null || echo ', dirty tree'))"
    echo "wrk	$(wrk -v 2>&1 | head -1 | awk '{print $2}')"
    echo "ab	$(ab -V 2>&1 | head -1 | sed 's/.*Version //; s/ .*//')"
    echo "kernel	$(uname -r)"
    echo "cpus	$(nproc)"
    echo "clk_tck	$(getconf CLK_TCK)"
    echo "load	$LOAD_START"
    echo "params	workers=$WORKERS reps=$REPS wrk=-t1 -c$WRK_CONNS -d${WRK_SECONDS}s ab=-n $AB_N -c $AB_CONC share=$SHARE_N/$SHARE_THREADS threads rss_workers=$RSS_WORKERS"
} >"$RAW/versions.tsv"

# proc_cpu PID: utime + stime of PID in clock ticks (fields 14 and 15 of /proc/PID/stat).
proc_cpu() { proc_stat "$1" 12 13 || echo 0; }
# tree_cpu PID: the same, summed over PID and its descendants (the whole server).
tree_cpu() {
    local p t=0
    for p in "$1" $(descendants "$1"); do t=$((t + $(proc_cpu "$p"))); done
    echo "$t"
}

# ---------------------------------------------------------------- 1. throughput
# Per repetition every candidate runs once (order rotated each repetition): start,
# 2 s keep-alive warm-up, wrk, ab, stop.
log "throughput: ${CANDS[*]} x $REPS reps (workers=$WORKERS)"
: >"$RAW/supcpu.tsv"
for rep in $(seq 1 "$REPS"); do
    k=${#CANDS[@]}
    for i in $(seq 0 $((k - 1))); do
        c=${CANDS[$(( (i + rep - 1) % k ))]}
        if ! start "$c" fixed "$WORKERS"; then
            log "ERROR: $c would not start; no sample for rep $rep"
            continue
        fi
        timeout -s KILL 30 wrk -t1 -c"$WRK_CONNS" -d2s "http://127.0.0.1:$CUR_PORT/" >/dev/null 2>&1
        cpu0=$(proc_cpu "$CUR_MAIN"); tree0=$(tree_cpu "$CUR_MAIN")
        timeout -s KILL $((WRK_SECONDS + 30)) wrk -t1 -c"$WRK_CONNS" -d"${WRK_SECONDS}s" --latency \
            "http://127.0.0.1:$CUR_PORT/" >"$RAW/wrk-$c-$rep.txt" 2>&1 &
        BG_PIDS+=($!)
        # halfway through: which process holds how many of wrk's keep-alive connections
        sleep $((WRK_SECONDS / 2))
        ss -Htnp state established "sport = :$CUR_PORT" | grep -o 'pid=[0-9]*' | sort | uniq -c |
            awk '{sub("pid=", "", $2); print $2 "\t" $1}' >"$RAW/conns-$c-$rep.tsv"
        wait "${BG_PIDS[@]}"
        BG_PIDS=()
        cpu1=$(proc_cpu "$CUR_MAIN"); tree1=$(tree_cpu "$CUR_MAIN")
        ab_run "$RAW/ab-$c-$rep.txt"
        cpu2=$(proc_cpu "$CUR_MAIN"); tree2=$(tree_cpu "$CUR_MAIN")
        # cand rep main-pid supervisor-ticks(wrk) supervisor-ticks(ab) server-ticks(wrk) server-ticks(ab)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$rep" "$CUR_MAIN" "$((cpu1 - cpu0))" "$((cpu2 - cpu1))" \
            "$((tree1 - tree0))" "$((tree2 - tree1))" >>"$RAW/supcpu.tsv"
        log "rep $rep $c: wrk $(awk '/^Requests\/sec/{print $2}' "$RAW/wrk-$c-$rep.txt") req/s, ab $(awk '/^Requests per second/{print $4}' "$RAW/ab-$c-$rep.txt") req/s"
        stop_current
    done
done

# ---------------------------------------------------------------- 2. per-worker share
# BODY=pid app; SHARE_N requests, each on a new connection, from SHARE_THREADS threads:
# once with the server otherwise idle, once while ab -c AB_CONC loads it.
share_cands=()
for c in cinit cinit-rp pm2 pm2-runtime node-rr node-none; do has_cand "$c" && share_cands+=("$c"); done
: >"$RAW/shares.tsv"
for c in "${share_cands[@]}"; do
    if [ "$(elapsed)" -gt $((BUDGET - 150)) ]; then log "budget: skipping share of $c"; continue; fi
    start "$c" pid "$WORKERS" || { log "ERROR: $c would not start for the share test"; continue; }
    timeout -s KILL 30 wrk -t1 -c"$WRK_CONNS" -d1s "http://127.0.0.1:$CUR_PORT/" >/dev/null 2>&1
    r=$(timeout -s KILL 150 "$PY" "$HERE/pidshare.py" 127.0.0.1 "$CUR_PORT" "$SHARE_N" "$SHARE_THREADS")
    printf '%s\tidle\t%s\n' "$c" "$r" >>"$RAW/shares.tsv"
    timeout -s KILL 200 ab -r -s 10 -t 180 -n 100000000 -c "$AB_CONC" "http://127.0.0.1:$CUR_PORT/" \
        >"$RAW/share-ab-$c.txt" 2>&1 &
    BG_PIDS+=($!)
    sleep 0.5
    r=$(timeout -s KILL 150 "$PY" "$HERE/pidshare.py" 127.0.0.1 "$CUR_PORT" "$SHARE_N" "$SHARE_THREADS")
    printf '%s\tloaded\t%s\n' "$c" "$r" >>"$RAW/shares.tsv"
    stop_bg
    log "share $c: $(cut -f2- "$RAW/shares.tsv" | tail -2 | tr '\n' ' ' | cut -c1-200)"
    stop_current
done

# ---------------------------------------------------------------- 3. idle RSS with many workers
# The supervisor itself (cinit as PID 1, pm2's God daemon, pm2-runtime, Node's cluster
# primary), once all RSS_WORKERS workers are up and 3 s have passed; median of 3
# readings 0.5 s apart.
rss_cands=()
for c in cinit pm2 pm2-runtime node-rr; do has_cand "$c" && rss_cands+=("$c"); done
: >"$RAW/rss.tsv"
read_rss() { # read_rss PID -> "VmRSS_kB RssAnon_kB Pss_kB"
    local st
    st=$(cat "/proc/$1/status" 2>/dev/null) || return 1
    echo "$(awk '/^VmRSS:/{print $2}' <<<"$st") $(awk '/^RssAnon:/{print $2}' <<<"$st") $(awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)"
}
for c in "${rss_cands[@]}"; do
    if [ "$(elapsed)" -gt $((BUDGET - 60)) ]; then log "budget: skipping RSS of $c"; continue; fi
    t0=$(date +%s%N)
    start "$c" fixed "$RSS_WORKERS" || { log "ERROR: $c -i $RSS_WORKERS would not start"; continue; }
    up_ms=$(( (READY_NS - t0) / 1000000 ))
    sleep 3
    samples=()
    for _ in 1 2 3; do samples+=("$(read_rss "$CUR_MAIN")"); sleep 0.5; done
    med=$(printf '%s\n' "${samples[@]}" | sort -n -k1,1 | sed -n 2p)
    printf '%s\t%s\t%s\t%s\n' "$c" "$(children "$CUR_MAIN")" "$med" "$up_ms" >>"$RAW/rss.tsv"
    log "rss $c: workers=$(children "$CUR_MAIN") VmRSS/RssAnon/Pss kB = $med (ready after $up_ms ms)"
    stop_current
done

# ---------------------------------------------------------------- report
"$PY" "$HERE/report.py" "$RAW" "$CANDIDATES" >"$RESULTS" || die "report failed"
cat "$RESULTS"
log "done in $(elapsed) s; results in $RESULTS"
