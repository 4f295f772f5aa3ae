"""pytest plugin for dumb-init's suite (bench/peer_suites.sh loads it with -p).

After every test it SIGKILLs whatever that test left running and reaps it, so a
failed check cannot leave its processes (a `yes | tail` pipeline that was never
signalled, say) to load the machine and slow the tests after it. It changes no
test and no assertion: it runs after the test's own body and clean-up.

It relies on the suite running in a PID namespace of its own, with
bench/peers/ns_reaper.py as PID 1 and pytest as its child: every process of the
namespace other than those two is something a test started.
"""
import os
import signal
import time

import pytest


def _others():
    me = os.getpid()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, me):
            pids.append(int(entry))
    return pids


@pytest.fixture(autouse=True)
def _kill_leftovers():
    yield
    if os.getpid() == 1 or not os.path.exists("/proc/1/cmdline"):
        return
    with open("/proc/1/cmdline", "rb") as f:
        if b"ns_reaper.py" not in f.read():
            return  # not in the harness's namespace: touch nothing
    for pid in _others():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # Bounded: until /proc shows nothing of the test (its zombies reaped, by us or by
    # ns_reaper), at most 5 s.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            pass
        if not _others():
            break
        time.sleep(0.01)
