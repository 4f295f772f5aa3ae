"""Any program shares the port: the seccomp bind filter (issue 9).

Programs the bind shim cannot reach get cinit's socket through the filter every
non-Node worker installs before its exec: an unmodified static Go net/http server
(apps/go_server, built here with Debian's golang-go), a static C server
(helpers/shareserve: blocking, non-blocking, a bind from a second thread, behind
`sh -c 'srv & wait'` and `env -i`). Python's listen(5) on the shared socket leaves
cinit's backlog. Binds that are not the shared port's (port 0, UDP elsewhere,
AF_UNIX) run as made. Where cinit cannot use the filter (a profile that forbids
seccomp(2): helpers/nosyscall) or cannot read the worker (another uid, cinit
without CAP_SYS_PTRACE: setpriv) it warns once and the shim still serves dynamic
programs; a Docker-like profile (pidfd_getfd and process_vm_readv denied) is
served through /proc.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import unittest

from harness import (CINIT, DEADLINE, PID1, Process, helper, ns_prefix, status_field,
                     temp_dir, wait_for)
from test_cluster import free_port, listening_sockets, start_cluster, stop, try_get
import third_party_support as tp

HERE = os.path.dirname(os.path.abspath(__file__))
GO_SOURCE = os.path.join(HERE, "apps", "go_server", "main.go")

# A Python server for the shim's side: binds with libc's bind() (the shim catches it).
PY_SERVER = r"""
import http.server, os, socket, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"ok pid={os.getpid()} gen=0 end\n".encode()
        self.send_response(200); self.send_header("content-length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
sys.stdout.write(f"listening pid={os.getpid()}\n"); sys.stdout.flush()  # one write
server.serve_forever()
"""

# listen(5) on what it bound, then waits: the backlog test.
PY_LISTEN5 = r"""
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(5)
sys.stdout.write(f"listening pid={os.getpid()}\n"); sys.stdout.flush()  # one write
time.sleep(60)
"""


def go_server() -> str:
    """Builds apps/go_server (static: CGO_ENABLED=0) into a cache dir, once."""
    go = shutil.which("go")
    if go is None:
        raise AssertionError("no 'go': scripts/install-deps.sh installs golang-go")
    out_dir = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cinit-it-go-{os.getuid()}")
    exe = os.path.join(out_dir, "go_server")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(GO_SOURCE):
        os.makedirs(out_dir, exist_ok=True)
        env = dict(os.environ, CGO_ENABLED="0", GOCACHE=os.path.join(out_dir, "cache"),
                   GOPATH=os.path.join(out_dir, "gopath"), GOFLAGS="-mod=mod", GO111MODULE="off")
        subprocess.run([go, "build", "-o", exe + ".tmp", GO_SOURCE], check=True, env=env,
                       timeout=300, cwd=out_dir)
        os.rename(exe + ".tmp", exe)
    return exe


def get_pid(port: int, host: str = "127.0.0.1") -> int:
    """One GET on a new connection; the pid the body names (ok pid=P ...)."""
    answer = try_get(port, host=host)
    if answer is None or answer[0] != 200:
        raise AssertionError(f"no answer from {host}:{port}: {answer}")
    match = re.search(r"pid=(\d+)", answer[1])
    if not match:
        raise AssertionError(f"unexpected body {answer[1]!r}")
    return int(match[1])


def pids_answering(port: int, want: int, host: str = "127.0.0.1", tries: int = 400) -> set:
    """Requests (each on a new connection) until `want` pids answered or `tries` ran out."""
    seen = set()
    for _ in range(tries):
        seen.add(get_pid(port, host))
        if len(seen) >= want:
            break
    return seen


def listening_lines(run: Process, count: int) -> list[dict]:
    """The first `count` "listening k=v ..." lines the workers printed."""
    lines = run.out.wait_until(lambda t: t.count("listening ") >= count, DEADLINE,
                               f"{count} workers listening")
    found = [line for line in lines.splitlines() if line.startswith("listening ")]
    return [dict(w.split("=", 1) for w in line.split()[1:] if "=" in w) for line in found]


def start(test, args, port, prefix=(), env=None) -> Process:
    """cinit -v --control none ARGS as PID 1, optionally behind `prefix` (a program
    that execs cinit: the namespace's PID 1 is cinit either way)."""
    if not prefix:
        return start_cluster(test, args, port, env=env)
    environment = env or dict(os.environ, PORT=str(port))
    return Process(test, ns_prefix() + list(prefix) + [CINIT, "-v", "--control", "none"] + args,
                   layers=1, env=environment)


class GoTest(unittest.TestCase):
    maxDiff = None

    def test_go_server_dual_stack_both_workers_answer(self):
        port = free_port()
        run = start(self, ["-i", "2", go_server(), f":{port}"], port)
        lines = listening_lines(run, 2)
        self.assertEqual({line["addr"] for line in lines}, {f"[::]:{port}"})
        pids = {int(line["pid"]) for line in lines}
        wait_for(lambda: run.err.text().count(") is online (listening)") >= 2, DEADLINE,
                 "both workers online by their bind")
        self.assertEqual(pids_answering(port, 2), pids)
        self.assertIn(get_pid(port, "::1"), pids)
        self.assertEqual(len(listening_sockets(port)), 1, "one socket: cinit's")
        for line in lines:
            host_pid = self.host_pid_of(run, int(line["pid"]))
            self.assertEqual(status_field(host_pid, "NoNewPrivs"), "1")
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)
        self.assertNotIn("bind interception is off", err)

    def host_pid_of(self, run: Process, ns_pid: int) -> int:
        from test_cluster import ns_pid as to_ns
        from harness import descendants_of
        for pid in descendants_of(run.cinit_pid()):
            if to_ns(pid) == ns_pid:
                return pid
        raise AssertionError(f"no process with ns pid {ns_pid}")

    def test_go_server_reload_under_load_loses_nothing(self):
        exe = go_server()
        spec = tp.Spec("go net/http", lambda ctx: [exe, f"127.0.0.1:{ctx.port}"])
        out = tp.run_reloads(self, spec)
        report = tp.describe(out)
        self.assertGreater(out.good, 100, report)
        self.assertEqual(out.failures, 0, report)
        self.assertEqual(out.stale, [], report)
        self.assertEqual(out.leftover_count(), 0, report)
        self.assertEqual(out.port_down, [], report)
        self.assertEqual(out.readyz_lies, [], report)
        self.assertEqual(out.sigkills, 0, report)


class StaticServerTest(unittest.TestCase):
    maxDiff = None

    def check_shares(self, command: list[str], port: int, nonblock: str = "0",
                     prefix=(), args=()) -> tuple[Process, list[dict]]:
        run = start(self, ["-i", "2"] + list(args) + command, port, prefix)
        lines = listening_lines(run, 2)
        self.assertEqual({line["nonblock"] for line in lines}, {nonblock}, lines)
        # The caller's FD_CLOEXEC stands on the socket put in place of its own.
        self.assertEqual({line["cloexec"] for line in lines}, {"1"}, lines)
        pids = {int(line["pid"]) for line in lines}
        self.assertEqual(pids_answering(port, 2), pids, run.err.text())
        self.assertEqual(len(listening_sockets(port)), 1)
        return run, lines

    def test_blocking(self):
        port = free_port()
        run, _ = self.check_shares([helper("shareserve"), "127.0.0.1", str(port)], port)
        stop(run)

    def test_nonblocking_and_from_a_second_thread(self):
        port = free_port()
        run, _ = self.check_shares(
            [helper("shareserve"), "--nonblock", "--thread", "127.0.0.1", str(port)], port,
            nonblock="1")
        stop(run)

    def test_behind_sh_and_env_i(self):
        port = free_port()
        srv = f"{helper('shareserve')} 127.0.0.1 {port}"
        run, _ = self.check_shares(["sh", "-c", f"env -i {srv} & wait"], port)
        stop(run)

    def test_a_static_server_that_dies_on_sigterm_is_replaced_and_serves(self):
        port = free_port()
        run, lines = self.check_shares([helper("shareserve"), "127.0.0.1", str(port)], port)
        run.signal(1)  # SIGHUP: a rolling reload
        run.err.wait_until(lambda t: "reload done" in t, DEADLINE, "reload done")
        new = listening_lines(run, 4)[2:]
        self.assertEqual(pids_answering(port, 2), {int(line["pid"]) for line in new})
        stop(run)

    def test_binds_that_are_not_the_shared_port_run_as_made(self):
        port = free_port()
        udp = free_port()
        path = os.path.join(temp_dir(self), "u.sock")
        run = start(self, ["-i", "1", helper("shareserve"), "--others", str(udp), path,
                           "127.0.0.1", str(port)], port)
        out = run.out.wait_contains("listening ")
        self.assertRegex(out, r"port0 port=[1-9]\d*\n")
        self.assertIn(f"udp port={udp}\n", out)
        self.assertIn("unix ok\n", out)
        self.assertTrue(os.path.exists(path))
        port0 = int(re.search(r"port0 port=(\d+)", out)[1])
        # Their own sockets, not cinit's: cinit holds the shared port's socket only.
        cinit_ports = self.cinit_tcp_ports(run.cinit_pid())
        self.assertIn(port, cinit_ports)
        self.assertNotIn(port0, cinit_ports)
        stop(run)

    def test_hostile_binds_get_the_kernels_own_errors_and_cinit_serves_on(self):
        # What the same program gets with no cinit and no filter: the kernel's answers.
        port = free_port()
        alone = Process(self, [helper("shareserve"), "--hostile", "127.0.0.1", str(port)])
        text = alone.out.wait_contains("listening ")
        alone.kill()
        expected = [line for line in text.splitlines() if line.startswith("hostile ")]
        self.assertEqual(len(expected), 7, text)
        self.assertIn("hostile null errno=14", expected)  # EFAULT
        port = free_port()
        run = start(self, ["-i", "2", helper("shareserve"), "--hostile", "127.0.0.1",
                           str(port)], port)
        lines = listening_lines(run, 2)
        got = [line for line in run.out.text().splitlines() if line.startswith("hostile ")]
        self.assertEqual(sorted(got), sorted(expected * 2), run.err.text())
        # Nothing wedged: both workers then got the shared socket, and cinit answers.
        self.assertEqual(pids_answering(port, 2), {int(line["pid"]) for line in lines})
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    def cinit_tcp_ports(self, pid: int) -> set:
        from test_cluster import socket_inodes
        from harness import tcp_sockets
        inodes = socket_inodes(pid)
        return {local for local, _, inode in tcp_sockets() if int(inode) in inodes}


class BacklogTest(unittest.TestCase):
    def test_python_listen_5_does_not_shrink_the_shared_backlog(self):
        from test_shared_socket import backlogs, somaxconn
        port = free_port()
        # --share seccomp: no shim, the filter catches Python's bind and listen.
        run = start(self, ["-i", "2", "--share", "seccomp", sys.executable, "-c", PY_LISTEN5,
                           str(port)], port)
        listening_lines(run, 2)
        self.assertEqual(backlogs(port), [somaxconn()])
        self.assertNotIn("LD_PRELOAD", self.environ(run))
        stop(run)

    def environ(self, run: Process) -> str:
        from harness import descendants_of
        texts = []
        for pid in descendants_of(run.cinit_pid()):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    texts.append(f.read().decode(errors="replace"))
            except OSError:
                pass
        return "\n".join(texts)


class FallbackTest(unittest.TestCase):
    maxDiff = None

    def test_a_profile_that_forbids_seccomp_falls_back_to_the_shim(self):
        port = free_port()
        run = start(self, ["-i", "2", sys.executable, "-c", PY_SERVER, str(port)], port,
                    prefix=[helper("nosyscall"), "seccomp"])
        lines = listening_lines(run, 2)
        self.assertEqual(pids_answering(port, 2), {int(line["pid"]) for line in lines})
        err = run.err.text()
        warnings = [line for line in err.splitlines() if "bind interception is off" in line]
        self.assertEqual(len(warnings), 1, err)
        self.assertIn("Operation not permitted", warnings[0])
        self.assertIn("--listen", warnings[0])
        stop(run)

    def test_a_docker_like_profile_is_served_through_proc(self):
        port = free_port()
        run = start(self, ["-i", "2", "--share", "seccomp", helper("shareserve"), "127.0.0.1",
                           str(port)], port,
                    prefix=[helper("nosyscall"), "pidfd_getfd,process_vm_readv"])
        lines = listening_lines(run, 2)
        self.assertEqual(pids_answering(port, 2), {int(line["pid"]) for line in lines})
        self.assertNotIn("warning", run.err.text())
        stop(run)

    def test_another_uid_without_cap_sys_ptrace_warns_once_and_the_shim_still_serves(self):
        setpriv = shutil.which("setpriv")
        self.assertIsNotNone(setpriv, "setpriv (util-linux)")
        if os.geteuid() != 0:
            self.skipTest("needs root to change uid")
        drop = [setpriv, "--bounding-set", "-sys_ptrace", "--inh-caps", "-sys_ptrace", "--"]
        become = [setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        # A static server of another uid: cinit cannot read it; it binds for itself,
        # so the second worker collides (and says so, at once: nothing hangs).
        port = free_port()
        d = temp_dir(self)
        os.chmod(d, 0o755)
        exe = os.path.join(d, "shareserve")
        shutil.copy(helper("shareserve"), exe)
        run = start(self, ["-i", "2"] + become + [exe, "127.0.0.1", str(port)], port,
                    prefix=drop)
        run.out.wait_contains("listening ")
        # The other worker binds for real, collides and exits at once, again and again:
        # cinit gives up (no worker was ever online to it) and exits 3.
        code, _, err = run.finish(DEADLINE)
        self.assertEqual(code, 3, err)
        self.assertIn("shareserve: bind: Address already in use", err)
        self.assertEqual(err.count("cannot read the bind() of pid"), 1, err)
        self.assertIn("CAP_SYS_PTRACE", err)
        # The same uid change in a dynamic program: the shim shares the port.
        port = free_port()
        run = start(self, ["-i", "2"] + become + [sys.executable, "-c", PY_SERVER, str(port)],
                    port, prefix=drop)
        lines = listening_lines(run, 2)
        self.assertEqual(pids_answering(port, 2), {int(line["pid"]) for line in lines},
                         f"stdout: {run.out.text()!r}\nstderr: {run.err.text()}")
        stop(run)

    def test_share_shim_sets_no_no_new_privs(self):
        port = free_port()
        run = start(self, ["-i", "1", "--share", "shim", sys.executable, "-c", PY_SERVER,
                           str(port)], port)
        lines = listening_lines(run, 1)
        host = GoTest.host_pid_of(self, run, int(lines[0]["pid"]))
        self.assertEqual(status_field(host, "NoNewPrivs"), "0")
        self.assertEqual(get_pid(port), int(lines[0]["pid"]))
        stop(run)


if __name__ == "__main__":
    unittest.main()
