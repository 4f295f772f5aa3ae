# bench/lib.sh: helpers shared by bench/cluster.sh and bench/reload.sh (sourced).
# Expects: REPO, OUT, LOGD, log() and die() defined by the caller.

# descendants PID: PID's descendants, breadth first (PID itself excluded).
descendants() {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { kids[$2] = kids[$2] " " $1 }
        END { n = split(kids[root], q, " "); i = 1
              while (i <= n) { p = q[i++]; print p
                  m = split(kids[p], more, " "); for (j = 1; j <= m; j++) q[++n] = more[j] } }'
}

# wait_gone SECONDS PID...: waits until every PID is gone or a zombie; 1 if some
# outlive SECONDS. Uses the caller's proc_stat PID FIELD.
wait_gone() {
    local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )) p alive
    shift
    while :; do
        alive=0
        for p in "$@"; do
            [ -e "/proc/$p" ] || continue
            [ "$(proc_stat "$p" 1)" = Z ] && continue
            alive=1
        done
        [ $alive = 0 ] && return 0
        [ $(( $(date +%s%N) / 1000000 )) -ge $deadline ] && return 1
        sleep 0.1
    done
}

# want PACKAGE PATH...: queue PACKAGE for install_wanted unless every PATH exists.
need_pkgs=()
want() {
    local pkg=$1 f
    shift
    for f in "$@"; do [ -e "$f" ] || { need_pkgs+=("$pkg"); return 0; }; done
}

# install_wanted: apt-get what want() queued, and cinit's own build dependencies
# through the project's script (the one list of them).
install_wanted() {
    mkdir -p "$LOGD"
    "$REPO/scripts/install-deps.sh" --build-only >>"$LOGD/install.log" 2>&1 ||
        die "scripts/install-deps.sh --build-only failed (see $LOGD/install.log)"
    [ ${#need_pkgs[@]} -gt 0 ] || return 0
    log "installing: ${need_pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null ||
        die "apt-get install ${need_pkgs[*]} failed"
}

# install_pm2 PREFIX: pm2@latest from npm into PREFIX (kept between runs;
# PM2_UPDATE=1 reinstalls).
install_pm2() {
    if [ "${PM2_UPDATE:-0}" = 1 ] || [ ! -f "$1/node_modules/pm2/package.json" ]; then
        log "npm install pm2@latest into $1"
        mkdir -p "$1"
        timeout 300 npm install --prefix "$1" --no-audit --no-fund pm2@latest \
            >"$LOGD/npm.log" 2>&1 || die "npm install pm2 failed (see $LOGD/npm.log)"
    fi
    [ -f "$1/node_modules/pm2/bin/pm2" ] || die "pm2 missing after install"
}

# build_cinit DIR: builds the shipped (MinSizeRel) cinit in DIR and prints its path;
# the tree may be mid-edit, so one retry after 60 s.
build_cinit() {
    local b=$1
    _build() {
        cmake -S "$REPO" -B "$b" -DCMAKE_BUILD_TYPE=MinSizeRel -DCINIT_BUILD_TESTS=OFF \
            >>"$LOGD/build.log" 2>&1 &&
            cmake --build "$b" -j2 --target cinit >>"$LOGD/build.log" 2>&1 && [ -x "$b/cinit" ]
    }
    log "building cinit in $b"
    if ! _build; then
        log "cinit build failed; retrying in 60 s (see $LOGD/build.log)"
        sleep 60
        _build || die "cannot build cinit (see $LOGD/build.log)"
    fi
    echo "$b/cinit"
}

# pick_port: a random free port below the ephemeral range, with no socket in any state.
pick_port() {
    local p i lo=20000 hi=32000 lo_e
    read -r lo_e _ </proc/sys/net/ipv4/ip_local_port_range
    [ "$lo_e" -le $hi ] && hi=$((lo_e - 1)) && [ $hi -le $lo ] && lo=1024
    for i in $(seq 100); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % (hi - lo)))
        [ -z "$(ss -Htan "( sport = :$p or dport = :$p )")" ] && { echo "$p"; return 0; }
    done
    return 1
}

children() { pgrep -P "$1" 2>/dev/null | wc -l; }
# listen_holders PORT: distinct PIDs holding the listening socket.
listen_holders() { ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | sort -u; }
http_ok() { [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/")" = 200 ]; }
