"""No worker can take the shared port down for the others (issue 10).

  - through the bind shim, a worker's shutdown(SHUT_RDWR) of its listener and its exit
    leave the port serving for the other worker (no refused connection); the worker
    itself sees a shut-down listener (accept EINVAL, poll POLLOUT|POLLHUP);
  - a --listen worker (no shim) that shuts the socket down: cinit listens again after
    the worker exits, or before it answers a probe, warns, and counts it in /metrics and
    /status; /readyz is 503 while the socket cannot listen again;
  - a worker's listen(5) leaves the backlog at cinit's (ss -ltn's Send-Q), through the
    shim and, restored by cinit, with --listen;
  - --listen sockets are blocking, as systemd's: a blocking-accept server serves.

Programs: apps/shutdown_worker.py (python3, dynamic: the shim loads) and
helpers/sharedsock.c (static: LISTEN_FDS, no shim).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import unittest

from harness import is_gone, helper, temp_dir, wait_for
from test_cluster import (app, free_port, http_get, listening_sockets, node_env, ns_pid,
                          start_cluster, stop, try_get, wait_online, wait_serving,
                          wait_workers)


def read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def somaxconn() -> int:
    with open("/proc/sys/net/core/somaxconn") as f:
        # cinit and the shim ask for SOMAXCONN (4096); the kernel caps it at the sysctl.
        return min(int(f.read()), socket.SOMAXCONN)


def backlogs(port: int) -> list[int]:
    """Send-Q of every TCP socket listening on `port` (ss -ltn: the backlog)."""
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return sorted(int(line.split()[2]) for line in out.splitlines() if line.strip())


def request_errors(port: int, count: int) -> list[str]:
    """Makes `count` requests, each on a new connection; the failures, as text."""
    errors = []
    for _ in range(count):
        try:
            status, _ = http_get(port, timeout=5)
            if status != 200:
                errors.append(f"status {status}")
        except OSError as e:
            errors.append(repr(e))
    return errors


def metric(text: str, name: str) -> int:
    match = re.search(rf"^{name} (\d+)$", text, re.M)
    if not match:
        raise AssertionError(f"no {name} in /metrics: {text!r}")
    return int(match[1])


class ShimShutdownTest(unittest.TestCase):
    maxDiff = None

    def test_worker_shutdown_does_not_stop_the_port_for_the_others(self):
        port = free_port()
        shut_log = os.path.join(temp_dir(self), "shut.log")
        run = start_cluster(self, ["-i", "2", sys.executable, app("shutdown_worker.py")], port,
                            env=node_env(port, SHUT_LOG=shut_log))
        wait_online(run, 2)
        workers = wait_workers(run, 2)
        wait_serving(port)
        target = workers["1"]

        os.kill(target, signal.SIGUSR1)
        line = wait_for(lambda: read(shut_log), what="the worker's shutdown report")
        # What the worker sees is a shut-down listener (measured on a real one: accept
        # fails with EINVAL, poll says POLLOUT|POLLHUP).
        self.assertIn(f"shutdown pid={ns_pid(target)} rc=0 accept=EINVAL poll=0x14 ", line)
        # The shut-down worker is still alive: the other one serves every request.
        self.assertEqual(request_errors(port, 50), [])
        self.assertTrue(listening_sockets(port), "nothing listens on the port")

        os.kill(target, signal.SIGUSR2)
        wait_for(lambda: is_gone(target), what="the shut-down worker to exit")
        # Through its exit and the replacement's start, nothing is refused.
        errors = []
        wait_for(lambda: errors.extend(request_errors(port, 5)) or
                 any(pid != ns_pid(target) and slot == 1
                     for slot, pid in self.online_pids(run.err.text())),
                 what="the replacement of worker 1 to be online")
        errors += request_errors(port, 20)
        self.assertEqual(errors, [])
        self.assertNotIn("not listening", run.err.text())
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    @staticmethod
    def online_pids(err: str) -> list[tuple[int, int]]:
        return [(int(m[1]), int(m[2]))
                for m in re.finditer(r"^cinit: worker (\d+) \(pid (\d+)\) is online", err, re.M)]


if __name__ == "__main__":
    unittest.main()
