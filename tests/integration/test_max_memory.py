"""--max-memory (issue 13): a worker whose process group's memory (PSS) stays
above the limit is replaced gracefully — its replacement starts and comes online
before it is asked to leave — with no failed request under load, and the other
workers untouched. The count and each worker's memory are in /metrics and
/status.
"""

import json
import os
import subprocess
import sys
import unittest
import urllib.request

from harness import DEADLINE, Process, temp_dir, wait_for
from reload_support import LOAD_PY, Cluster, free_port, http_get, load_summary

HOG_MB = 200
LIMIT = "150M"


def fetch(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.read().decode()


class MaxMemoryTest(unittest.TestCase):
    def test_a_worker_over_the_limit_is_replaced_with_no_failed_request(self):
        health = free_port()
        cluster = Cluster(self, 2, ["--max-memory", LIMIT, "--health", f"127.0.0.1:{health}"])
        cluster.wait_online()
        before = cluster.live_workers()  # {ns pid: instance}
        out = os.path.join(temp_dir(self), "load.json")
        load = Process(self, [sys.executable, LOAD_PY, "--port", str(cluster.port), "--out", out,
                              "--threads", "4", "--max-seconds", str(DEADLINE * 2),
                              "--max-requests", "300000", "--timeout", "10"],
                       stdin=subprocess.PIPE)
        load.out.wait_contains("running\n")
        # Memory is sampled every second: every live worker shows up in /status.
        wait_for(lambda: all(w["memory"] for w in json.loads(fetch(health, "/status"))["workers"]),
                 what="memory in /status")
        hog = http_get(cluster.port, f"/hog?mb={HOG_MB}")
        self.assertIn(hog, before)
        cluster.wait_log("memory replacement done", timeout=30)
        load.proc.stdin.close()
        code, _, err = load.finish(DEADLINE + 30)
        self.assertEqual(code, 0, err)
        summary = load_summary(out)
        self.assertEqual(summary["failures"], 0,
                         f"failed requests: {summary['failure_samples']}\n{cluster.err()}")
        self.assertGreater(summary["good"], 0)
        log = cluster.err()
        self.assertRegex(log, rf"worker {before[hog]} \(pid {hog}\) uses \d+\.\d MiB, above "
                         r"--max-memory 150\.0 MiB")
        # Its replacement was online before it was asked to leave; the other is untouched.
        cluster.wait_gone({hog})
        after = cluster.live_workers()
        others = {pid for pid in before if pid != hog}
        self.assertTrue(others <= set(after), f"{before} -> {after}")
        self.assertEqual(sorted(after.values()), [0, 1])
        successor = next(pid for pid, k in after.items() if k == before[hog])
        events = cluster.events()
        online = min(e.t for e in events if e.pid == successor and e.name == "listening")
        asked = min(e.t for e in events if e.pid == hog and e.name == "shutdown")
        self.assertLess(online, asked, "the replacement was online before the old one left")
        self.assertEqual(log.count("uses "), 1, "one replacement only")
        self.assertNotIn("still running", log)
        metrics = fetch(health, "/metrics")
        self.assertIn("cinit_worker_memory_restarts_total 1\n", metrics)
        self.assertRegex(metrics, r'cinit_worker_memory_bytes\{instance="0",pid="\d+"\} \d+')
        status = json.loads(fetch(health, "/status"))
        self.assertEqual(status["reload"]["generation"], 1, "a replacement is no reload")
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
