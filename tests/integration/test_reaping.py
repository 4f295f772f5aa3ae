"""Reaping: orphaned grandchildren are reparented to cinit and reaped, both as
PID 1 and, when cinit is not PID 1, as a child subreaper."""

import os
import re
import unittest

from harness import PID1, PLAIN, SUBREAPER, helper, run_cinit


class ReapingTest(unittest.TestCase):
    maxDiff = None

    def assert_all_reaped(self, mode, count):
        code, out, err = run_cinit(self, [helper("orphans"), str(count), "--timeout", "60"], mode,
                                   timeout=90)
        self.assertIn(f"created={count} reparented={count} wrong_parent=0 zombies=0 leftover=0",
                      out, f"stderr: {err!r}")
        self.assertEqual(code, 0, err)
        return err

    def test_pid1_reaps_20000_orphans(self):
        self.assert_all_reaped(PID1, 20000)

    def test_subreaper_reaps_orphans_under_a_plain_parent(self):
        # cinit started directly by this (normal) process: not PID 1.
        self.assert_all_reaped(PLAIN, 2000)

    def test_subreaper_reaps_orphans_in_a_namespace(self):
        # cinit is PID 2 under a minimal init that reports what is left over.
        err = self.assert_all_reaped(SUBREAPER, 2000)
        self.assertIn("nsinit: leftover=0\n", err)


class SubreaperLogTest(unittest.TestCase):

    def test_debug_level_mentions_subreaper(self):
        for how, args, env in (("-vvv", ["-vvv"], None),
                               ("CINIT_VERBOSITY=3", [], dict(os.environ, CINIT_VERBOSITY="3"))):
            with self.subTest(how=how):
                code, _, err = run_cinit(self, args + [helper("exitwith"), "0"], PLAIN, env=env)
                self.assertEqual(code, 0, err)
                lines = [line for line in err.splitlines() if re.search("subreaper", line, re.I)]
                self.assertNotEqual(lines, [], f"no subreaper line in {err!r}")
                for line in lines:
                    self.assertTrue(line.startswith("cinit: "), line)

    def test_default_verbosity_says_nothing_about_subreaper(self):
        env = {k: v for k, v in os.environ.items() if k != "CINIT_VERBOSITY"}
        code, _, err = run_cinit(self, [helper("exitwith"), "0"], PLAIN, env=env)
        self.assertEqual(code, 0, err)
        self.assertNotRegex(err, re.compile("subreaper", re.I))


if __name__ == "__main__":
    unittest.main()
