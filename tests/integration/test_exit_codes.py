"""Exit status: the child's exit code, 128+N for death by signal N, 127 when
the command is not found, 126 when it cannot be executed."""

import os
import socket
import signal
import stat
import unittest

from harness import PID1, PLAIN, helper, run_cinit, temp_dir

CODES = [0, 1, 2, 3, 42, 100, 126, 127, 128, 200, 254, 255]
SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGKILL, signal.SIGSEGV,
           signal.SIGINT, signal.SIGUSR1, signal.SIGABRT]


class ExitCodeTest(unittest.TestCase):
    maxDiff = None

    def test_exit_code_is_propagated(self):
        for mode, codes in ((PLAIN, CODES), (PID1, [0, 1, 42, 255])):
            for code in codes:
                with self.subTest(mode=mode, code=code):
                    got, _, err = run_cinit(self, [helper("exitwith"), str(code)], mode)
                    self.assertEqual(got, code, err)

    def test_exit_code_through_a_shell(self):
        got, _, err = run_cinit(self, ["sh", "-c", "exit 77"], PID1)
        self.assertEqual(got, 77, err)

    def test_death_by_signal_is_128_plus_n(self):
        for mode, signals in ((PLAIN, SIGNALS),
                              (PID1, [signal.SIGTERM, signal.SIGKILL, signal.SIGSEGV])):
            for signo in signals:
                with self.subTest(mode=mode, signal=signo.name):
                    got, _, err = run_cinit(self, [helper("exitwith"), "--signal", str(int(signo))],
                                            mode)
                    self.assertEqual(got, 128 + signo, err)

    def test_shell_killing_itself(self):
        for name, signo in (("TERM", 15), ("HUP", 1), ("QUIT", 3), ("KILL", 9)):
            with self.subTest(signal=name):
                got, _, err = run_cinit(self, ["sh", "-c", f"kill -{name} $$"], PLAIN)
                self.assertEqual(got, 128 + signo, err)

    def test_command_not_found_is_127_and_named(self):
        for mode in (PLAIN, PID1):
            for command in ("no-such-program-4711", "/nonexistent/dir/no-such-program-4712"):
                with self.subTest(mode=mode, command=command):
                    got, _, err = run_cinit(self, [command, "arg"], mode)
                    self.assertEqual(got, 127, err)
                    self.assertIn(os.path.basename(command), err)
                    for line in err.splitlines():
                        self.assertTrue(line.startswith("cinit: "), f"log line {line!r}")

    def test_directory_is_126(self):
        directory = temp_dir(self)
        for mode in (PLAIN, PID1):
            with self.subTest(mode=mode):
                got, _, err = run_cinit(self, [directory], mode)
                self.assertEqual(got, 126, err)

    def test_non_executable_file_is_126(self):
        directory = temp_dir(self)
        path = os.path.join(directory, "not-executable")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        # Found by path, and found by name on PATH (where it is the only match).
        env = dict(os.environ, PATH=f"{directory}:/usr/bin:/bin")
        for mode in (PLAIN, PID1):
            for command in (path, "not-executable"):
                with self.subTest(mode=mode, command=command):
                    got, _, err = run_cinit(self, [command], mode, env=env)
                    self.assertEqual(got, 126, err)


    def test_fatal_startup_error_is_1(self):
        # Single mode needs nothing that can fail before its child runs; cluster
        # mode must open its --listen sockets first. A port that is taken is a
        # start-up failure: exit 1, one message, no worker started.
        taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        marker = os.path.join(temp_dir(self), "ran")
        got, out, err = run_cinit(self, ["-i", "1", "--control", "none", "--listen",
                                         f"127.0.0.1:{port}", "sh", "-c", f"touch {marker}"],
                                  PLAIN)
        self.assertEqual(got, 1, err)
        self.assertEqual(out, "")
        self.assertIn(str(port), err)
        self.assertFalse(os.path.exists(marker), "no worker may start")
        for line in err.splitlines():
            self.assertTrue(line.startswith("cinit: "), f"log line {line!r}")


if __name__ == "__main__":
    unittest.main()
