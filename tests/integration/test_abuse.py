"""PID 1 cannot be killed, wedged or hijacked: abuse of cluster mode, one defect each.

Every test here reproduces what an attacker or an unlucky operator did to cinit as PID 1
of a fresh PID namespace, and asserts that cinit goes on: alive, answering, serving,
with the right workers, and saying clearly what went wrong.

  - a process takes a dead worker's pid and asks the bind shim for the port: refused;
  - READY=1 from a process that exited before cinit read it (systemd-notify): counts;
  - a read-only /run: the message names the directory and EROFS, not mkfifo's ENOENT;
  - RLIMIT_NOFILE of 64: workers start and serve; a worker tree that bound many ports
    and left: cinit does not keep them all;
  - fork fails (a pids limit): a spawn failure is retried, never a crash loop;
  - the disk under the status file is full: `cinit status` says "unknown", not a stale
    verdict, and the file is written again once there is room;
  - a Node worker that writes to its IPC channel and never reads: its channel is
    closed at a bound, cinit's memory stays flat;
  - cinit's stderr is a full pipe nobody reads: its own log lines are queued (bounded)
    and dropped with a count, and the loop never blocks on them;
  - a connection flood on the health port: every /livez probe is still answered;
  - cinit out of file descriptors (EMFILE) with connections waiting: no busy loop, and
    probes are still answered;
"""

import array
import errno
import fcntl
import os
import re
import signal
import subprocess
import sys
import termios
import threading
import unittest

from harness import CINIT, CINIT_IS_STATIC, DEADLINE, PID1, children_of, start_cinit, status_field, temp_dir, wait_for
from reload_support import APP_PY, APPS, Cluster, cpu_seconds, environ_of, free_port, ns_pid
from test_health import probe, try_probe


def rss_kib(pid: int) -> int:
    return int(status_field(pid, "VmRSS").split()[0])


def pids_cgroup(test: unittest.TestCase) -> str:
    """A fresh pids cgroup (v1 or v2) the test may move processes into; removed at the
    end, after the test's processes are gone. Skips the test when there is none."""
    for root, tasks in (("/sys/fs/cgroup/pids", "tasks"), ("/sys/fs/cgroup/unified", "cgroup.procs"),
                        ("/sys/fs/cgroup", "cgroup.procs")):
        if not os.path.exists(os.path.join(root, "cgroup.procs")):
            continue
        path = os.path.join(root, f"cinit-test-{os.getpid()}-{id(test)}")
        try:
            os.mkdir(path)
        except OSError:
            continue
        if not os.path.exists(os.path.join(path, "pids.max")):
            os.rmdir(path)
            continue

        def remove(path=path, root=root, tasks=tasks):
            # Anything still inside goes back to the root, then the group goes.
            with open(os.path.join(path, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        with open(os.path.join(root, tasks), "w") as out:
                            out.write(pid)
                    except OSError:
                        pass
            wait_for(lambda: _rmdir(path), 10, f"rmdir {path}")
        test.addCleanup(remove)
        return path
    test.skipTest("no writable pids cgroup on this machine")


def _rmdir(path: str) -> bool:
    try:
        os.rmdir(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def cinit_status(path: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([CINIT, "status", "--status-file", path, *flags],
                          capture_output=True, text=True, timeout=DEADLINE)


class PidReuse(unittest.TestCase):
    def test_a_dead_workers_pid_does_not_get_the_shared_socket(self):
        cluster = Cluster(self, 1, ["--min-uptime", "0"], app="python")
        cluster.wait_online()
        (host_pid,) = cluster.live_children()
        env = environ_of(host_pid)
        self.assertIn("CINIT_SHIM_SOCKET", env)
        dead = ns_pid(host_pid)
        os.kill(host_pid, signal.SIGKILL)
        cluster.wait_log("restarting worker 0")  # reaped and forgotten
        thief = subprocess.run(
            ["nsenter", "--target", str(cluster.cinit_pid()), "--pid", "--mount", "--",
             sys.executable, os.path.join(APPS, "pid_thief.py"), str(dead), str(cluster.port)],
            capture_output=True, text=True, timeout=DEADLINE,
            env={**os.environ, "LD_PRELOAD": env["LD_PRELOAD"],
                 "CINIT_SHIM_SOCKET": env["CINIT_SHIM_SOCKET"]})
        self.assertEqual(thief.returncode, 0, thief.stderr)
        self.assertEqual(thief.stdout.strip(), f"refused {errno.EADDRINUSE}", thief.stderr)
        cluster.wait_log(f"bind shim: refused a connection from pid {dead} ")
        cluster.wait_online(2)  # the real replacement still gets the port
        self.assertEqual(len(cluster.serving(cluster.live_workers())), 1)


class Messages(unittest.TestCase):
    def test_a_read_only_run_is_reported_as_such(self):
        run_dir = temp_dir(self)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", run_dir],
                       check=True, timeout=DEADLINE)
        self.addCleanup(subprocess.run, ["umount", "-l", run_dir], timeout=DEADLINE)
        cluster = Cluster(self, 1, app="python", control=os.path.join(run_dir, "cinit", "control"))
        cluster.wait_online()
        self.assertIn(f"warning: no control FIFO: mkdir {run_dir}/cinit (for {run_dir}/cinit/"
                      "control): Read-only file system", cluster.err())
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)


BINDER = """
import os, socket, sys, time
if not os.path.exists(os.environ["MARKER"]):
    open(os.environ["MARKER"], "w").close()
    held = []
    for port in os.environ["PORTS"].split(","):
        s = socket.socket()
        s.bind(("127.0.0.1", int(port)))
        held.append(s)
    sys.exit(0)
time.sleep(60)
"""


class FdLimits(unittest.TestCase):
    def test_workers_start_and_serve_with_64_descriptors(self):
        import resource
        cluster = Cluster(self, 2, app="python",
                          preexec=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64)))
        cluster.wait_online()
        workers = cluster.live_workers()
        self.assertEqual(sorted(workers.values()), [0, 1])
        self.assertEqual(cluster.serving(workers), set(workers))
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)

    def test_ports_no_live_worker_uses_are_released(self):
        ports = sorted({free_port() for _ in range(80)})
        marker = os.path.join(temp_dir(self), "bound")
        run = start_cinit(self, ["-v", "-i", "1", "--control", "none", sys.executable, "-c",
                                 BINDER], PID1,
                          env={**os.environ, "MARKER": marker,
                               "PORTS": ",".join(map(str, ports))})
        run.err.wait_contains("restarting worker 0")
        cinit = run.cinit_pid()
        wait_for(lambda: run.err.text().count("no worker uses it") >= len(ports) - 16,
                 what="the unused ports closed")
        held = len(os.listdir(f"/proc/{cinit}/fd"))
        self.assertLess(held, 40, f"cinit holds {held} fds after {len(ports)} ports were bound")
        run.signal(signal.SIGTERM)
        run.wait()


class NotifyFromAGoneSender(unittest.TestCase):
    def test_ready_from_a_child_that_has_exited_still_counts(self):
        # `systemd-notify --ready` in a wrapper: the sender is gone before cinit reads
        # its datagram. cinit is stopped meanwhile, so that is certain here.
        cluster = Cluster(self, 1, app="python",
                          env={"RELOAD_MODE": "notify-child", "RELOAD_START_DELAY_MS": "500"})
        cinit = cluster.cinit_pid()
        wait_for(lambda: cluster.live_children(), what="the worker")
        os.kill(cinit, signal.SIGSTOP)
        try:
            cluster.wait_event("ready")
            wait_for(lambda: not [p for p in cluster.live_children()
                                  for q in children_of(p)], what="the sender to exit")
        finally:
            os.kill(cinit, signal.SIGCONT)
        cluster.wait_log(") is online (ready)")
        self.assertNotIn("ignored READY=1", cluster.err())
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)


class SpawnFailures(unittest.TestCase):
    def test_a_failed_fork_is_retried_and_never_gives_up_the_cluster(self):
        cluster = Cluster(self, 2, ["--max-restarts", "2"], app="python")
        cluster.wait_online()
        serving = cluster.generation(0)
        group = pids_cgroup(self)
        write(os.path.join(group, "cgroup.procs"), str(cluster.cinit_pid()))
        write(os.path.join(group, "pids.max"), "1")  # cinit alone: every fork is EAGAIN
        cluster.write_control(b"scale 4\n")
        # Many more failures than --max-restarts, each retried with a backoff.
        cluster.wait_log("cannot start worker 3: ", 4)
        err = cluster.err()
        self.assertIn("trying again in", err)
        self.assertNotIn("(pid 0)", err)
        self.assertNotIn("giving up", err)
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in serving.items()})
        self.assertEqual(cluster.serving(serving.values()), set(serving.values()))
        # Room again: the next retry starts the two missing workers.
        write(os.path.join(group, "pids.max"), "max")
        cluster.wait_online(4)
        wait_for(lambda: sorted(cluster.live_workers().values()) == [0, 1, 2, 3],
                 what="workers 0-3 running")
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)


class NodeChannelQueue(unittest.TestCase):
    def test_a_worker_that_never_reads_its_channel_is_cut_off_at_a_bound(self):
        marker = os.path.join(temp_dir(self), "flooded")
        run = start_cinit(self, ["-v", "-i", "1", "--ipc", "node", "--control", "none",
                                 "python3", os.path.join(APPS, "ipc_flooder.py")],
                          PID1, env={**os.environ, "FLOOD_MARKER": marker})
        pid = run.cinit_pid()
        before = rss_kib(pid)
        run.err.wait_contains("does not read its channel")
        # The replacement (marker present) is a well-behaved worker.
        run.err.wait_contains("is online (ready)")
        if CINIT_IS_STATIC:  # ASan's quarantine keeps what was freed, on purpose
            self.assertLess(rss_kib(pid) - before, 8 * 1024, "cinit's memory grew")
        run.signal(signal.SIGTERM)
        code, _, err = run.finish()
        self.assertIn(code, (0, 1), err)


class BlockedStderr(unittest.TestCase):
    def test_a_full_stderr_pipe_never_stops_the_loop(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        # Fill the pipe, then hand it over as cinit's stderr in blocking mode, as a
        # log collector that stopped reading leaves it.
        os.set_blocking(w, False)
        try:
            while True:
                os.write(w, b"x" * 4096)
        except BlockingIOError:
            pass
        os.set_blocking(w, True)
        health, port = free_port(), free_port()
        env = {**os.environ, "PORT": str(port),
               "RELOAD_LOG": os.path.join(temp_dir(self), "events")}
        try:
            control = os.path.join(temp_dir(self), "control")
            run = start_cinit(self, ["-v", "-i", "2", "--health", f"127.0.0.1:{health}",
                                     "--control", control, sys.executable, APP_PY],
                              PID1, env=env, stderr=w)
        finally:
            os.close(w)
        cinit = run.cinit_pid()
        wait_for(lambda: (try_probe(health, "/readyz") or (0,))[0] == 200, what="ready")
        # Every worker death is a few log lines cinit cannot write.
        for _ in range(3):
            (victim, *_) = children_of(cinit)
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda: victim not in children_of(cinit)
                     and len(children_of(cinit)) == 2, what="the worker replaced")
            self.assertEqual((try_probe(health, "/livez") or (0,))[0], 200)
        # Both replacements online (their lines logged) before the flood, so that the
        # lines dropped below are the flood's alone.
        wait_for(lambda: '"workers_online":2' in
                 ((try_probe(health, "/status") or (0, ""))[1]).replace(" ", ""),
                 what="both workers online again")
        # Far more lines than the queue holds: 3000 bad commands, a warning each.
        fd = os.open(control, os.O_WRONLY)
        try:
            for _ in range(30):
                os.write(fd, b"frobnicate\n" * 100)
        finally:
            os.close(fd)
        wait_for(lambda: _fifo_empty(control), what="cinit to read the control FIFO")
        self.assertEqual((try_probe(health, "/livez") or (0,))[0], 200)
        # Someone reads again: the backlog comes out, with the count of what was dropped,
        # while cinit goes on logging (1000 more warnings, written as the reader starts:
        # the drain and new lines meet).
        chunks: list[bytes] = []
        reader = threading.Thread(target=_read_all, args=(r, chunks), daemon=True)
        reader.start()
        fd = os.open(control, os.O_WRONLY)
        try:
            for _ in range(100):
                os.write(fd, b"frobnicate\n" * 10)
        finally:
            os.close(fd)
        wait_for(lambda: _fifo_empty(control), what="cinit to read the control FIFO")

        def accounted() -> tuple[int, int]:
            out = b"".join(chunks).replace(b"x", b"").decode(errors="replace")
            written = out.count("ignoring unknown command 'frobnicate'")
            dropped = sum(int(n) for n in re.findall(
                r"warning: (\d+) log line\(s\) dropped: stderr was not being read", out))
            return written, dropped
        # No line is lost silently: each of the 4000 warnings is written or counted as
        # dropped (how many of each depends on how fast cinit ran meanwhile).
        try:
            wait_for(lambda: sum(accounted()) >= 4000, what="every warning accounted for")
        finally:
            written, dropped = accounted()
        self.assertEqual(written + dropped, 4000, f"{written} written, {dropped} dropped")
        self.assertGreater(dropped, 0)
        run.signal(signal.SIGTERM)
        run.wait()
        reader.join(DEADLINE)
        out = b"".join(chunks).replace(b"x", b"").decode(errors="replace")
        self.assertIn("health endpoint on", out)  # the oldest lines are kept
        self.assertIn("all workers have stopped", out)  # and writing resumed


def _fifo_empty(path: str) -> bool:
    """True when nothing waits in the FIFO (FIONREAD on a reader of our own)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        count = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, count)
        return count[0] == 0
    finally:
        os.close(fd)


def _read_all(fd: int, chunks: list) -> None:
    """Reads fd to its end, appending what it reads to chunks as it goes."""
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)


def _flood(port: int, seconds: float, hold: int) -> None:
    """Opens connections to port as fast as it can for `seconds`, keeping the last
    `hold` of them open and sending nothing on them (a process of its own)."""
    import collections
    import socket
    import time
    held = collections.deque()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=1)
        except OSError:
            continue
        held.append(sock)
        if len(held) > hold:
            held.popleft().close()
    for sock in held:
        sock.close()


def _probe_while(port: int, busy, results: list) -> None:
    """Probes /livez (1 s timeout) until busy() is false; appends each status, or
    the error's name."""
    while busy():
        try:
            results.append(probe(port, "/livez")[0])
        except Exception as e:  # noqa: BLE001 -- any failure is a failed probe
            results.append(f"{type(e).__name__}: {e}")


class HealthUnderAbuse(unittest.TestCase):
    def start(self, *args):
        health, port = free_port(), free_port()
        env = {**os.environ, "PORT": str(port),
               "RELOAD_LOG": os.path.join(temp_dir(self), "events")}
        run = start_cinit(self, ["-i", "1", "--health", f"127.0.0.1:{health}", "--control",
                                 "none", *args, sys.executable, APP_PY], PID1, env=env)
        wait_for(lambda: (try_probe(health, "/readyz") or (0,))[0] == 200, what="ready")
        return run, health

    def test_a_connection_flood_never_stops_the_probes(self):
        import multiprocessing
        run, health = self.start()
        flooders = [multiprocessing.Process(target=_flood, args=(health, 5.0, 100))
                    for _ in range(3)]
        for flooder in flooders:
            flooder.start()
        self.addCleanup(lambda: [f.kill() for f in flooders if f.is_alive()])
        results: list = []
        _probe_while(health, lambda: any(f.is_alive() for f in flooders), results)
        for flooder in flooders:
            flooder.join(DEADLINE)
        self.assertGreater(len(results), 5)
        print(f"{len(results)} probes during the flood", file=sys.stderr)
        self.assertEqual([r for r in results if r != 200], [],
                         f"{len(results)} probes during the flood")
        run.signal(signal.SIGTERM)
        run.wait()

    def test_out_of_fds_with_connections_waiting_is_no_busy_loop(self):
        import socket
        import time
        run, health = self.start()
        cinit = run.cinit_pid()
        in_use = len(os.listdir(f"/proc/{cinit}/fd"))
        subprocess.run(["prlimit", f"--nofile={in_use + 4}", "--pid", str(cinit)], check=True,
                       timeout=DEADLINE)
        # More idle connections than cinit has fds left: accept() fails with EMFILE
        # while the listener stays readable.
        idle = [socket.create_connection(("127.0.0.1", health), timeout=1) for _ in range(12)]
        self.addCleanup(lambda: [s.close() for s in idle])
        before = cpu_seconds(cinit)
        t0 = time.monotonic()
        results: list = []
        _probe_while(health, lambda: time.monotonic() < t0 + 2.0, results)
        spent = cpu_seconds(cinit) - before
        wall = time.monotonic() - t0
        self.assertLess(spent, 0.5 * wall, f"cinit used {spent:.2f} s of CPU in {wall:.2f} s")
        self.assertEqual([r for r in results if r != 200], [],
                         f"{len(results)} probes while out of fds")
        run.signal(signal.SIGTERM)
        run.wait()


class StatusFile(unittest.TestCase):
    def test_a_full_disk_makes_the_exec_probe_say_unknown_and_it_recovers(self):
        disk = temp_dir(self)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", disk], check=True,
                       timeout=DEADLINE)
        self.addCleanup(subprocess.run, ["umount", "-l", disk], timeout=DEADLINE)
        status = os.path.join(disk, "status")
        silent = os.path.join(temp_dir(self), "silent")
        cluster = Cluster(self, 1, ["--status-file", status], app="python",
                          env={"RELOAD_SILENT_IF": silent})
        cluster.wait_online()
        wait_for(lambda: cinit_status(status, "--ready").returncode == 0, what="ready")
        # Fill the disk, then make the verdict change: the new worker never says online.
        filler = os.path.join(disk, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)
        write(silent, "")
        (pid,) = cluster.live_children()
        os.kill(pid, signal.SIGKILL)
        cluster.wait_log("no status file for `cinit status`")
        result = cinit_status(status, "--ready")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("unknown", result.stdout + result.stderr)
        live = cinit_status(status, "--live")
        self.assertEqual(live.returncode, 0, live.stdout + live.stderr)
        self.assertIn("unknown", live.stdout)
        # Room again: the current verdict is written on the next retry.
        os.unlink(filler)
        wait_for(lambda: "0 of 1 worker(s) online" in cinit_status(status, "--ready").stdout,
                 what="the current verdict in the status file")
        self.assertEqual(cinit_status(status, "--ready").returncode, 1)
        cluster.wait_log("status file written again")


if __name__ == "__main__":
    unittest.main()
