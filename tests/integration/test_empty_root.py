"""Empty root: cinit as PID 1 in a root directory that holds nothing but
cinit itself and static helpers (no /proc, /dev, /etc, shell or libc)."""

import os
import shutil
import signal
import unittest

from harness import CINIT, Process, helper, ns_prefix, temp_dir

HELPERS = ("exitwith", "lingering", "sigcatch")


class EmptyRootTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.root = temp_dir(self)
        os.chmod(self.root, 0o755)
        shutil.copy2(CINIT, os.path.join(self.root, "cinit"))
        for name in HELPERS:
            shutil.copy2(helper(name), os.path.join(self.root, name))
        self.assertEqual(sorted(os.listdir(self.root)), sorted(("cinit",) + HELPERS))

    def start(self, args):
        # No --mount-proc: the root has no /proc at all.
        prefix = [arg for arg in ns_prefix() if arg != "--mount-proc"]
        return Process(self, prefix + ["chroot", self.root, "/cinit"] + args, layers=1,
                       cinit_exe=os.path.join(self.root, "cinit"))

    def run_to_end(self, args):
        return self.start(args).finish()

    def test_exit_code_propagates(self):
        for status in (0, 42, 255):
            with self.subTest(status=status):
                code, _, err = self.run_to_end(["/exitwith", str(status)])
                self.assertEqual(code, status, err)

    def test_death_by_signal(self):
        code, _, err = self.run_to_end(["/exitwith", "--signal", str(int(signal.SIGTERM))])
        self.assertEqual(code, 128 + signal.SIGTERM, err)

    def test_command_not_found(self):
        code, _, err = self.run_to_end(["/no-such-program"])
        self.assertEqual(code, 127, err)
        self.assertIn("no-such-program", err)

    def test_directory_cannot_be_executed(self):
        code, _, err = self.run_to_end(["/"])
        self.assertEqual(code, 126, err)

    def test_signal_is_forwarded(self):
        run = self.start(["/sigcatch", "--exit-on", str(int(signal.SIGUSR1)), "--exit-code", "9"])
        run.out.wait_contains("ready\n")
        run.signal(signal.SIGUSR1)
        code, out, err = run.finish()
        self.assertEqual(out.splitlines(), ["ready", str(int(signal.SIGUSR1))])
        self.assertEqual(code, 9, err)

    def test_leftover_process_is_terminated_then_killed(self):
        code, _, err = self.run_to_end(["--kill-timeout", "300", "/lingering", "--file",
                                        "/events", "--mode", "catch-term", "--exit", "7"])
        self.assertEqual(code, 7, err)
        with open(os.path.join(self.root, "events")) as f:
            names = [line.split()[0] for line in f]
        self.assertEqual(names[0], "ready")
        self.assertIn("TERM", names)
        self.assertNotIn("exit", names)


if __name__ == "__main__":
    unittest.main()
