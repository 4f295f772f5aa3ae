"""Signal forwarding: every catchable signal cinit receives reaches the main
child exactly once; SIGCHLD, SIGTTIN and SIGTTOU are not forwarded; fault
signals sent from outside are forwarded, and do not kill cinit even as a plain
child; a signal that arrives while the child is starting is not lost."""

import os
import signal
import unittest

from harness import (CINIT, PID1, PLAIN, SUBREAPER, Process, helper, ns_prefix, proc_stat,
                     signal_name, start_cinit, status_field, wait_for)

S = signal.Signals
# Standard signals cinit forwards. SIGTERM last: sigcatch exits on it.
FORWARDED = [S.SIGHUP, S.SIGINT, S.SIGQUIT, S.SIGUSR1, S.SIGUSR2, S.SIGWINCH, S.SIGALRM,
             S.SIGCONT, S.SIGPIPE, S.SIGTSTP, S.SIGURG, S.SIGXCPU, S.SIGXFSZ, S.SIGVTALRM,
             S.SIGPROF, S.SIGIO, S.SIGPWR, S.SIGTERM]
NOT_FORWARDED = [S.SIGCHLD, S.SIGTTIN, S.SIGTTOU]
FAULTS = [S.SIGSEGV, S.SIGBUS, S.SIGILL, S.SIGFPE, S.SIGABRT, S.SIGTRAP, S.SIGSYS]
RT_SIGNALS = list(range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
# Sent after signals that must not be forwarded. A real-time signal: the
# kernel delivers pending standard signals before it, so a wrongly forwarded
# signal would be reported before the marker.
MARKER = signal.SIGRTMIN + 5


class SignalForwardingTest(unittest.TestCase):
    maxDiff = None

    def start_sigcatch(self, mode, exit_on, extra=()):
        run = start_cinit(self, list(extra) + [helper("sigcatch"), "--exit-on", str(int(exit_on)),
                                               "--timeout", "60"], mode)
        run.out.wait_contains("ready\n")
        return run

    def send_and_expect(self, run, signo, expected_lines):
        """Sends signo to cinit and waits until sigcatch reported it."""
        run.signal(signo)
        lines = run.out.wait_line_count(len(expected_lines) + 1)
        self.assertEqual(lines[:len(expected_lines) + 1], ["ready"] + expected_lines,
                         f"after sending {signal_name(signo)}")

    def wait_until_consumed(self, run):
        """Waits until cinit has no pending signal (it read or discarded them)."""
        pid = run.cinit_pid()
        wait_for(lambda: int(status_field(pid, "SigPnd") or "0", 16) == 0
                 and int(status_field(pid, "ShdPnd") or "0", 16) == 0,
                 what="cinit to consume its pending signals")

    def assert_cinit_running(self, run):
        st = proc_stat(run.cinit_pid())
        self.assertIsNotNone(st, "cinit is gone")
        self.assertNotIn(st.state, "TtZX", f"cinit state {st.state}")

    def test_standard_signals_reach_the_child_exactly_once(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                run = self.start_sigcatch(mode, signal.SIGTERM)
                expected = []
                for signo in FORWARDED:
                    expected.append(str(int(signo)))
                    self.send_and_expect(run, signo, expected)
                code, out, err = run.finish()
                self.assertEqual(out.splitlines(), ["ready"] + expected, "each exactly once")
                self.assertEqual(code, 0, err)

    def test_realtime_signals_reach_the_child_exactly_once(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                run = self.start_sigcatch(mode, signal.SIGRTMAX)
                expected = []
                for signo in RT_SIGNALS:
                    expected.append(str(signo))
                    self.send_and_expect(run, signo, expected)
                code, out, err = run.finish()
                self.assertEqual(out.splitlines(), ["ready"] + expected)
                self.assertEqual(code, 0, err)

    def test_queued_realtime_signals_are_all_forwarded(self):
        # Real-time signals queue: five sent, five received by cinit, five forwarded.
        signo = signal.SIGRTMIN + 1
        run = self.start_sigcatch(PID1, signal.SIGTERM)
        for _ in range(5):
            run.signal(signo)
        run.out.wait_line_count(6)
        run.signal(signal.SIGTERM)
        code, out, err = run.finish()
        self.assertEqual(out.splitlines(), ["ready"] + [str(signo)] * 5 + ["15"])
        self.assertEqual(code, 0, err)

    def test_sigchld_sigttin_sigttou_are_not_forwarded(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                run = self.start_sigcatch(mode, MARKER)
                for signo in NOT_FORWARDED:
                    run.signal(signo)
                self.wait_until_consumed(run)
                run.signal(MARKER)
                code, out, err = run.finish()
                self.assertEqual(out.splitlines(), ["ready", str(int(MARKER))])
                self.assertEqual(code, 0, err)

    def test_cinit_keeps_running_after_sigttin_and_sigttou(self):
        run = self.start_sigcatch(SUBREAPER, MARKER)
        run.signal(signal.SIGTTIN)
        run.signal(signal.SIGTTOU)
        run.signal(signal.SIGTSTP)  # forwarded, must not stop cinit either
        run.out.wait_line_count(2)
        self.wait_until_consumed(run)
        self.assert_cinit_running(run)
        run.signal(MARKER)
        code, out, err = run.finish()
        self.assertEqual(out.splitlines(), ["ready", "20", str(int(MARKER))])
        self.assertEqual(code, 0, err)

    def test_fault_signals_from_outside_are_forwarded(self):
        # As a plain child they would otherwise kill cinit and orphan its child.
        for mode in (PID1, PLAIN):
            with self.subTest(mode=mode):
                run = self.start_sigcatch(mode, MARKER)
                expected = []
                for signo in FAULTS:
                    expected.append(str(int(signo)))
                    self.send_and_expect(run, signo, expected)
                    self.assert_cinit_running(run)
                run.signal(MARKER)
                code, out, err = run.finish()
                self.assertEqual(out.splitlines(), ["ready"] + expected + [str(int(MARKER))])
                self.assertEqual(code, 0, err)

    def test_signal_goes_to_the_child_only_not_its_process_group(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                # Main child and a child of it, in one process group.
                run = start_cinit(self, [helper("sigcatch"), "--with-child", "--exit-on",
                                         str(MARKER)], mode)
                run.out.wait_contains("\nready\n")
                self.send_and_expect_line(run, signal.SIGUSR2, "12")
                run.signal(MARKER)  # the main child exits; shutdown TERMs the other
                code, out, err = run.finish()
                self.assertEqual(code, 0, err)
                lines = out.splitlines()
                self.assertEqual([l for l in lines if not l.startswith("child ")],
                                 ["ready", "12", str(MARKER)])
                self.assertNotIn("child 12", lines, "forwarded to the process group")
                self.assertNotIn(f"child {MARKER}", lines, "forwarded to the process group")

    def send_and_expect_line(self, run, signo, line):
        run.signal(signo)
        run.out.wait_until(lambda t: f"\n{line}\n" in t, what=f"line {line!r}")

    def test_sleep_killed_by_forwarded_signal(self):
        for signo, status in ((S.SIGTERM, 143), (S.SIGUSR1, 138), (S.SIGUSR2, 140),
                              (S.SIGINT, 130), (S.SIGHUP, 129)):
            with self.subTest(signal=signo.name):
                run = start_cinit(self, ["sleep", "100"], PID1)
                run.main_child(comm="sleep")  # exec'd: default dispositions in place
                run.signal(signo)
                code, _, err = run.finish()
                self.assertEqual(code, status, err)


def block_sigterm():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])


class EarlySignalTest(unittest.TestCase):
    """A SIGTERM that reaches cinit before its child exists is delivered to the
    child once it does. cinit is started with SIGTERM blocked, so the signal
    stays pending across exec and the test does not depend on timing (without
    the block, a PID 1 with default disposition would drop it in the kernel)."""

    def test_sigterm_before_start_as_pid1(self):
        run = Process(self, ns_prefix() + [CINIT, helper("sigstate"), "--sleep", "60"],
                      layers=1, preexec_fn=block_sigterm)
        # The forked child of unshare, possibly before it has exec'd cinit.
        pid = run.layer_pid(1)
        os.kill(pid, signal.SIGTERM)
        code, _, err = run.finish()
        self.assertEqual(code, 143, err)

    def test_sigterm_right_after_exec_not_pid1(self):
        run = start_cinit(self, [helper("sigstate"), "--sleep", "60"], PLAIN,
                          preexec_fn=block_sigterm)
        run.signal(signal.SIGTERM)
        code, _, err = run.finish()
        self.assertEqual(code, 143, err)


if __name__ == "__main__":
    unittest.main()
