"""--balance reuseport: one SO_REUSEPORT socket per worker slot, all held by cinit.

Node workers (cluster protocol) and a Python worker (bind shim) each get the socket of
their slot; the kernel spreads new connections over the sockets; a replacement (SIGKILL
then restart) gets its slot's socket back, so connections queued there are served.
"""

import os
import signal
import unittest
from collections import Counter

from harness import wait_for
from test_cluster import (NODE, app, free_port, get_json, listening_sockets, node_version,
                          socket_inodes, start_cluster, stop, wait_online, wait_serving,
                          wait_workers)


class BalanceReuseportTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no node at {NODE}")

    def test_one_socket_per_worker_and_both_serve(self):
        port = free_port()
        run = start_cluster(self, ["-i", "2", "--balance", "reuseport", NODE, app("hello.js")],
                            port)
        wait_online(run, 2)
        workers = wait_workers(run, 2)
        # Two listening sockets on the port, both held by cinit.
        listening = listening_sockets(port)
        self.assertEqual(len(listening), 2, f"listening sockets on port {port}: {listening}")
        self.assertLessEqual(listening, socket_inodes(run.cinit_pid()), "cinit holds both")
        seen = Counter(get_json(port)["instance"] for _ in range(400))
        self.assertEqual(set(seen), {"0", "1"}, f"both workers answer: {dict(seen)}")
        for instance, count in seen.items():
            self.assertGreaterEqual(count, 80, f"instance {instance}: {dict(seen)}")

        # A SIGKILLed worker's replacement takes its slot's socket back.
        os.kill(workers["1"], signal.SIGKILL)
        wait_for(lambda: wait_workers(run, 2)["1"] != workers["1"], what="worker 1 to come back")
        wait_serving(port)
        self.assertEqual(len(listening_sockets(port)), 2, "still one socket per slot")
        seen = Counter(get_json(port)["instance"] for _ in range(200))
        self.assertEqual(set(seen), {"0", "1"}, f"both answer after the restart: {dict(seen)}")

        code, _, err = stop(run)
        self.assertEqual(code, 0, err)
        self.assertIn("SO_REUSEPORT, worker 1", err)


if __name__ == "__main__":
    unittest.main()
