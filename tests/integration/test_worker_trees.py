"""Cluster mode: a worker is a whole process tree (issue 10).

Each worker leads a process group; the stop signal and SIGKILL go to the group,
and a worker's slot is free only once nothing is left of its group: a wrapper's
child (`sh -c 'app & wait'`, `npm start`) is stopped with its wrapper, on a
reload and when the wrapper exits on its own. Non-Node workers get
--graceful-timeout to drain, as Node workers do. An app that never came online
and crash-loops is given up on within seconds, with the cause named; a worker
the bind shim never reached that exits at once while another runs gets the
EADDRINUSE hint.
"""

import os
import signal
import sys
import time
import unittest

from harness import (PID1, descendants_of, helper, proc_stat, start_cinit, temp_dir,
                     wait_for)
from reload_support import free_port, ns_pid

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "apps", "tree_child.py")
PY = sys.executable


def read_log(path: str) -> list[tuple[int, str, int, str]]:
    """(t, event, ns pid, gen) per complete line of tree_child.py's log."""
    try:
        with open(path) as f:
            lines = f.read().split("\n")[:-1]
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        t, event, pid, gen = line.split()
        out.append((int(t), event, int(pid.split("=")[1]), gen.split("=")[1]))
    return out


class Tree:
    """cinit -v -i N COMMAND as PID 1, with tree_child.py's log and generation file."""

    def __init__(self, test: unittest.TestCase, n: int, command: list[str], args=(),
                 env=None):
        self.test = test
        self.dir = temp_dir(test)
        self.log = os.path.join(self.dir, "events")
        self.gen_file = os.path.join(self.dir, "gen")
        self.set_generation(1)
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("CINIT_", "NODE_", "LISTEN_", "NOTIFY_"))}
        environment.update(TREE_LOG=self.log, TREE_GEN_FILE=self.gen_file)
        environment.update(env or {})
        self.run = start_cinit(test, ["-v", "-i", str(n)] + list(args) + command, PID1,
                               env=environment)

    def set_generation(self, gen: int) -> None:
        with open(self.gen_file + ".tmp", "w") as f:
            f.write(f"{gen}\n")
        os.rename(self.gen_file + ".tmp", self.gen_file)

    def events(self, event: str, gen: str = None) -> list[tuple[int, str, int, str]]:
        return [e for e in read_log(self.log) if e[1] == event and (gen is None or e[3] == gen)]

    def wait_started(self, count: int, gen: str) -> list[int]:
        wait_for(lambda: len(self.events("start", gen)) >= count, 20,
                 f"{count} tree_child.py of generation {gen} to start")
        return [e[2] for e in self.events("start", gen)]

    def alive_ns_pids(self) -> set[int]:
        result = set()
        for pid in descendants_of(self.run.cinit_pid()):
            st = proc_stat(pid)
            nspid = ns_pid(pid)
            if st is not None and st.state != "Z" and nspid is not None:
                result.add(nspid)
        return result

    def stop(self, timeout: float = 30) -> tuple[int, str]:
        self.run.signal(signal.SIGTERM)
        code, _, err = self.run.finish(timeout)
        return code, err


class WrapperTreeTest(unittest.TestCase):
    """`sh -c 'python3 tree_child.py & wait'`: dash dies on SIGTERM in `wait` and
    passes nothing on, as npm's `sh -c` does."""

    WRAPPER = ["sh", "-c", f"{PY} {CHILD} & wait"]

    def test_a_reload_leaves_no_process_of_the_old_generation(self):
        tree = Tree(self, 2, self.WRAPPER, ["--graceful-timeout", "4000"])
        old = tree.wait_started(2, "1")
        tree.set_generation(2)
        tree.run.err.wait_contains("is online (ready)")
        tree.run.signal(signal.SIGHUP)
        tree.run.err.wait_contains("reload done", timeout=40)
        # The reload is done only once each old worker's whole tree is gone.
        left = set(old) & tree.alive_ns_pids()
        self.assertEqual(left, set(), f"old-generation processes still running: {left}; "
                         f"log: {tree.run.err.text()}")
        terms = {e[2] for e in tree.events("term")}
        self.assertEqual(terms, set(old), "each old child got the stop signal")
        new = tree.wait_started(2, "2")
        self.assertTrue(set(new) <= tree.alive_ns_pids())
        code, err = tree.stop()
        self.assertEqual(code, 0, err)
        self.assertEqual(len(tree.events("term")), 4)

    def test_a_leftover_that_ignores_the_stop_signal_is_killed(self):
        tree = Tree(self, 1, self.WRAPPER, ["--graceful-timeout", "800"],
                    env={"TREE_IGNORE_TERM": "1"})
        old = tree.wait_started(1, "1")
        tree.set_generation(2)
        tree.run.err.wait_contains("is online (ready)")
        tree.run.signal(signal.SIGHUP)
        tree.run.err.wait_contains("reload done", timeout=40)
        self.assertEqual(set(old) & tree.alive_ns_pids(), set())
        self.assertIn("sending SIGKILL", tree.run.err.text())
        code, err = tree.stop()
        self.assertEqual(code, 1, "the stop needed SIGKILL: " + err)

    def test_a_wrapper_that_exits_has_its_tree_stopped_before_the_restart(self):
        # sh lives 1.5 s (no crash), then exits; its child would serve on.
        command = ["sh", "-c", f"{PY} {CHILD} & sleep 1.5"]
        tree = Tree(self, 1, command)
        first = tree.wait_started(1, "1")[0]
        tree.run.err.wait_contains("leaving processes of its group behind", timeout=20)
        wait_for(lambda: len(tree.events("start")) >= 2, 20, "the restart")
        starts = tree.events("start")
        terms = [e for e in tree.events("term") if e[2] == first]
        self.assertEqual(len(terms), 1, "the leftover got SIGTERM")
        self.assertLess(terms[0][0], starts[1][0],
                        "the leftover was stopped before the slot was filled again")
        self.assertNotIn(first, tree.alive_ns_pids())
        code, err = tree.stop()
        self.assertEqual(code, 0, err)


class DrainTest(unittest.TestCase):
    def test_a_non_node_worker_gets_the_graceful_timeout(self):
        # 3 s of draining after SIGTERM: past --kill-timeout's 1.6 s, within 8 s.
        tree = Tree(self, 1, [PY, CHILD], env={"TREE_DRAIN_MS": "3000"})
        tree.wait_started(1, "1")
        tree.run.err.wait_contains("is online (ready)")
        started = time.monotonic()
        code, err = tree.stop()
        self.assertEqual(code, 0, "drained without SIGKILL: " + err)
        self.assertGreaterEqual(time.monotonic() - started, 2.9)
        self.assertNotIn("SIGKILL", err)


class CrashLoopTest(unittest.TestCase):
    def test_an_app_that_never_comes_online_is_given_up_on_fast(self):
        tree = Tree(self, 2, ["sh", "-c", "echo broken >&2; exit 1"])
        started = time.monotonic()
        code, _, err = tree.run.finish(20)
        elapsed = time.monotonic() - started
        self.assertEqual(code, 3, err)
        self.assertLess(elapsed, 10, f"gave up after {elapsed:.1f} s")
        self.assertIn("no worker has ever been online", err)
        self.assertIn("the last one exited with 1", err)
        # Nothing was left to kill: every worker was gone before cinit exited.
        self.assertIn("all workers have stopped", err)
        self.assertNotIn("SIGKILL", err)

    def test_a_missing_command_is_named(self):
        tree = Tree(self, 2, ["/nonexistent/server"])
        code, _, err = tree.run.finish(20)
        self.assertEqual(code, 3, err)
        self.assertIn("the command was not found", err)

    def test_a_second_worker_that_cannot_bind_gets_the_hint(self):
        # A static program binds the port itself (as Go does): the shim cannot load
        # in it and, with --share shim, no filter catches its bind(); the first
        # worker binds, the second fails with EADDRINUSE at once.
        tree = Tree(self, 2, [helper("bindport"), str(free_port())], args=["--share", "shim"])
        code, _, err = tree.run.finish(30)
        self.assertEqual(code, 3, err)
        self.assertIn("bindport: bind: Address already in use", err)
        hint = [line for line in err.splitlines() if "EADDRINUSE" in line]
        self.assertEqual(len(hint), 2, err)  # at the first crash, and in the give-up line
        self.assertIn("--listen", hint[0])
        self.assertIn("giving up", hint[1])


if __name__ == "__main__":
    unittest.main()
