"""Interactive use: cinit on a terminal (like `docker run -it`). The child
gets the terminal's foreground process group, Ctrl-C reaches what runs in
the shell and not cinit, and the shell's exit status is cinit's.

The terminal is a pseudo-terminal made here (os.openpty); cinit's side of it
is its stdin, stdout, stderr and controlling terminal (setsid + TIOCSCTTY),
which is what a terminal emulator or `script` would do."""

import fcntl
import os
import termios
import unittest

from harness import (PID1, PLAIN, Stream, comm_of, descendants_of, helper, is_gone,
                     parse_kv, proc_stat, start_cinit, temp_dir, wait_for)


def owns_terminal(pid):
    """pid leads its process group, and that group is the terminal's foreground."""
    st = proc_stat(pid)
    return st is not None and st.tpgid == st.pgrp == pid


def make_controlling_terminal():
    """preexec_fn (after setsid): stdin becomes the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class InteractiveTest(unittest.TestCase):
    maxDiff = None

    def start_on_pty(self, args, mode):
        master, slave = os.openpty()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "dumb", "PS1": "$ ",
               "HOME": temp_dir(self)}
        run = start_cinit(self, args, mode, stdin=slave, stdout=slave, stderr=slave, env=env,
                          preexec_fn=make_controlling_terminal)
        os.close(slave)
        run.tty = Stream(master)

        def close_terminal():
            run.kill()  # idempotent; the reader sees EIO once every process is gone
            run.tty.join(10)
            os.close(master)
        self.addCleanup(close_terminal)
        return run

    def type(self, run, text):
        os.write(run.tty.fd, text.encode())

    def assert_cinit_running(self, run):
        st = proc_stat(run.cinit_pid())
        self.assertIsNotNone(st, "cinit is gone")
        self.assertNotIn(st.state, "TtZX", f"cinit state {st.state}")

    def test_child_gets_the_foreground_process_group(self):
        for mode in (PID1, PLAIN):
            with self.subTest(mode=mode):
                run = self.start_on_pty([helper("sigstate")], mode)
                state = parse_kv(run.tty.wait_contains("end").replace("\r", ""))
                self.assertEqual(state["pgid"], state["pid"], "own process group")
                self.assertEqual(state["tpgid"], state["pgid"], "foreground on the terminal")
                self.assertEqual(run.wait(), 0)

    def test_shell_ctrl_c_and_exit_status(self):
        for mode in (PID1, PLAIN):
            with self.subTest(mode=mode):
                run = self.start_on_pty(["--", "sh"], mode)
                shell = run.main_child(comm="sh")
                shell_start = proc_stat(shell).starttime
                # The shell is in the foreground: an interactive shell that is
                # not would stop itself with SIGTTIN instead.
                wait_for(lambda: owns_terminal(shell), what="the shell to own the terminal")

                self.type(run, "sleep 100\n")
                sleeper = wait_for(lambda: next(
                    (p for p in descendants_of(shell) if comm_of(p) == "sleep"), None),
                    what="sleep to start")
                sleeper_start = proc_stat(sleeper).starttime
                self.type(run, "\x03")  # Ctrl-C
                wait_for(lambda: is_gone(sleeper, sleeper_start), what="sleep to be interrupted")

                # The shell survived and still works; cinit was neither
                # stopped nor killed.
                self.assertFalse(is_gone(shell, shell_start), "the shell died")
                self.assert_cinit_running(run)
                self.type(run, "echo alive-$((6+1))\n")
                run.tty.wait_contains("alive-7")
                self.assert_cinit_running(run)

                self.type(run, "exit 7\n")
                self.assertEqual(run.wait(), 7)


if __name__ == "__main__":
    unittest.main()
