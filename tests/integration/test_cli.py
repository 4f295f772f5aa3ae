"""Command line: --help, --version, usage errors, `--`, options stop at the
first non-option word, -s and -v accepted."""

import os
import re
import stat
import unittest

from harness import PLAIN, helper, run_cinit, stderr_lines, temp_dir


class CliTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.dir = temp_dir(self)
        # A command that leaves evidence if cinit spawns it although it must not.
        self.marker = os.path.join(self.dir, "spawned")
        self.spawn_evidence = ["touch", self.marker]

    def assert_nothing_spawned(self):
        self.assertFalse(os.path.exists(self.marker), "cinit spawned the command")

    def assert_usage_error(self, args):
        code, out, err = run_cinit(self, args, PLAIN)
        self.assertEqual(code, 2, f"cinit {args}: stderr {err!r}")
        lines = stderr_lines(err)
        self.assertEqual(len(lines), 1, f"cinit {args}: want one stderr line, got {err!r}")
        self.assertTrue(lines[0].startswith("cinit: "), f"cinit {args}: {lines[0]!r}")
        self.assertTrue(err.endswith("\n"), f"cinit {args}: unterminated line {err!r}")
        self.assertEqual(out, "", f"cinit {args}: stdout")
        self.assert_nothing_spawned()

    def test_help_prints_usage_on_stdout_and_exits_0(self):
        for flag in ("-h", "--help"):
            with self.subTest(flag=flag):
                code, out, err = run_cinit(self, [flag] + self.spawn_evidence, PLAIN)
                self.assertEqual(code, 0, err)
                self.assertRegex(out, re.compile("usage", re.I))
                self.assertEqual(err, "")
                self.assert_nothing_spawned()

    def test_version_prints_name_and_version_and_exits_0(self):
        expected = os.environ.get("CINIT_VERSION")
        for flag in ("-V", "--version"):
            with self.subTest(flag=flag):
                code, out, err = run_cinit(self, [flag] + self.spawn_evidence, PLAIN)
                self.assertEqual(code, 0, err)
                if expected:
                    self.assertEqual(out, f"cinit {expected}\n")
                else:
                    self.assertRegex(out, r"\Acinit \S+\n\Z")
                self.assertEqual(err, "")
                self.assert_nothing_spawned()

    def test_no_command_is_a_usage_error(self):
        for args in ([], ["--"], ["-v"], ["-s"], ["--kill-timeout", "100"]):
            with self.subTest(args=args):
                self.assert_usage_error(args)

    def test_unknown_option_is_a_usage_error(self):
        for args in (["--bogus"], ["-x"], ["-q"], ["--kill-timeoutx", "5"]):
            with self.subTest(args=args):
                self.assert_usage_error(args + self.spawn_evidence)

    def test_bad_kill_timeout_is_a_usage_error(self):
        for value in ("abc", "", "12abc"):
            with self.subTest(value=value):
                self.assert_usage_error(["--kill-timeout", value] + self.spawn_evidence)

    def test_kill_timeout_without_value_is_a_usage_error(self):
        self.assert_usage_error(["--kill-timeout"])

    def test_valid_kill_timeout_is_accepted(self):
        code, _, err = run_cinit(self, ["--kill-timeout", "300", helper("exitwith"), "5"], PLAIN)
        self.assertEqual(code, 5, err)

    def test_double_dash_allows_a_command_starting_with_a_dash(self):
        # A program literally named "-x" on PATH.
        os.symlink(helper("exitwith"), os.path.join(self.dir, "-x"))
        env = dict(os.environ, PATH=f"{self.dir}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        code, _, err = run_cinit(self, ["--", "-x", "42"], PLAIN, env=env)
        self.assertEqual(code, 42, err)
        code, _, err = run_cinit(self, ["-v", "--", "-x", "43"], PLAIN, env=env)
        self.assertEqual(code, 43, err)
        # Without "--" the same word is an (unknown) option.
        self.assert_usage_error(["-x", "42"])

    def test_options_stop_at_the_first_non_option_word(self):
        code, _, err = run_cinit(self, ["sh", "-c", "exit 3"], PLAIN)
        self.assertEqual(code, 3, err)
        # cinit's own option words after the command belong to the command.
        code, out, err = run_cinit(
            self, ["printf", "%s|", "-v", "--version", "-h", "--kill-timeout", "x", "--"], PLAIN)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "-v|--version|-h|--kill-timeout|x|--|")

    def test_options_before_the_command_are_cinits(self):
        code, out, err = run_cinit(self, ["-v", "-s", "--kill-timeout", "50", "--",
                                          "printf", "%s|", "a", "-V"], PLAIN)
        self.assertEqual(code, 0, err)
        self.assertEqual(out, "a|-V|")

    def test_s_is_accepted_and_ignored(self):
        code, _, err = run_cinit(self, ["-s", helper("exitwith"), "4"], PLAIN)
        self.assertEqual(code, 4, err)
        code, _, err = run_cinit(self, ["-s", "--", helper("exitwith"), "0"], PLAIN)
        self.assertEqual(code, 0, err)

    def test_repeated_v_is_accepted_and_logs_go_to_stderr_prefixed(self):
        for args in (["-v"], ["-v", "-v"], ["-vvv"], ["--verbose", "--verbose"]):
            with self.subTest(args=args):
                code, out, err = run_cinit(self, args + [helper("exitwith"), "6"], PLAIN)
                self.assertEqual(code, 6, err)
                self.assertEqual(out, "")
                for line in stderr_lines(err):
                    self.assertTrue(line.startswith("cinit: "), f"log line {line!r}")
        # At debug level something is logged at all (so the check above is not vacuous).
        _, _, err = run_cinit(self, ["-vvv", helper("exitwith"), "0"], PLAIN)
        self.assertNotEqual(stderr_lines(err), [])

    def test_verbosity_from_environment(self):
        for level in ("0", "1", "2", "3"):
            with self.subTest(level=level):
                env = dict(os.environ, CINIT_VERBOSITY=level)
                code, out, err = run_cinit(self, [helper("exitwith"), "0"], PLAIN, env=env)
                self.assertEqual(code, 0, err)
                for line in stderr_lines(err):
                    self.assertTrue(line.startswith("cinit: "), f"log line {line!r}")
                if level in ("0", "1"):
                    self.assertEqual(err, "", "nothing to warn about at this level")
                if level == "3":
                    self.assertNotEqual(err, "", "debug level logs something")

    def test_default_verbosity_is_quiet_on_success(self):
        code, out, err = run_cinit(self, [helper("exitwith"), "0"], PLAIN)
        self.assertEqual((code, out, err), (0, "", ""))

    def test_usage_error_when_command_file_is_fine_but_option_is_not(self):
        # An executable command after a bad option still must not run.
        script = os.path.join(self.dir, "prog")
        with open(script, "w") as f:
            f.write(f"#!/bin/sh\ntouch {self.marker}\n")
        os.chmod(script, stat.S_IRWXU)
        self.assert_usage_error(["--nope", script])


if __name__ == "__main__":
    unittest.main()
