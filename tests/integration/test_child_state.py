"""The child's starting state: no blocked and no ignored signals even when
cinit inherited some, no file descriptors beyond 0, 1, 2, its own process
group, the caller's working directory (while cinit itself moves to /)."""

import os
import signal
import subprocess
import unittest

from harness import (PID1, PLAIN, helper, parse_kv, start_cinit, temp_dir)

BLOCKED = [signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP, signal.SIGRTMIN + 2]
IGNORED = [signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTSTP, signal.SIGUSR2]


def mask_of(signals):
    return sum(1 << (int(s) - 1) for s in signals)


def dirty_signal_state():
    """preexec_fn: block some signals and ignore others, like a careless parent."""
    signal.pthread_sigmask(signal.SIG_BLOCK, BLOCKED)
    for signo in IGNORED:
        signal.signal(signo, signal.SIG_IGN)


class ChildStateTest(unittest.TestCase):
    maxDiff = None

    def test_control_the_parent_state_is_really_dirty(self):
        # Without cinit in between, the helper sees what the test set up; so
        # the zeros below are cinit's doing.
        result = subprocess.run([helper("sigstate")], preexec_fn=dirty_signal_state,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=30, check=True)
        state = parse_kv(result.stdout)
        self.assertEqual(int(state["SigBlk"], 16) & mask_of(BLOCKED), mask_of(BLOCKED))
        self.assertEqual(int(state["SigIgn"], 16) & mask_of(IGNORED), mask_of(IGNORED))

    def test_child_starts_clean(self):
        cwd = os.path.realpath(temp_dir(self))
        for mode in (PLAIN, PID1):
            with self.subTest(mode=mode):
                run = start_cinit(self, [helper("sigstate"), "--sleep", "60"], mode,
                                  preexec_fn=dirty_signal_state, cwd=cwd)
                state = parse_kv(run.out.wait_contains("end\n"))
                self.assertEqual(state["SigBlk"], "0" * 16, "blocked signals")
                self.assertEqual(state["SigIgn"], "0" * 16, "ignored signals")
                self.assertEqual(state["fds"], "0,1,2", "open file descriptors")
                self.assertEqual(state["pgid"], state["pid"], "own process group")
                self.assertEqual(state["cwd"], cwd, "child keeps the caller's cwd")
                if mode == PID1:
                    self.assertEqual(state["ppid"], "1")
                else:
                    self.assertEqual(state["ppid"], str(run.cinit_pid()))
                # cinit itself moved to "/" before the spawn.
                self.assertEqual(os.readlink(f"/proc/{run.cinit_pid()}/cwd"), "/")
                run.signal(signal.SIGTERM)
                code, _, err = run.finish()
                self.assertEqual(code, 128 + signal.SIGTERM, err)


    def test_child_gets_no_fd_that_cinit_did_not_inherit(self):
        # cinit inherits one extra descriptor; the child may get it, but
        # nothing of cinit's own (signalfd, epoll, pipes, ...).
        read_end, write_end = os.pipe()
        self.addCleanup(os.close, read_end)
        self.addCleanup(os.close, write_end)
        for mode in (PLAIN, PID1):
            with self.subTest(mode=mode):
                run = start_cinit(self, [helper("sigstate")], mode, pass_fds=(write_end,))
                code, out, err = run.finish()
                self.assertEqual(code, 0, err)
                fds = set(parse_kv(out)["fds"].split(","))
                self.assertLessEqual(fds, {"0", "1", "2", str(write_end)})
                self.assertLessEqual({"0", "1", "2"}, fds)


if __name__ == "__main__":
    unittest.main()
