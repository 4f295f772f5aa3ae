"""`cinit ctl status [--json]`: a person's view of the running cluster (issue 13).

It reads the status file cinit rewrites whenever the cluster changes, after checking
that a cinit reads the control FIFO. Covers: the same workers, pids, states and
generations as /status, before and after a rolling reload; memory shown from inside
cinit's PID namespace, "-" with the reason from outside; an answer within 100 ms;
exit 1 with a clear message, as fast, when no cinit runs.
"""

import json
import os
import signal
import statistics
import subprocess
import time
import unittest

from harness import CINIT, temp_dir, wait_for
from test_cluster import (NODE, app, free_port, node_version, ns_pid, start_cluster,
                          stop, wait_online, wait_workers)
from test_health import probe

# The requirement for an answer (a process start and a file read).
ANSWER_BOUND = 0.100


def workers_of(view):
    return sorted((w["instance"], w["pid"], w["state"], w["generation"])
                  for w in view["workers"])


class CtlStatusTest(unittest.TestCase):
    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no node at {NODE}")
        self.directory = temp_dir(self)
        self.control = os.path.join(self.directory, "control")
        self.status_file = os.path.join(self.directory, "status.json")

    def ctl(self, *words, prefix=()):
        started = time.monotonic()
        result = subprocess.run([*prefix, CINIT, "ctl", "--control", self.control, "status",
                                 "--status-file", self.status_file, *words],
                                capture_output=True, text=True, timeout=30)
        return result.returncode, result.stdout, result.stderr, time.monotonic() - started

    def ctl_json(self, prefix=()):
        code, out, err, _ = self.ctl("--json", prefix=prefix)
        self.assertEqual(code, 0, err)
        return json.loads(out)

    def wait_agree(self, health, what):
        """Polls until ctl status and /status list the same workers; returns both."""
        def agree():
            status = json.loads(probe(health, "/status")[1])
            view = self.ctl_json()
            return (status, view) if workers_of(status) == workers_of(view) else None
        return wait_for(agree, what=what)

    def test_matches_status_and_answers_fast(self):
        port, health = free_port(), free_port()
        run = start_cluster(self, ["--health", f"127.0.0.1:{health}", "--control",
                                   self.control, "--status-file", self.status_file,
                                   "-i", "2", NODE, app("pm2_graceful.js")], port)
        wait_online(run, 2)
        hosts = wait_workers(run, 2)
        status, view = self.wait_agree(health, "ctl status to list the workers /status does")
        self.assertEqual({w["pid"] for w in view["workers"]},
                         {ns_pid(pid) for pid in hosts.values()})
        self.assertTrue(all(w["state"] == "online" for w in view["workers"]), view)
        self.assertEqual(view["reload"]["state"], "idle")
        self.assertTrue(view["ready"])
        self.assertTrue(all(w["uptime"] >= 0 for w in view["workers"]))
        # From outside cinit's PID namespace its pids are not this /proc's.
        self.assertTrue(all(w["memory_bytes"] is None for w in view["workers"]), view)

        code, text, err, _ = self.ctl()
        self.assertEqual(code, 0, err)
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith("cinit "), text)
        self.assertIn("ready (ok: 2 of 2 worker(s) online)", lines[0])
        rows = [l.split() for l in lines if l[:1].isdigit()]
        self.assertEqual(sorted((int(r[0]), int(r[1]), r[2], int(r[3])) for r in rows),
                         workers_of(status))
        self.assertIn("memory: not shown: not in cinit's PID namespace", text)

        if os.geteuid() == 0:
            inside = ["nsenter", "-t", str(run.cinit_pid()), "-p", "-m", "--"]
            view = self.ctl_json(prefix=inside)
            self.assertTrue(all(w["memory_bytes"] and w["memory_bytes"] > 1 << 20
                                for w in view["workers"]), view)
            code, text, err, _ = self.ctl(prefix=inside)
            self.assertEqual(code, 0, err)
            self.assertIn("MiB", text)
            print(f"\n{text}")

        times = [self.ctl()[3] for _ in range(7)]
        print(f"ctl status answers: median {statistics.median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms")
        self.assertLess(statistics.median(times), ANSWER_BOUND)

        # A rolling reload: generation 2 everywhere, the reload's result shown.
        run.signal(signal.SIGHUP)
        run.err.wait_contains("reload done")
        status, view = self.wait_agree(health, "ctl status after the reload")
        self.assertEqual({w["generation"] for w in view["workers"]}, {2})
        self.assertEqual(view["reload"]["last_result"], "succeeded")
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

        # cinit is gone: the file is left, but nothing reads the FIFO.
        code, out, err, took = self.ctl()
        self.assertEqual(code, 1, out)
        self.assertIn("cinit is not running", err)
        self.assertLess(took, ANSWER_BOUND)

    def test_says_why_when_no_cinit_runs(self):
        code, out, err, took = self.ctl()
        print(f"\nno cinit: answered in {took * 1000:.1f} ms")
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertTrue(err.startswith("cinit: ctl status: cinit is not running: "), err)
        self.assertIn("no control FIFO at", err)
        self.assertLess(took, ANSWER_BOUND)
        bad = subprocess.run([CINIT, "ctl", "status", "--bogus"], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("unknown argument '--bogus'", bad.stderr)


if __name__ == "__main__":
    unittest.main()
