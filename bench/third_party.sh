#!/usr/bin/env bash
# Third-party servers under `cinit -i 2` as PID 1: load, 3 rolling reloads, and a
# table of failed requests, stale answers and leftovers per server (bench/README.md,
# "Third-party servers"; the README's section of the same name has the figures).
# Usage: sudo bench/third_party.sh [SERVER...]   (as root; Debian 12)
#   SERVER: express express-npm fastify koa next flask uvicorn gunicorn nginx webrick socat
# Knobs: CINIT=/path/to/cinit (default: build it in bench/out/build-third-party),
#        NEXT=1 builds and runs the Next.js row (off: see NEXT_WHY below).
# Output: the table on stdout and in bench/out/third-party-results.md; each server's
# figures and cinit's log in bench/out/third-party-raw/, installs in bench/out/third-party-log/.
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
OUT=$BENCH_DIR/out
LOGD=$OUT/third-party-log
NPM_D=$OUT/third-party-npm        # npm, express, fastify, koa (pinned)
NEXT_D=$OUT/third-party-next      # the built Next app (its own node_modules)
START_TS=$(date +%s)
log() { printf '[third-party %4ss] %s\n' "$(($(date +%s) - START_TS))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# shellcheck source=bench/lib.sh
source "$BENCH_DIR/lib.sh"

# Pinned versions (npm registry).
NPM_PKGS=(npm@11.19.1 express@4.21.2 fastify@5.12.8 koa@3.3.0)
NEXT_PKGS=(next@16.4.6 react@19.3.1 react-dom@19.3.1)

[ "$(id -u)" = 0 ] || die "must run as root (unshare --pid, apt-get)"
mkdir -p "$LOGD"

want ruby /usr/bin/ruby
want ruby-webrick /usr/share/rubygems-integration/all/gems/webrick-1.8.1/lib/webrick.rb
want socat /usr/bin/socat
want nginx-light /usr/sbin/nginx
want gunicorn /usr/bin/gunicorn
want python3-uvicorn /usr/lib/python3/dist-packages/uvicorn
want python3-flask /usr/lib/python3/dist-packages/flask
want nodejs /usr/bin/node
want npm /usr/bin/npm
want util-linux /usr/bin/unshare
install_wanted

# npm 11 and next 16 need Node >= 20.17 / 20.9: Debian 12's is 18, so a newer
# major from the npm registry (tests/integration/node_majors.sh) when needed.
node_ok() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);
  process.exit(a>22||(a===22&&b>=9)||(a===20&&b>=17)?0:1)' 2>/dev/null; }
NODE_BIN=$(command -v node)
if ! node_ok "$NODE_BIN"; then
    NODE_BIN=$("$REPO/tests/integration/node_majors.sh" 22 | tail -n 1) || die "cannot install Node 22"
fi
export PATH="$(dirname "$NODE_BIN"):$PATH"
log "node $(node --version) ($NODE_BIN)"

if [ ! -f "$NPM_D/node_modules/koa/package.json" ] ||
   [ "$(node -p "require('$NPM_D/node_modules/fastify/package.json').version" 2>/dev/null)" != "${NPM_PKGS[2]#*@}" ]; then
    log "npm install ${NPM_PKGS[*]} into $NPM_D"
    timeout 600 npm install --prefix "$NPM_D" --no-save --no-package-lock --no-audit --no-fund \
        --loglevel=error "${NPM_PKGS[@]}" >"$LOGD/npm.log" 2>&1 ||
        die "npm install failed (see $LOGD/npm.log)"
fi

NEXT_WHY=""
# Off by default: `next build` works (about 35 s here), but Next 16 sends a route
# handler's answer chunked, without its content-length, and the load client
# (tests/integration/apps/reload_load.py) counts only content-length answers as good.
if [ "${NEXT:-0}" = 0 ]; then
    NEXT_WHY="left out: its answers are chunked (no content-length), which the load client does not read"
elif [ ! -f "$NEXT_D/.next/BUILD_ID" ]; then
    log "npm install ${NEXT_PKGS[*]}, next build (in $NEXT_D)"
    rm -rf "$NEXT_D" && mkdir -p "$NEXT_D" && cp -r "$BENCH_DIR/third_party/next_app/." "$NEXT_D/"
    if ! (cd "$NEXT_D" && timeout 600 npm install --no-save --no-package-lock --no-audit --no-fund \
            --loglevel=error "${NEXT_PKGS[@]}" && NEXT_TELEMETRY_DISABLED=1 timeout 900 \
            node_modules/.bin/next build) >"$LOGD/next.log" 2>&1; then
        NEXT_WHY="not run: next build failed (see bench/out/third-party-log/next.log)"
        log "$NEXT_WHY"
    fi
fi

CINIT=${CINIT:-}
if [ -z "$CINIT" ]; then
    CINIT=$(build_cinit "$OUT/build-third-party") || die "no cinit"
fi
log "cinit: $CINIT ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null))"

# Installs for the rows that use the integration test's own npm directory.
export CINIT_BIN=$CINIT CINIT_TP_NPM=$NPM_D NEXT_TELEMETRY_DISABLED=1
[ -n "$NEXT_WHY" ] && export CINIT_TP_NEXT="" CINIT_TP_NEXT_WHY="$NEXT_WHY" ||
    export CINIT_TP_NEXT=$NEXT_D
python3 "$BENCH_DIR/third_party.py" "$OUT/third-party-results.md" "$OUT/third-party-raw" "$@" \
    2>"$LOGD/driver.log"
status=$?
[ $status = 0 ] || log "driver failed ($status); see $LOGD/driver.log"
exit $status
