#!/bin/sh
# Run under cinit as PID 1: leaves orphans behind and exits 3.
# cinit reaps the orphans that finish, SIGTERMs the one still running, and exits 3.
echo "example: I am pid $$; my parent is pid $PPID"
sh -c 'sleep 0.2 &' # its sleep outlives it: an orphan, reparented to cinit
sh -c 'sleep 1000 &' # an orphan that would never end by itself
sleep 0.5
echo "example: processes in this container:"
if command -v ps >/dev/null; then
  ps -o pid,ppid,stat,args
else # slim images have no ps
  for d in /proc/[0-9]*; do echo "${d#/proc/} $(tr '\0' ' ' <"$d/cmdline")"; done
fi
echo "example: exiting with 3"
exit 3
