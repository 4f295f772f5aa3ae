"""Cluster mode, stopping: SIGTERM/SIGINT stop Node workers gracefully (pm2's
'shutdown' message plus Node's cluster disconnect; a request in flight is
answered), then with the stop signal after --graceful-timeout and SIGKILL
after --kill-timeout; a second SIGTERM/SIGINT skips the graceful step. cinit
exits 0 when no worker needed SIGKILL, 1 otherwise, and leaves nothing."""

import signal
import threading
import unittest

from harness import PID1, SUBREAPER
from test_cluster import (NODE, app, assert_no_leftover, for_each_node, free_port, get_json,
                          node_env, node_version, start_cluster, wait_online,
                          wait_workers)

IN_FLIGHT_DELAY_MS = 1500


class Request(threading.Thread):
    """get_json in a background thread; .result or .error once joined."""

    def __init__(self, port, path):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.result, self.error = None, None
        self.start()

    def run(self):
        try:
            self.result = get_json(self.port, self.path)
        except Exception as e:  # reported by the test
            self.error = e


def lines_of(out, pid):
    """stdout lines of one worker (by its pid in the namespace), in order."""
    return [line for line in out.splitlines() if line.endswith(f" pid={pid}")
            or f" pid={pid} " in line]


class GracefulStopTest(unittest.TestCase):
    maxDiff = None

    def test_request_in_flight_completes(self):
        for_each_node(self, self.check_request_in_flight_completes)

    def check_request_in_flight_completes(self, node, version):
        port = free_port()
        run = start_cluster(self, ["-i", "2", node, app("pm2_graceful.js")], port)
        slots = wait_online(run, 2)
        self.assertEqual(sorted(wait_workers(run, 2)), ["0", "1"])
        request = Request(port, f"/?delay={IN_FLIGHT_DELAY_MS}")
        run.out.wait_contains(f"request delay={IN_FLIGHT_DELAY_MS} ")
        run.signal(signal.SIGTERM)

        request.join(30)
        self.assertFalse(request.is_alive(), "no response")
        self.assertIsNone(request.error, f"the request in flight failed: {request.error!r}; "
                                         f"cinit: {run.err.text()!r}")
        self.assertEqual(request.result["node"], version)
        code, out, err = run.finish()
        self.assertEqual(code, 0, err)
        self.assertNotIn("still running", err, "a worker needed the stop signal")
        for k, pid in slots.items():
            self.assertIn(f"shutdown pid={pid} instance={k}", lines_of(out, pid), out)
        served = request.result
        mine = lines_of(out, served["pid"])
        self.assertLess(mine.index(f"request delay={IN_FLIGHT_DELAY_MS} pid={served['pid']} "
                                   f"instance={served['instance']}"),
                        mine.index(f"shutdown pid={served['pid']} "
                                   f"instance={served['instance']}"),
                        "the request arrived before the shutdown")
        self.assertRegex(err, rf"(?m)^cinit: worker {served['instance']} "
                              rf"\(pid {served['pid']}\) exited with 0$")


class ForcedStopTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no usable node at {NODE} (set CINIT_TEST_NODE)")

    def start_stubborn(self, mode, extra_args, ignore_sigterm):
        port = free_port()
        run = start_cluster(self, extra_args + ["-i", "2", NODE, app("stubborn.js")], port, mode,
                            env=node_env(port, IGNORE_SIGTERM="1" if ignore_sigterm else "0"))
        slots = wait_online(run, 2)
        return run, slots

    def test_worker_ignoring_shutdown_and_sigterm_is_killed(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                run, slots = self.start_stubborn(
                    mode, ["--graceful-timeout", "500", "--kill-timeout", "500"], True)
                run.signal(signal.SIGTERM)
                code, out, err = run.finish()
                self.assertEqual(code, 1, f"SIGKILL was needed: {err}")
                for k, pid in slots.items():
                    self.assertEqual(lines_of(out, pid), [
                        f"listening pid={pid} instance={k}",
                        f'message "shutdown" pid={pid} instance={k}',
                        f"signal SIGTERM pid={pid} instance={k}"], out)
                    self.assertRegex(err, rf"(?m)^cinit: .*worker {k} \(pid {pid}\) "
                                          r"killed by SIGKILL$")
                assert_no_leftover(self, mode, err)

    def test_worker_ignoring_shutdown_gets_the_stop_signal(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                run, slots = self.start_stubborn(
                    mode, ["--graceful-timeout", "500", "--kill-timeout", "60000"], False)
                run.signal(signal.SIGTERM)
                code, out, err = run.finish()
                self.assertEqual(code, 0, f"no SIGKILL was needed: {err}")
                for k, pid in slots.items():
                    self.assertEqual(lines_of(out, pid), [
                        f"listening pid={pid} instance={k}",
                        f'message "shutdown" pid={pid} instance={k}'], out)
                    self.assertRegex(err, rf"(?m)^cinit: .*worker {k} \(pid {pid}\) "
                                          r"killed by SIGTERM$")
                assert_no_leftover(self, mode, err)

    def test_custom_stop_signal(self):
        run, slots = self.start_stubborn(
            PID1, ["--graceful-timeout", "500", "--kill-timeout", "60000",
                   "--stop-signal", "SIGINT"], True)
        run.signal(signal.SIGTERM)
        code, out, err = run.finish()
        self.assertEqual(code, 0, err)
        for k, pid in slots.items():
            self.assertRegex(err, rf"(?m)^cinit: .*worker {k} \(pid {pid}\) killed by SIGINT$")

    def test_second_signal_skips_the_graceful_step(self):
        # The graceful timeout and the kill timeout are longer than any test
        # deadline: only the second signal can end the workers.
        for signo in (signal.SIGINT, signal.SIGTERM):
            with self.subTest(signal=signo.name):
                run, slots = self.start_stubborn(
                    PID1, ["--graceful-timeout", "600000", "--kill-timeout", "600000"], False)
                run.signal(signo)
                for k, pid in slots.items():
                    run.out.wait_contains(f'message "shutdown" pid={pid} instance={k}\n')
                run.signal(signo)
                code, out, err = run.finish()
                self.assertEqual(code, 0, err)
                for k, pid in slots.items():
                    self.assertRegex(err, rf"(?m)^cinit: .*worker {k} \(pid {pid}\) "
                                          r"killed by SIGTERM$")


if __name__ == "__main__":
    unittest.main()
