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
from test_cluster import (NODE, app, free_port, http_get, listening_sockets, node_env, ns_pid,
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
        try:
            line = wait_for(lambda: read(shut_log), what="the worker's shutdown report")
        except AssertionError as e:
            raise AssertionError(f"{e}; cinit's stderr: {run.err.text()!r}") from None
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


def ready_workers(run, count: int) -> dict[str, dict[str, str]]:
    """sharedsock's 'ready' lines on cinit's stdout: {instance: fields}, once `count`
    distinct instances have said it (the last line of each wins)."""
    def check():
        found = {}
        for m in re.finditer(r"^ready (.*)$", run.out.text(), re.M):
            fields = dict(word.split("=", 1) for word in m[1].split())
            found[fields["instance"]] = fields
        run._check_alive()
        return found if len(found) >= count else None
    return wait_for(check, what=f"{count} sharedsock workers ready")


def probe(port: int, path: str) -> tuple[int, str]:
    return http_get(port, path, timeout=5)


class ListenShutdownTest(unittest.TestCase):
    """--listen workers get the socket itself (no shim): cinit repairs what they do."""
    maxDiff = None

    def start(self, *worker_args: str, workers: int = 2):
        self.port = free_port()
        self.health = free_port()
        self.key = f"tcp 127.0.0.1:{self.port}"
        run = start_cluster(self, ["--health", f"127.0.0.1:{self.health}", "--listen",
                                   f"127.0.0.1:{self.port}", "-i", str(workers),
                                   helper("sharedsock"), *worker_args], self.port)
        ready = ready_workers(run, workers)
        wait_serving(self.port)
        return run, {k: int(v["pid"]) for k, v in ready.items()}, ready

    def host_pid(self, run, ns: int) -> int:
        return wait_for(lambda: next((p for p in wait_workers(run, len(self.workers)).values()
                                      if ns_pid(p) == ns), None), what=f"worker pid {ns}")

    def shut_down(self, run, instance: str, times: int = 1) -> int:
        pid = self.host_pid(run, self.workers[instance])
        os.kill(pid, signal.SIGUSR1)
        run.out.wait_until(
            lambda t: t.count(f"shutdown pid={self.workers[instance]} rc=0\n") >= times,
            what="the worker's shutdown")
        return pid

    def restored_count(self) -> int:
        return metric(probe(self.health, "/metrics")[1], "cinit_shared_socket_restored_total")

    def test_restored_after_the_worker_that_shut_it_down_exits(self):
        run, self.workers, _ = self.start()
        pid = self.shut_down(run, "1")
        # No probe and no exit yet: nothing has repaired it, the kernel refuses.
        self.assertEqual(listening_sockets(self.port), set())
        self.assertIsNone(try_get(self.port))
        os.kill(pid, signal.SIGUSR2)
        warning = (f"cinit: warning: {self.key}: not listening (a worker shut it down); "
                   "cinit made it listen again\n")
        run.err.wait_contains(warning)
        self.assertTrue(listening_sockets(self.port))
        self.assertEqual(request_errors(self.port, 20), [])
        self.assertEqual(self.restored_count(), 1)
        status = json.loads(probe(self.health, "/status")[1])
        self.assertEqual(status["shared_sockets"], {"restored": 1, "not_listening": []})
        self.assertEqual(run.err.text().count(warning), 1)
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    def test_readyz_repairs_first_and_is_503_while_the_port_cannot_listen(self):
        run, self.workers, _ = self.start()
        pid = self.shut_down(run, "1")
        self.assertEqual(listening_sockets(self.port), set())
        # The worker that shut it down is alive. A probe repairs before it judges:
        # what a probe can see is a port that listens again, and 200.
        self.assertEqual(probe(self.health, "/readyz"), (200, "ok: 2 of 2 worker(s) online\n"))
        self.assertTrue(listening_sockets(self.port))
        self.assertEqual(request_errors(self.port, 10), [])
        self.assertEqual(self.restored_count(), 1)

        # Shut down again, and something else listens on the port meanwhile (it can:
        # cinit's socket has SO_REUSEADDR and does not listen): cinit cannot listen
        # again, and /readyz says 503 with the reason until it can.
        self.shut_down(run, "1", times=2)
        intruder = socket.socket()
        self.addCleanup(intruder.close)
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        intruder.bind(("127.0.0.1", self.port))
        intruder.listen(1)
        for _ in range(2):
            self.assertEqual(probe(self.health, "/readyz"),
                             (503, f"shared socket not listening: {self.key}\n"))
        status = json.loads(probe(self.health, "/status")[1])
        self.assertEqual(status["shared_sockets"], {"restored": 1, "not_listening": [self.key]})
        self.assertEqual(self.restored_count(), 1)
        failure = f"cinit: warning: {self.key}: not listening (a worker shut it down), and cinit cannot"
        self.assertEqual(run.err.text().count(failure), 1, "warned once, not per probe")
        self.assertIn("Address already in use", run.err.text())

        intruder.close()
        self.assertEqual(probe(self.health, "/readyz")[0], 200)
        self.assertEqual(self.restored_count(), 2)
        self.assertEqual(request_errors(self.port, 10), [])
        os.kill(pid, signal.SIGUSR2)
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)


class BacklogTest(unittest.TestCase):
    """A worker's listen(5) does not leave the shared accept queue at 5."""

    def test_shim_keeps_cinit_backlog(self):
        port = free_port()
        run = start_cluster(self, ["-i", "2", sys.executable, app("shutdown_worker.py")], port,
                            env=node_env(port, SHUT_LOG=os.devnull))
        wait_online(run, 2)
        wait_serving(port)
        # Both workers called listen(5) on the socket the shim gave them.
        self.assertEqual(backlogs(port), [somaxconn()])
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    def test_listen_worker_backlog_is_restored(self):
        port, health = free_port(), free_port()
        run = start_cluster(self, ["-v", "--health", f"127.0.0.1:{health}", "--listen",
                                   f"127.0.0.1:{port}", "-i", "1", helper("sharedsock"),
                                   "--backlog", "5"], port)
        ready_workers(run, 1)
        self.assertEqual(backlogs(port), [5])
        self.assertEqual(probe(health, "/readyz")[0], 200)  # repairs first
        self.assertEqual(backlogs(port), [somaxconn()])
        run.err.wait_contains(f"cinit: tcp 127.0.0.1:{port}: a worker set its backlog to 5; "
                              f"back to cinit's {somaxconn()}\n")
        # Not a shutdown: not counted.
        self.assertEqual(metric(probe(health, "/metrics")[1],
                                "cinit_shared_socket_restored_total"), 0)
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)


def listener_flags(pid: int, port: int) -> list[int]:
    """The file status flags of each fd of process pid that is a socket listening on
    port (from /proc/PID/fdinfo)."""
    inodes = listening_sockets(port)
    flags = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in inodes:
            with open(f"/proc/{pid}/fdinfo/{name}") as f:
                flags += [int(line.split()[1], 8) for line in f if line.startswith("flags:")]
    return flags


class BlockingListenTest(unittest.TestCase):
    """--listen sockets are blocking, as systemd's; Node's are not."""

    @unittest.skipUnless(shutil.which(NODE) or os.path.exists(NODE), f"no node at {NODE}")
    def test_node_workers_get_a_nonblocking_socket(self):
        # Node's libuv accepts on the handle it gets over IPC without setting
        # O_NONBLOCK (Node 20): a blocking one would hang a worker's event loop in
        # accept() whenever the other worker took the connection.
        port = free_port()
        run = start_cluster(self, ["-i", "2", NODE, app("hello.js")], port)
        wait_online(run, 2)
        wait_serving(port)
        for pid in wait_workers(run, 2).values():
            flags = listener_flags(pid, port)
            self.assertTrue(flags, "the worker holds no listening socket")
            self.assertTrue(all(f & os.O_NONBLOCK for f in flags), [oct(f) for f in flags])
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    def test_blocking_accept_server_serves_under_two_workers(self):
        # systemd passes LISTEN_FDS sockets blocking; a server that calls accept()
        # without poll() and takes EAGAIN for an error must work under cinit too.
        port = free_port()
        run = start_cluster(self, ["--listen", f"127.0.0.1:{port}", "-i", "2",
                                   helper("sharedsock"), "--blocking"], port)
        ready = ready_workers(run, 2)
        self.assertEqual({fields["nonblock"] for fields in ready.values()}, {"0"})
        pids = set()
        for _ in range(40):
            status, body = http_get(port, timeout=5)
            self.assertEqual(status, 200)
            pids.add(body.split()[0])
        self.assertLessEqual(pids, {f"pid={fields['pid']}" for fields in ready.values()})
        self.assertNotIn("EAGAIN", run.err.text())
        self.assertEqual(len(ready_workers(run, 2)), 2)
        self.assertEqual(len(wait_workers(run, 2)), 2)
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
