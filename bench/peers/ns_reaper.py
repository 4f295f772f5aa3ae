#!/usr/bin/python3
"""PID 1 of the namespace one peer suite runs in: bench/peer_suites.sh starts

    unshare --pid --fork --mount-proc --kill-child ns_reaper.py -- COMMAND...

so that whatever a suite leaves running (a failed check's `yes | tail`, a stopped
init) dies with the namespace when COMMAND exits, or when `timeout` kills unshare.
It runs COMMAND, reaps every process reparented to it (so no zombie of ours is
counted as alive by a check that reads /proc), forwards TERM, INT and HUP to
COMMAND, and exits as COMMAND did. It is the harness's, not the binary under test:
cinit is never the suite's own reaper.
"""
import os
import signal
import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        sys.stderr.write("ns_reaper: no command\n")
        sys.exit(2)
    child = os.fork()
    if child == 0:
        try:
            os.execvp(argv[0], argv)
        except OSError as error:
            os.write(2, f"ns_reaper: {argv[0]}: {error.strerror}\n".encode())
            os._exit(127)

    def forward(signo, _frame):
        try:
            os.kill(child, signo)
        except ProcessLookupError:
            pass

    for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signo, forward)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            sys.exit(1)
        except InterruptedError:
            continue
        if pid == child:
            # Leaving ends the namespace: the kernel SIGKILLs what remains.
            code = os.waitstatus_to_exitcode(status)
            sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
