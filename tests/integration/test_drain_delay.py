"""--drain-delay: the lame-duck stop (issue 13).

SIGTERM turns /readyz and the exec probe not ready at once, while the workers keep
serving for the delay (the time a Service needs to stop sending); then the graceful
stop begins as without the delay, and cinit exits 0. A second SIGTERM cuts the delay
short; a reload asked for during it is refused.
"""

import os
import signal
import subprocess
import threading
import time
import unittest

from harness import CINIT, temp_dir, wait_for
from test_cluster import (NODE, app, free_port, http_get, node_env, node_version,
                          start_cluster, wait_online)
from test_health import try_probe

# The requirement: /readyz says 503 within this long of the SIGTERM.
READYZ_BOUND = 0.100
# A Service stops sending within the delay; the load stops this long before the
# delay would end (its propagation margin), so that no request is sent into the
# graceful stop itself (the test is of the delay, not of the stop's drain).
MARGIN = 0.25


class DrainDelayTest(unittest.TestCase):
    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no node at {NODE}")
        self.port = free_port()
        self.health = free_port()
        self.directory = temp_dir(self)
        self.status_file = os.path.join(self.directory, "status.json")

    def start(self, delay_ms):
        return start_cluster(self, ["--health", f"127.0.0.1:{self.health}",
                                    "--status-file", self.status_file,
                                    "--drain-delay", str(delay_ms), "-i", "2", NODE,
                                    app("pm2_graceful.js")], self.port)

    def exec_probe(self):
        result = subprocess.run([CINIT, "status", "--status-file", self.status_file, "--ready"],
                                capture_output=True, text=True, timeout=30)
        return result.returncode, result.stdout

    def first_503(self, since):
        """Polls /readyz until it says 503; returns the time of that answer."""
        def check():
            answer = try_probe(self.health, "/readyz")
            return time.monotonic() if answer and answer[0] == 503 else None
        return wait_for(check, what="/readyz 503 after SIGTERM", interval=0)

    def test_sigterm_turns_not_ready_at_once_and_workers_serve_for_the_delay(self):
        delay = 1.5
        run = self.start(int(delay * 1000))
        wait_online(run, 2)
        wait_for(lambda: self.exec_probe()[0] == 0, what="the exec probe to say ready")
        self.assertEqual(try_probe(self.health, "/readyz")[0], 200)

        results = []  # (time sent, ok)
        stop_load = threading.Event()
        stop_at = [float("inf")]

        def load():
            while not stop_load.is_set() and time.monotonic() < stop_at[0]:
                sent = time.monotonic()
                try:
                    ok = http_get(self.port, timeout=5)[0] == 200
                except OSError:
                    ok = False
                results.append((sent, ok))

        thread = threading.Thread(target=load)
        thread.start()
        try:
            wait_for(lambda: len(results) >= 20, what="requests before the SIGTERM")
            cinit = run.cinit_pid()
            signalled = time.monotonic()
            os.kill(cinit, signal.SIGTERM)
            not_ready = self.first_503(signalled)
            stop_at[0] = not_ready + delay - MARGIN  # as a Service would
            latency = not_ready - signalled
            print(f"\n/readyz 503 {latency * 1000:.1f} ms after SIGTERM")
            self.assertLess(latency, READYZ_BOUND)
            code, out = self.exec_probe()
            self.assertEqual(code, 1, out)
            self.assertTrue(out.startswith("stopping"), out)
            thread.join(30)
        finally:
            stop_load.set()
            thread.join(30)
        during = [ok for sent, ok in results if sent >= not_ready]
        failed = [sent - signalled for sent, ok in results if not ok]
        print(f"{len(results)} requests, {len(during)} of them after /readyz said 503; "
              f"{len(failed)} failed")
        self.assertEqual(failed, [])
        self.assertGreater(len(during), 5, "requests were served during the delay")
        # The graceful stop begins at the delay's end, not before.
        run.err.wait_contains("drain delay over")
        self.assertGreaterEqual(time.monotonic(), signalled + delay)
        code, _, err = run.finish(30)
        self.assertEqual(code, 0, err)
        self.assertIn("(--drain-delay)", err)
        self.assertIn("stopping 2 worker(s) gracefully", err)

    def test_second_sigterm_cuts_the_delay_short_and_a_reload_is_refused(self):
        delay = 20.0
        run = self.start(int(delay * 1000))
        wait_online(run, 2)
        cinit = run.cinit_pid()
        signalled = time.monotonic()
        os.kill(cinit, signal.SIGTERM)
        self.first_503(signalled)
        os.kill(cinit, signal.SIGHUP)
        run.err.wait_contains("reload refused")
        # Still serving: the delay runs.
        self.assertEqual(http_get(self.port, timeout=5)[0], 200)
        again = time.monotonic()
        os.kill(cinit, signal.SIGTERM)
        code, _, err = run.finish(30)
        took = time.monotonic() - again
        print(f"\nexit {took:.2f} s after the second SIGTERM (the delay: {delay:.0f} s)")
        self.assertEqual(code, 0, err)
        self.assertIn("the drain delay is cut short", err)
        self.assertNotIn("drain delay over", err)
        # Well before the delay would have ended (a Node worker's stop takes well
        # under a second; the bound is generous for a loaded machine).
        self.assertLess(time.monotonic() - signalled, delay / 2)
        self.assertNotIn("rolling reload", err)


if __name__ == "__main__":
    unittest.main()
