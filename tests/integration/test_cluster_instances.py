"""Cluster mode: how many workers -i N starts (a number, 0/max = usable CPUs
from the affinity mask and the cgroup CPU quota, -K = usable minus K), the
instance variable each one gets, and --listen sockets passed to non-Node
workers as LISTEN_FDS (helpers/listenfds)."""

import os
import signal
import socket
import unittest
import uuid

from harness import CINIT, PID1, SUBREAPER, Process, helper, ns_prefix, wait_for
from test_cluster import (NO_CONTROL, assert_no_leftover, environ_of, free_port, http_get,
                          kv_body, node_env, ns_pid, start_cluster, stop, wait_workers)

SIGCATCH = ["--exit-on", str(int(signal.SIGTERM)), "--timeout", "60"]


def usable_cpus_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("cinit: usable CPUs: ")]
    if len(lines) != 1:
        raise AssertionError(f"expected one 'usable CPUs' line, got {lines!r} in {err!r}")
    return lines[0]


class CpuQuotaCgroup:
    """A fresh cpu cgroup (v1 cpu controller, or v2) with a 1-CPU quota."""

    V1_ROOT = "/sys/fs/cgroup/cpu"
    V2_ROOT = "/sys/fs/cgroup"

    def __init__(self, test: unittest.TestCase):
        name = f"cinit-test-{uuid.uuid4().hex[:12]}"
        if os.path.exists(os.path.join(self.V1_ROOT, "cpu.cfs_quota_us")):
            self.path = os.path.join(self.V1_ROOT, name)
            settings = [("cpu.cfs_period_us", "100000"), ("cpu.cfs_quota_us", "100000")]
        elif "cpu" in self._read(os.path.join(self.V2_ROOT, "cgroup.subtree_control")).split():
            self.path = os.path.join(self.V2_ROOT, name)
            settings = [("cpu.max", "100000 100000")]
        else:
            test.skipTest("no writable cpu cgroup controller (v1 cpu or v2 cpu)")
        try:
            os.mkdir(self.path)
        except OSError as e:
            test.skipTest(f"cannot create a cgroup: {e}")
        # Registered before any process is started in it: cleanups run last
        # first, so the processes are gone when this one runs.
        test.addCleanup(self.remove)
        for key, value in settings:
            with open(os.path.join(self.path, key), "w") as f:
                f.write(value)

    @staticmethod
    def _read(path: str) -> str:
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    def procs(self) -> str:
        return os.path.join(self.path, "cgroup.procs")

    def remove(self) -> None:
        def try_rmdir():
            try:
                os.rmdir(self.path)
                return True
            except FileNotFoundError:
                return True
            except OSError:  # EBUSY until the last process has left
                return False
        wait_for(try_rmdir, timeout=10, what=f"rmdir {self.path}", interval=0.02)


class InstanceCountTest(unittest.TestCase):
    maxDiff = None

    def start(self, args, prefix=(), preamble=None):
        """cinit -v ARGS as PID 1, after `prefix` (e.g. taskset); with
        `preamble`, through `sh -c 'PREAMBLE; exec "$@"'`."""
        argv = ns_prefix() + [CINIT, "-v"] + NO_CONTROL + args
        if preamble:
            argv = ["sh", "-c", f'{preamble}; exec "$@"', "sh"] + argv
        return Process(self, list(prefix) + argv, layers=1)

    def check_workers(self, run, count):
        """cinit starts `count` sigcatch workers, instances 0..count-1."""
        run.out.wait_line_count(count)
        workers = wait_workers(run, count)
        self.assertEqual(sorted(workers), [str(k) for k in range(count)])
        self.assertEqual(run.out.lines()[:count], ["ready"] * count)
        code, out, err = stop(run)
        self.assertRegex(err, rf"(?m)^cinit: {count} worker\(s\) of ")
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines().count("ready"), count, "no worker was added later")
        return err

    def test_explicit_count(self):
        run = self.start(["-i", "3", helper("sigcatch")] + SIGCATCH)
        run.out.wait_line_count(3)
        workers = wait_workers(run, 3)
        self.assertEqual(sorted(workers), ["0", "1", "2"])
        code, out, err = stop(run)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines().count("ready"), 3, out)
        self.assertEqual(out.splitlines().count(str(int(signal.SIGTERM))), 3,
                         "each worker got the stop signal once")

    def test_zero_and_max_follow_the_affinity_mask(self):
        for spelling in ("0", "max"):
            with self.subTest(i=spelling):
                run = self.start(["-i", spelling, helper("sigcatch")] + SIGCATCH,
                                 prefix=["taskset", "-c", "0"])
                err = self.check_workers(run, 1)
                self.assertRegex(usable_cpus_line(err), r"^cinit: usable CPUs: 1\b")

    def test_negative_count_subtracts_from_usable_cpus(self):
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest("needs 2 CPUs in the affinity mask")
        run = self.start(["-i", "-1", helper("sigcatch")] + SIGCATCH,
                         prefix=["taskset", "-c", "0,1"])
        err = self.check_workers(run, 1)
        self.assertIn("-i -1 gives 1 worker(s)", usable_cpus_line(err))

    def test_negative_count_is_at_least_one(self):
        run = self.start(["-i", "-5", helper("sigcatch")] + SIGCATCH,
                         prefix=["taskset", "-c", "0"])
        self.check_workers(run, 1)

    def test_zero_inside_a_one_cpu_quota(self):
        if len(os.sched_getaffinity(0)) < 2:
            self.skipTest("needs 2 CPUs in the affinity mask, or the quota changes nothing")
        cgroup = CpuQuotaCgroup(self)
        run = self.start(["-i", "0", helper("sigcatch")] + SIGCATCH,
                         preamble=f'echo $$ > "{cgroup.procs()}"')
        err = self.check_workers(run, 1)
        line = usable_cpus_line(err)
        self.assertRegex(line, r"^cinit: usable CPUs: 1\b")
        self.assertIn("quota", line)
        self.assertNotRegex(line, r"(?i)\bno (cpu )?quota")


class ListenFdsTest(unittest.TestCase):
    maxDiff = None

    def test_listen_socket_is_passed_to_every_worker(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                port = free_port()
                run = start_cluster(self, ["--listen", f"127.0.0.1:{port}", "-i", "2",
                                           helper("listenfds")], port, mode)
                lines = run.out.wait_line_count(2)
                ready = [kv_body(line) for line in lines[:2]]
                self.assertEqual(sorted(r["instance"] for r in ready), ["0", "1"], lines)
                workers = wait_workers(run, 2)
                for k, pid in workers.items():
                    env = environ_of(pid)
                    self.assertEqual(env.get("LISTEN_FDS"), "1", env)
                    self.assertEqual(env.get("LISTEN_PID"), str(ns_pid(pid)), env)
                    self.assertIn("LISTEN_FDNAMES", env)
                expected = {r["pid"]: r["instance"] for r in ready}
                self.assertEqual(set(expected), {str(ns_pid(p)) for p in workers.values()})

                seen = {}

                def both_answer():
                    status, body = http_get(port)
                    self.assertEqual(status, 200, body)
                    answer = kv_body(body)
                    self.assertEqual(expected.get(answer["pid"]), answer["instance"], body)
                    seen[answer["pid"]] = seen.get(answer["pid"], 0) + 1
                    return len(seen) == 2
                wait_for(both_answer, what="both workers to answer", interval=0)
                # Bound to 127.0.0.1 only, as asked.
                with self.assertRaises(OSError):
                    socket.create_connection(("::1", port), timeout=5).close()

                code, out, err = stop(run)
                self.assertEqual(code, 0, err)
                self.assertNotIn("listenfds:", err, "a worker rejected its LISTEN_* variables")
                assert_no_leftover(self, mode, err)

    def test_instance_var_renames_the_variable(self):
        for how in ("option", "env"):
            with self.subTest(how=how):
                port = free_port()
                args = ["--listen", f":{port}", "-i", "2", helper("listenfds"),
                        "--instance-var", "WORKER_ID"]
                env = node_env(port)
                if how == "option":
                    args = ["--instance-var", "WORKER_ID"] + args
                else:
                    env["PM2_PROCESS_INSTANCE_VAR"] = "WORKER_ID"
                run = start_cluster(self, args, port, env=env)
                workers = wait_workers(run, 2, var="WORKER_ID")
                self.assertEqual(sorted(workers), ["0", "1"])
                for pid in workers.values():
                    self.assertNotIn("NODE_APP_INSTANCE", environ_of(pid))
                lines = run.out.wait_line_count(2)
                self.assertEqual(sorted(kv_body(line)["instance"] for line in lines[:2]),
                                 ["0", "1"])
                # ':PORT' is every address: IPv4 and IPv6 loopback both answer.
                for host in ("127.0.0.1", "::1"):
                    status, body = http_get(port, host=host)
                    self.assertEqual(status, 200, body)
                code, _, err = stop(run)
                self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
