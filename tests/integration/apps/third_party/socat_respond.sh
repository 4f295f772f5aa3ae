#!/bin/sh
# socat_respond.sh PID GEN: one HTTP answer for `socat TCP-LISTEN:...,fork SYSTEM:...`
# (test_third_party, bench/third_party.sh). Reads the request head first, so that
# closing the connection never resets it with unread bytes; then answers
# "ok pid=PID gen=GEN end\n" (PID: the listening socat, GEN: read when it started).
cr=$(printf '\r')
while IFS= read -r line; do
  [ "$line" = "$cr" ] || [ -z "$line" ] && break
done
body="ok pid=$1 gen=$2 end
"
printf 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s' \
  "${#body}" "$body"
