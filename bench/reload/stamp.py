#!/usr/bin/env python3
"""stamp.py: copies stdin to stdout, each line prefixed with the CLOCK_REALTIME
nanoseconds at which it was read ("<ns> <line>"), flushed line by line.
bench/reload.sh puts it behind cinit's stderr and stdout (cinit's log has no
timestamps) so that the report can place every reload step and every failed
request on one clock."""
import sys
import time

out = sys.stdout.buffer
for line in sys.stdin.buffer:
    out.write(b"%d " % time.time_ns() + line)
    out.flush()
