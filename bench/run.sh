#!/usr/bin/env bash
# cinit benchmark suite: cinit vs tini-static (main baseline), tini, dumb-init.
# Usage: bench/run.sh            (as root; Debian 12; see bench/README.md)
# Knobs (environment):
#   INITS="cinit tini-static tini dumb-init"   candidates, in column order
#   CINIT=/path/to/cinit      use this binary instead of building bench/out/build/cinit
#   SPAWN_ITERS=2000          start-up: timed runs per candidate and mode
#   ORPHANS=20000 ORPHAN_REPS=7   reaping: orphans per run, runs per candidate
#   SIG_ROUNDS=20 SIG_PER_ROUND=25   signal latency: rounds x signals per candidate and variant
#   RSS_REPS=3                idle RSS samples per candidate
# Output: a markdown table on stdout and in bench/out/results.md; logs in bench/out/log/.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
OUT=$BENCH_DIR/out
LOG=$OUT/log
RAW=$OUT/raw

INITS=${INITS:-cinit tini-static tini dumb-init}
CINIT=${CINIT:-}
SPAWN_ITERS=${SPAWN_ITERS:-2000}
ORPHANS=${ORPHANS:-20000}
ORPHAN_REPS=${ORPHAN_REPS:-7}
SIG_ROUNDS=${SIG_ROUNDS:-20}
SIG_PER_ROUND=${SIG_PER_ROUND:-25}
RSS_REPS=${RSS_REPS:-3}
BASELINE=tini-static

read -r -a CANDS <<<"$INITS"
START_TS=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

log() { printf '[bench %4ss] %s\n' "$(($(date +%s) - START_TS))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (unshare --pid, mount proc)"
awk '$1 > 0.7 {exit 1}' /proc/loadavg || log "WARNING: load average is $LOAD_START: the machine is busy, expect noisy numbers"

# ---------------------------------------------------------------- cleanup
# The only background process we start is the `unshare` of the idle-RSS test; its PID
# is kept in BG_PID while it runs (cleared once reaped, so a recycled PID is never
# hit), and it is ended by PID on exit. `unshare --kill-child` makes the kernel
# SIGKILL the init (PID 1 of its namespace, so the whole namespace) when unshare
# dies. Foreground helpers run under `timeout -s KILL`; siglat gives its init
# PDEATHSIG=SIGKILL.
BG_PID=""
cleanup() {
    if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
        kill -TERM "$BG_PID" 2>/dev/null || true
        sleep 0.2
        kill -KILL "$BG_PID" 2>/dev/null || true
        wait "$BG_PID" 2>/dev/null || true
    fi
    BG_PID=""
    return 0
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- dependencies
need_pkgs=()
want() { # want PACKAGE TEST-PATH...
    local pkg=$1 f
    shift
    for f in "$@"; do
        [ -e "$f" ] || { need_pkgs+=("$pkg"); return 0; }
    done
}
want tini /usr/bin/tini /usr/bin/tini-static
want dumb-init /usr/bin/dumb-init
want gcc /usr/bin/gcc
want g++ /usr/bin/g++
want libc6-dev /usr/lib/x86_64-linux-gnu/libc.a
want cmake /usr/bin/cmake
want make /usr/bin/make
want libfmt-dev /usr/include/fmt/format.h
want file /usr/bin/file
want util-linux /usr/bin/unshare
want procps /usr/bin/pgrep
if [ ${#need_pkgs[@]} -gt 0 ]; then
    log "installing: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
# cinit's own build dependencies, as the project lists them (idempotent; it runs
# apt-get update itself only if one of its packages is missing).
if [ -f "$REPO/scripts/install-deps.sh" ]; then
    bash "$REPO/scripts/install-deps.sh" --build-only >&2 || log "WARNING: scripts/install-deps.sh --build-only failed"
fi

mkdir -p "$OUT" "$LOG"
rm -rf "$RAW" "$LOG"
mkdir -p "$RAW" "$LOG"

# ---------------------------------------------------------------- helpers
log "compiling helpers"
for h in spawn orphans siglat; do
    gcc -O2 -static -Wall -Wextra -o "$OUT/$h" "$BENCH_DIR/$h.c" || die "cannot compile $h.c"
done

# ---------------------------------------------------------------- cinit
CINIT_NOTE=""
CINIT_BIN=""
CINIT_FROM="${CINIT:-}"
has_cinit=0
for c in "${CANDS[@]}"; do [ "$c" = cinit ] && has_cinit=1; done
if [ $has_cinit = 1 ]; then
    if [ -n "$CINIT" ]; then
        CINIT_BIN=$CINIT
    else
        build_cinit() { # build_cinit SRC BUILD-DIR
            cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=MinSizeRel -DCINIT_BUILD_TESTS=OFF >>"$LOG/build.log" 2>&1 &&
                cmake --build "$2" --target cinit -j "$(nproc)" >>"$LOG/build.log" 2>&1 && [ -x "$2/cinit" ]
        }
        log "building cinit in $OUT/build (the default, shipped configuration)"
        if build_cinit "$REPO" "$OUT/build"; then
            CINIT_BIN=$OUT/build/cinit
            CINIT_FROM="working tree at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
            if [ -n "$(git -C "$REPO" status --porcelain -- src CMakeLists.txt 2>/dev/null || true)" ]; then
                CINIT_FROM+=" + uncommitted changes"
            fi
        elif head=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null); then
            # The working tree may be mid-edit: fall back to the last commit.
            tail -n 20 "$LOG/build.log" >&2 || true
            log "working tree does not build; trying HEAD ($head) in $OUT/head-src"
            rm -rf "$OUT/head-src" "$OUT/build-head"
            mkdir -p "$OUT/head-src"
            if git -C "$REPO" archive HEAD | tar -x -C "$OUT/head-src" && build_cinit "$OUT/head-src" "$OUT/build-head"; then
                CINIT_BIN=$OUT/build-head/cinit
                CINIT_FROM="commit $head (the working tree did not build)"
            fi
        fi
        [ -n "$CINIT_BIN" ] || tail -n 20 "$LOG/build.log" >&2 || true
    fi
    if [ -z "$CINIT_BIN" ] || [ ! -x "$CINIT_BIN" ]; then
        CINIT_NOTE="cinit could not be built (see bench/out/log/build.log); its column is n/a."
        log "WARNING: $CINIT_NOTE"
        CANDS_NEW=()
        for c in "${CANDS[@]}"; do [ "$c" = cinit ] || CANDS_NEW+=("$c"); done
        CANDS=("${CANDS_NEW[@]}")
    fi
fi
COLS=()
for c in $INITS; do COLS+=("$c"); done # columns keep every requested candidate
[ ${#CANDS[@]} -gt 0 ] || die "no candidate to measure"

# bin CAND -> path of the init binary; prefix CAND -> "init [args before COMMAND]"
bin() {
    case $1 in
    cinit) echo "$CINIT_BIN" ;;
    tini-static) echo /usr/bin/tini-static ;;
    tini) echo /usr/bin/tini ;;
    dumb-init) echo /usr/bin/dumb-init ;;
    *) die "unknown candidate $1" ;;
    esac
}
prefix() {
    case $1 in
    dumb-init) echo /usr/bin/dumb-init ;; # default mode: setsid child, signals go to its process group
    *) echo "$(bin "$1") --" ;;
    esac
}

# rotated N: the candidates, rotated by N (for ABAB-style interleaving of rounds)
rotated() {
    local n=$1 k=${#CANDS[@]} i
    for ((i = 0; i < k; i++)); do echo "${CANDS[$(((i + n) % k))]}"; done
}

median() { sort -g | awk '{a[NR]=$1} END{if(NR==0){print "n/a"; exit} print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# pct P < numbers: nearest-rank percentile
pct() { sort -g | awk -v p="$1" '{a[NR]=$1} END{if(NR==0){print "n/a"; exit} k=int(p*NR+0.999999); if(k<1)k=1; if(k>NR)k=NR; print a[k]}'; }
fmt1() { awk '{ if ($1 ~ /^-?[0-9.]+$/) printf "%.1f\n", $1; else print }'; }
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" | head -n1; } # field KEY < "k=v k=v"

# children PID -> child pids (one a line)
children() { # never fails: the process may be gone
    if [ -r "/proc/$1/task/$1/children" ]; then
        { cat "/proc/$1/task/$1/children" 2>/dev/null || true; } | tr ' ' '\n' | sed '/^$/d'
    else
        pgrep -P "$1" || true
    fi
}

declare -A R # R[metric|cand] = value

# ---------------------------------------------------------------- 0. sanity
log "sanity: exit status through each init (plain, and as PID 1)"
for c in "${CANDS[@]}"; do
    # shellcheck disable=SC2046
    set +e
    timeout -s KILL 10 $(prefix "$c") /bin/sh -c 'exit 3' >/dev/null 2>&1
    a=$?
    timeout -s KILL 10 unshare --pid --fork --mount-proc --kill-child $(prefix "$c") /bin/sh -c 'kill -TERM $$' >/dev/null 2>&1
    b=$?
    set -e
    if [ $a = 3 ] && [ $b = 143 ]; then R["sanity|$c"]=ok; else R["sanity|$c"]="FAIL(exit 3→$a, SIGTERM→$b)"; fi
done

# ---------------------------------------------------------------- 1. size
log "binary size"
for c in "${CANDS[@]}"; do
    b=$(bin "$c")
    R["size|$c"]=$(stat -c %s "$b")
    if file -L "$b" | grep -q 'statically linked'; then R["link|$c"]=static
    elif file -L "$b" | grep -q 'static-pie linked'; then R["link|$c"]=static-pie
    else R["link|$c"]=dynamic; fi
done

# ---------------------------------------------------------------- 2. idle RSS
# INIT supervises `sleep 1000` as PID 1; read VmRSS / Pss of the init after 1 s.
measure_rss() {
    local c=$1 upid ipid="" kid i st rss pss
    # shellcheck disable=SC2046
    unshare --pid --fork --mount-proc --kill-child $(prefix "$c") /bin/sleep 1000 </dev/null >/dev/null 2>>"$LOG/rss.err" &
    upid=$!
    BG_PID=$upid
    for ((i = 0; i < 250; i++)); do # up to 5 s for init and its sleep to appear
        ipid=$(children "$upid" | head -n1)
        if [ -n "$ipid" ]; then
            kid=$(children "$ipid" | head -n1)
            if [ -n "$kid" ] && [ "$(cat "/proc/$kid/comm" 2>/dev/null)" = sleep ]; then break; fi
        fi
        kid=""
        kill -0 "$upid" 2>/dev/null || break # the init died
        sleep 0.02
    done
    if [ -z "$kid" ]; then
        log "WARNING: $c: init/sleep did not show up (init died?)"
        echo "$c: init/sleep did not show up" >>"$LOG/rss.err"
        kill -KILL "$upid" 2>/dev/null || true
        wait "$upid" 2>/dev/null || true
        BG_PID=""
        return 0
    fi
    sleep 1 # settle
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/$ipid/status")
    awk '/^RssAnon:/{print $2}' "/proc/$ipid/status" >>"$RAW/anon-$c.txt"
    pss=$(awk '/^Pss:/{print $2}' "/proc/$ipid/smaps_rollup")
    echo "$rss" >>"$RAW/rss-$c.txt"
    echo "$pss" >>"$RAW/pss-$c.txt"
    kill -TERM "$ipid" 2>/dev/null || true # the init forwards it to sleep, which dies, and the init exits
    for ((i = 0; i < 150; i++)); do kill -0 "$upid" 2>/dev/null || break; sleep 0.02; done
    if kill -0 "$upid" 2>/dev/null; then
        log "WARNING: $c did not exit within 3 s of SIGTERM; SIGKILL"
        echo "$c: no exit on SIGTERM" >>"$LOG/rss.err"
        kill -KILL "$ipid" 2>/dev/null || true
        kill -KILL "$upid" 2>/dev/null || true
    fi
    set +e
    wait "$upid" 2>/dev/null
    st=$?
    set -e
    BG_PID=""
    [ "$st" = 143 ] || echo "$c: unshare exit $st after SIGTERM (want 143)" >>"$LOG/rss.err"
}
log "idle RSS ($RSS_REPS x per init, as PID 1)"
: >"$LOG/rss.err"
for ((r = 0; r < RSS_REPS; r++)); do
    for c in $(rotated $r); do measure_rss "$c"; done
done
for c in "${CANDS[@]}"; do
    R["rss|$c"]=$(median <"$RAW/rss-$c.txt" 2>/dev/null || echo n/a)
    R["pss|$c"]=$(median <"$RAW/pss-$c.txt" 2>/dev/null || echo n/a)
    R["anon|$c"]=$(median <"$RAW/anon-$c.txt" 2>/dev/null || echo n/a)
done

# ---------------------------------------------------------------- 3. start-up
log "start-up: $SPAWN_ITERS x INIT true vs true, interleaved, plain child then as PID 1"
spawn_args=("true=/bin/true")
for c in "${CANDS[@]}"; do spawn_args+=("$c=$(prefix "$c") /bin/true"); done
for mode in plain pid1; do
    flag=()
    [ $mode = pid1 ] && flag=(--pidns)
    timeout -s KILL 300 "$OUT/spawn" -n "$SPAWN_ITERS" -w 100 "${flag[@]}" "${spawn_args[@]}" \
        >"$RAW/spawn-$mode.txt" 2>"$LOG/spawn-$mode.err" || log "WARNING: spawn ($mode) reported failures"
    base=$(grep '^true ' "$RAW/spawn-$mode.txt" | field median_us)
    R["true|$mode"]=$(awk -v a="$base" 'BEGIN{printf "%.1f", a}')
    for c in "${CANDS[@]}"; do
        line=$(grep "^$c " "$RAW/spawn-$mode.txt" || true)
        t=$(echo " $line" | field median_us)
        f=$(echo " $line" | field fails)
        [ -n "$t" ] || continue
        R["start_$mode|$c"]=$(awk -v a="$t" 'BEGIN{printf "%.1f", a}')
        R["ovh_$mode|$c"]=$(echo " $line" | field paired_ovh_us | fmt1)
        [ "${f:-0}" = 0 ] || R["ovh_$mode|$c"]+=" ($f failed)"
    done
done

# ---------------------------------------------------------------- 4. orphans
log "reaping $ORPHANS orphans as PID 1 ($ORPHAN_REPS x per init, interleaved)"
: >"$LOG/orphans.err"
for ((r = 0; r < ORPHAN_REPS; r++)); do
    for c in $(rotated $r); do
        set +e
        # shellcheck disable=SC2046
        line=$(timeout -s KILL 120 unshare --pid --fork --mount-proc --kill-child $(prefix "$c") \
            "$OUT/orphans" "$ORPHANS" 500 1000 </dev/null 2>>"$LOG/orphans.err")
        st=$?
        set -e
        echo "$c round $r exit $st: $line" >>"$LOG/orphans.log"
        if [ $st != 0 ]; then
            log "WARNING: orphans under $c exited $st"
            continue
        fi
        echo " $line" | field wall_ms >>"$RAW/reap-wall-$c.txt"
        echo " $line" | field init_cpu_ms >>"$RAW/reap-cpu-$c.txt"
    done
done
for c in "${CANDS[@]}"; do
    R["reap_wall|$c"]=$( (median <"$RAW/reap-wall-$c.txt" | fmt1) 2>/dev/null || echo n/a)
    R["reap_cpu|$c"]=$( (median <"$RAW/reap-cpu-$c.txt" | fmt1) 2>/dev/null || echo n/a)
done

# ---------------------------------------------------------------- 5. signal latency
# Two variants per round: unpinned (the scheduler places the measurer, the init and
# its child; cross-CPU wake-ups are slow and erratic on this VM), and with all three
# pinned to CPU 0 (taskset), which leaves only the init's own path plus context
# switches: the fairer comparison of the inits' code.
log "signal forwarding: $SIG_ROUNDS rounds x $SIG_PER_ROUND SIGUSR1 per init, as PID 1, unpinned and on one CPU, interleaved"
for ((r = 0; r < SIG_ROUNDS; r++)); do
    for c in $(rotated $r); do
        for v in any cpu0; do
            pin=()
            [ $v = cpu0 ] && pin=(taskset -c 0)
            set +e
            # shellcheck disable=SC2046
            line=$(timeout -s KILL 60 "${pin[@]}" "$OUT/siglat" -n "$SIG_PER_ROUND" -w 10 -o "$RAW/siglat-$v-$c.txt" \
                -- $(prefix "$c") 2>>"$LOG/siglat.err")
            st=$?
            set -e
            echo "$c round $r $v exit $st: $line" >>"$LOG/siglat.log"
            [ $st = 0 ] || log "WARNING: siglat ($v) under $c exited $st"
        done
    done
done
for c in "${CANDS[@]}"; do
    for v in any cpu0; do
        f=$RAW/siglat-$v-$c.txt
        if [ -s "$f" ]; then
            R["sig_med_$v|$c"]=$(pct 0.5 <"$f" | awk '{printf "%.1f", $1/1000}')
            R["sig_p99_$v|$c"]=$(pct 0.99 <"$f" | awk '{printf "%.1f", $1/1000}')
            R["sig_n|$c"]=$(wc -l <"$f")
        fi
    done
done

# ---------------------------------------------------------------- report
val() { echo "${R["$1|$2"]:-n/a}"; }
ratio() { # ratio METRIC: cinit / baseline, if both numeric
    local a b
    a=$(val "$1" cinit)
    b=$(val "$1" "$BASELINE")
    awk -v a="$a" -v b="$b" 'BEGIN{
        if (a ~ /^-?[0-9.]+$/ && b ~ /^-?[0-9.]+$/ && b+0 != 0) printf "%.2f", a/b; else printf "—" }'
}
row() { # row METRIC LABEL [noratio]
    local m=$1 label=$2 c line
    line="| $label |"
    for c in "${COLS[@]}"; do line+=" $(val "$m" "$c") |"; done
    if [ "${3:-}" = noratio ]; then line+=" — |"; else line+=" $(ratio "$m") |"; fi
    echo "$line"
}

{
    echo "# cinit benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), pid_max $(cat /proc/sys/kernel/pid_max)."
    echo "Load average (1/5/15 min) at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every number)."
    echo "Versions: $(tini --version 2>&1 | head -n1), $(dumb-init --version 2>&1 | head -n1), cinit ${CINIT_BIN:-n/a} (${CINIT_FROM:-n/a})."
    [ -n "$CINIT_NOTE" ] && echo "**$CINIT_NOTE**"
    echo
    hdr="| metric |"
    sep="| --- |"
    for c in "${COLS[@]}"; do
        hdr+=" $c |"
        sep+=" ---: |"
    done
    echo "$hdr cinit ÷ $BASELINE |"
    echo "$sep ---: |"
    row size "Binary size (bytes)"
    row link "Linkage (\`file\`)" noratio
    row sanity "Exit status passed through (exit 3, SIGTERM→143 as PID 1)" noratio
    row rss "Idle VmRSS as PID 1, KiB (median of $RSS_REPS)"
    row anon "Idle RssAnon as PID 1, KiB (median of $RSS_REPS; the rest of VmRSS is mapped binary/libs)"
    row pss "Idle Pss as PID 1, KiB (median of $RSS_REPS)"
    row start_pid1 "\`INIT true\` as PID 1, µs (median of $SPAWN_ITERS)"
    row ovh_pid1 "Start-up overhead as PID 1, µs (paired median of INIT true − true; bare \`true\` $(val true pid1) µs)"
    row start_plain "\`INIT true\` as plain child, µs (median of $SPAWN_ITERS)"
    row ovh_plain "Start-up overhead as plain child, µs (paired; bare \`true\` $(val true plain) µs)"
    row reap_wall "Reap $ORPHANS orphans as PID 1: wall ms (median of $ORPHAN_REPS)"
    row reap_cpu "Reap $ORPHANS orphans as PID 1: init CPU ms (median of $ORPHAN_REPS)"
    row sig_med_cpu0 "SIGUSR1 forward round trip as PID 1, all on CPU 0: median µs (n=$(val sig_n "$BASELINE"))"
    row sig_p99_cpu0 "SIGUSR1 forward round trip as PID 1, all on CPU 0: p99 µs"
    row sig_med_any "SIGUSR1 forward round trip as PID 1, unpinned: median µs"
    row sig_p99_any "SIGUSR1 forward round trip as PID 1, unpinned: p99 µs"
    echo
    echo "Notes: dumb-init runs in its default mode (child in a new session; signals go to its process group)."
    echo "tini/tini-static/cinit run as \`INIT -- CMD\`. Start-up and signal rounds are interleaved across inits."
    echo "Raw samples: bench/out/raw/; logs: bench/out/log/."
} >"$OUT/results.md"

cat "$OUT/results.md"
log "done in $(($(date +%s) - START_TS)) s"
[ -z "$CINIT_NOTE" ]
