"""Shutdown: when the main child exits while other processes remain, cinit
sends them SIGTERM and SIGCONT, waits until they are gone, SIGKILLs what is
left after --kill-timeout, and exits with the main child's status.

As PID 1 that covers every process in the namespace; as a subreaper only its
descendants. The descendants come from helpers/lingering, which setsid()s
them away from the main child and logs what they receive to a file."""

import os
import signal
import unittest

from harness import (PID1, SUBREAPER, Process, helper, start_cinit, temp_dir, wait_for)

LONG_TIMEOUT_MS = "60000"  # longer than any test deadline: SIGKILL must not be what ends them


def read_events(path):
    """Parses lingering's log into {pid: [event, ...]} in file order."""
    events = {}
    with open(path) as f:
        for line in f:
            words = line.split()
            fields = dict(w.split("=", 1) for w in words[1:])
            events.setdefault(int(fields["pid"]), []).append((words[0], fields))
    return events


class ShutdownTest(unittest.TestCase):
    maxDiff = None

    def run_lingering(self, mode, linger_mode, exit_code, kill_timeout, depth=1):
        log = os.path.join(temp_dir(self), "events")
        run = start_cinit(self, ["--kill-timeout", kill_timeout, helper("lingering"),
                                 "--file", log, "--mode", linger_mode,
                                 "--exit", str(exit_code), "--depth", str(depth)], mode)
        code, _, err = run.finish()
        return run, code, err, read_events(log)

    def assert_no_leftover(self, mode, err):
        if mode == SUBREAPER:
            self.assertIn("nsinit: leftover=0\n", err, "processes left behind when cinit exited")

    def test_descendants_that_exit_on_sigterm(self):
        # A long --kill-timeout: cinit must exit as soon as they are gone.
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                _, code, err, events = self.run_lingering(mode, "exit-on-term", 3,
                                                          LONG_TIMEOUT_MS, depth=2)
                self.assertEqual(len(events), 2, events)
                for pid, seen in events.items():
                    names = [name for name, _ in seen]
                    self.assertIn("TERM", names, f"pid {pid}: {names}")
                    self.assertIn("CONT", names, f"pid {pid}: {names}")
                    self.assertEqual(names[-1], "exit", f"pid {pid} left on its own: {names}")
                self.assertEqual(code, 3, err)
                self.assert_no_leftover(mode, err)

    def test_stopped_descendant_is_continued(self):
        # Stopped, it can only act on SIGTERM after cinit's SIGCONT.
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                _, code, err, events = self.run_lingering(mode, "stopped", 4, LONG_TIMEOUT_MS)
                (seen,) = events.values()
                names = [name for name, _ in seen]
                self.assertIn("TERM", names)
                self.assertIn("CONT", names)
                self.assertEqual(names[-1], "exit")
                self.assertEqual(code, 4, err)
                self.assert_no_leftover(mode, err)

    def test_descendant_that_catches_sigterm_is_killed_after_timeout(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                run, code, err, events = self.run_lingering(mode, "catch-term", 5, "300",
                                                            depth=2)
                self.assertEqual(code, 5, err)
                self.assertEqual(len(events), 2, events)
                for pid, seen in events.items():
                    names = [name for name, _ in seen]
                    # Got SIGTERM first, never left on its own: it was SIGKILLed.
                    self.assertIn("TERM", names, f"pid {pid}: {names}")
                    self.assertNotIn("exit", names, f"pid {pid}: {names}")
                    self.assertNotIn("timeout", names, f"pid {pid}: {names}")
                    # Not SIGKILLed before the timeout (a one-sided bound:
                    # a slow machine only makes the measured gap larger).
                    term_at = float(dict(seen)["TERM"]["t"])
                    self.assertGreaterEqual(run.exited_at - term_at, 0.3 - 0.02)
                self.assert_no_leftover(mode, err)

    def test_descendant_that_ignores_sigterm_is_killed_after_timeout(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                run, code, err, events = self.run_lingering(mode, "ignore-term", 6, "300")
                (seen,) = events.values()
                # SIGTERM is ignored, so only the SIGCONT that follows it shows;
                # it never left on its own: it was SIGKILLed.
                self.assertEqual([name for name, _ in seen], ["ready", "CONT"])
                self.assertGreaterEqual(run.exited_at - float(seen[1][1]["t"]), 0.3 - 0.02)
                self.assertEqual(code, 6, err)
                self.assert_no_leftover(mode, err)

    def test_descendant_that_ignores_sigterm_with_default_kill_timeout(self):
        _, code, err, events = self.run_lingering(SUBREAPER, "ignore-term", 0, "1600")
        self.assertEqual(code, 0, err)
        self.assert_no_leftover(SUBREAPER, err)

    def enter_namespace(self, run, args):
        """Starts args inside cinit's PID namespace, but not as its descendant."""
        return Process(self, ["nsenter", "--target", str(run.cinit_pid()), "--pid", "--"] + args)

    def start_with_outsider(self, mode, outsider_args):
        """cinit runs lingering (exit-on-term) which waits for a "go" file; an
        outsider process is put into cinit's PID namespace with nsenter, so
        it is in the namespace but not a descendant of cinit."""
        directory = temp_dir(self)
        log, go = os.path.join(directory, "events"), os.path.join(directory, "go")
        run = start_cinit(self, ["--kill-timeout", LONG_TIMEOUT_MS, helper("lingering"),
                                 "--file", log, "--mode", "exit-on-term", "--exit", "0",
                                 "--wait-for", go], mode)
        wait_for(lambda: os.path.exists(log) and read_events(log), what="lingering ready")
        outsider = Process(self, ["nsenter", "--target", str(run.cinit_pid()), "--pid", "--"]
                           + outsider_args)
        outsider.out.wait_contains("ready\n")
        with open(go, "w"):
            pass  # the main child exits 0; its descendant is still there
        code, _, err = run.finish()
        self.assertEqual(code, 0, err)
        (seen,) = read_events(log).values()
        self.assertEqual([name for name, _ in seen][-1], "exit")
        return outsider, err

    def test_pid1_terminates_every_process_in_the_namespace(self):
        outsider, _ = self.start_with_outsider(
            PID1, [helper("sigcatch"), "--exit-on", str(int(signal.SIGTERM))])
        # The outsider is not cinit's descendant, so cinit cannot reap it and does
        # not wait for it (README: it waits for its descendants). It got SIGTERM
        # with everyone else, and either exited on it (printing 15) or was still
        # exiting when cinit's exit ended the namespace (SIGKILL). Either way it
        # is gone; what must not happen is that it outlives the namespace.
        outsider_code, out, _ = outsider.finish()
        if outsider_code == 0:
            self.assertEqual(out.splitlines(), ["ready", str(int(signal.SIGTERM))])
        else:
            self.assertEqual(outsider_code, -signal.SIGKILL, out)

    def test_subreaper_spares_processes_that_are_not_its_descendants(self):
        outsider, err = self.start_with_outsider(SUBREAPER, [helper("sigcatch")])
        # nsinit saw the outsider still there when cinit had exited ...
        self.assertIn("nsinit: leftover=1\n", err)
        # ... and it received no signal from cinit (the end of the namespace
        # SIGKILLs it afterwards, which it cannot report).
        outsider.wait()
        self.assertEqual(outsider.out.wait_eof().splitlines(), ["ready"])

if __name__ == "__main__":
    unittest.main()
