"""No failed request during rolling reloads: HTTP load on 127.0.0.1 (the
apps/reload_load.py client, 4 threads, bounded in count and time) runs while
three reloads of a 2-worker Node cluster happen back to back, each started
once cinit has logged the previous one's `reload done`.

Counted as a failure (must be 0): a refused, reset or timed-out connection, a
close before the complete body, any status but 200, a malformed body. The
keep-alive variant counts apart, and allows, what any HTTP client handles on a
persistent connection: the server closed it while idle (seen before sending,
or the request got no byte of answer and is retried once on a new connection:
GET is idempotent), or its answer said `connection: close`. See reload_load.py.
"""

import os
import subprocess
import sys
import time
import unittest

from harness import DEADLINE, Process, temp_dir
from reload_support import LOAD_PY, NODE, Cluster, load_summary, version_of

RELOADS = 3


def reloads_under_load(test: unittest.TestCase, keepalive: bool, node: str = NODE,
                       reloads: int = RELOADS) -> dict:
    """Runs the load through `reloads` SIGHUP reloads of a 2-worker cluster and
    checks the outcome; returns the load summary."""
    # Cluster's long listen timeout: every handover must be on a real online
    # mark, not on pm2's "silent at the timeout" fallback (a slow start under load).
    cluster = Cluster(test, 2, node=node)
    cluster.wait_online()
    out = os.path.join(temp_dir(test), "load.json")
    argv = [sys.executable, LOAD_PY, "--port", str(cluster.port), "--out", out,
            "--threads", "4", "--max-seconds", str(DEADLINE * (reloads + 1)),
            "--max-requests", "300000", "--timeout", "10"]
    if keepalive:
        argv.append("--keepalive")
    load = Process(test, argv, stdin=subprocess.PIPE)
    load.out.wait_contains("running\n")

    windows = []
    for r in range(1, reloads + 1):
        start = time.monotonic_ns()
        cluster.sighup()
        cluster.wait_reload_done(r)
        windows.append((start, time.monotonic_ns()))
    load.proc.stdin.close()  # end of the load
    code, _, err = load.finish(DEADLINE + 30)
    test.assertEqual(code, 0, err)
    summary = load_summary(out)
    stats = {k: summary[k] for k in ("good", "failures", "idle_closed", "retried",
                                     "server_closed", "connections", "stopped_by")}
    print(f"\nload ({'keep-alive' if keepalive else 'new connection per request'}, "
          f"node {version_of(node)}): {stats}",
          file=sys.stderr)

    test.assertEqual(summary["stopped_by"], "stdin", "the load ended before the reloads did")
    test.assertEqual(summary["failures"], 0,
                     f"failed requests: {summary['failure_samples']}\n{stats}\n{cluster.err()}")
    test.assertNotIn("taking it as online", cluster.err())
    test.assertNotIn("reload aborted", cluster.err())
    # The load covered every reload: requests were answered while each ran.
    times = [t for t, _ in summary["good_times"]]
    for r, (start, end) in enumerate(windows, 1):
        during = sum(1 for t in times if start <= t <= end)
        test.assertGreater(during, 0, f"no request answered during reload {r}")
    # Every worker was replaced `reloads` times: generations 0..reloads, all
    # old ones gone, the last one running and serving.
    starts = cluster.starts()
    test.assertEqual({k: len(pids) for k, pids in starts.items()},
                     {0: reloads + 1, 1: reloads + 1}, "starts per instance")
    old = {pid for pids in starts.values() for pid in pids[:-1]}
    last = cluster.generation(reloads)
    test.assertFalse(old & cluster.alive_ns_pids(), "an old worker is still there")
    test.assertEqual(cluster.live_workers(), {pid: k for k, pid in last.items()})
    for g in range(reloads):
        cluster.assert_handover_order(cluster.generation(g), cluster.generation(g + 1))
    # Every old worker left on its own once its requests were answered ('closed'):
    # none was cut short by the stop signal or SIGKILL, which would also reset
    # keep-alive connections with a request on them (the retried ones above).
    events = cluster.events()
    for pid in old:
        names = [e.name for e in events if e.pid == pid]
        test.assertEqual(names[-2:], ["closed", "exit"], f"pid {pid}: {names}")
        test.assertNotIn("sigterm", names, f"pid {pid}: {names}")
    test.assertNotIn("still running", cluster.err())
    served = {int(pid) for pid in summary["served"]}
    for g in range(reloads):
        test.assertTrue(served & set(cluster.generation(g).values()),
                        f"no request answered by generation {g}")
    test.assertEqual(cluster.serving(last.values()), set(last.values()))
    code, err = cluster.stop()
    test.assertEqual(code, 0, err)
    return summary


class ReloadUnderLoadTest(unittest.TestCase):
    maxDiff = None

    def test_no_failed_request_with_a_new_connection_per_request(self):
        summary = reloads_under_load(self, keepalive=False)
        self.assertEqual(summary["connections"], summary["good"])

    def test_no_failed_request_with_keepalive_connections(self):
        reloads_under_load(self, keepalive=True)


if __name__ == "__main__":
    unittest.main()
