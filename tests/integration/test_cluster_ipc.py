"""Cluster mode, the Node IPC channel: junk a worker writes to it (raw bytes,
non-JSON lines, lines over 64 KiB, JSON that is no Node message) is logged and
dropped, and the worker's 'ready' still counts; a package manager (`npm
start`) is not given the channel, and then needs the bind shim to share the
port between its workers."""

import json
import os
import re
import unittest

from harness import PID1, SUBREAPER, proc_stat, wait_for
from test_cluster import (APPS, NODE, ONLINE_RE, app, assert_no_leftover, environ_of, free_port,
                          get_json, node_env, node_version, start_cluster, stop,
                          try_get, wait_online, wait_workers)

NPM_APP = os.path.join(APPS, "npm-start")
CRASH_RE = re.compile(r"^cinit: .*worker (\d+) \(pid \d+\) exited with [1-9]", re.M)


class IpcGarbageTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no usable node at {NODE} (set CINIT_TEST_NODE)")

    def test_junk_on_the_channel_is_dropped(self):
        for mode in (PID1, SUBREAPER):
            with self.subTest(mode=mode):
                port = free_port()
                run = start_cluster(self, ["-i", "2", NODE, app("ipc_garbage.js")], port, mode)
                slots = wait_online(run, 2)
                workers = wait_workers(run, 2)
                for k, pid in slots.items():
                    run.out.wait_contains(f"junk sent pid={pid} instance={k}\n")
                err = run.err.text()
                # Online through 'ready', sent after the junk (listen() comes later).
                kinds = {int(m[1]): m[3] for m in ONLINE_RE.finditer(err)}
                self.assertEqual(kinds, {0: "ready", 1: "ready"}, err)
                # Four junk lines each at least (raw bytes, not JSON, 100 KiB,
                # a 200 KiB message): each logged, none fatal.
                warnings = [line for line in err.splitlines()
                            if line.startswith("cinit: warning:")]
                self.assertGreaterEqual(len(warnings), 8, err)
                self.assertNotRegex(err, r"(?m)^cinit: (error|fatal)")
                for pid in workers.values():
                    self.assertIsNotNone(proc_stat(pid), "a worker was ended")
                self.assertEqual(wait_workers(run, 2), workers, "no worker was replaced")

                # Both serve: the channel still works for queryServer.
                for k, pid in slots.items():
                    run.out.wait_contains(f"listening pid={pid} instance={k}\n")
                seen = set()
                wait_for(lambda: seen.add(get_json(port)["instance"]) or seen == {"0", "1"},
                         what="both workers to answer", interval=0)
                code, _, err = stop(run)
                self.assertEqual(code, 0, err)
                assert_no_leftover(self, mode, err)


def npm_env(port):
    return node_env(port, npm_config_update_notifier="false", npm_config_fund="false",
                    npm_config_audit="false", npm_config_loglevel="warn",
                    npm_config_logs_max="0")


class NpmStartTest(unittest.TestCase):
    """`cinit -i 2 npm start`, package.json's start script being `node app.js`."""
    maxDiff = None

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no usable node at {NODE} (set CINIT_TEST_NODE)")
        if not os.access("/usr/bin/npm", os.X_OK):
            self.skipTest("no npm")

    def start_npm(self):
        port = free_port()
        run = start_cluster(self, ["-i", "2", "npm", "start"], port, env=npm_env(port),
                            cwd=NPM_APP)
        return port, run

    def test_npm_gets_no_node_channel(self):
        port, run = self.start_npm()
        run.err.wait_contains("Node IPC channel:")
        self.assertRegex(run.err.text(), r"(?m)^cinit: 2 worker\(s\) of 'npm'; "
                                         r"Node IPC channel: no \(npm\b")
        workers = wait_workers(run, 2)
        self.assertEqual(sorted(workers), ["0", "1"])
        for pid in workers.values():
            env = environ_of(pid)
            self.assertNotIn("NODE_CHANNEL_FD", env)
            self.assertNotIn("NODE_UNIQUE_ID", env)
        # The app behind npm runs, with its instance, as a plain process:
        # one of them at least serves the port.
        status, _ = wait_for(lambda: try_get(port), what="the app behind npm to answer",
                             interval=0.02)
        self.assertEqual(status, 200)
        self.assertIn(get_json(port)["instance"], {"0", "1"})
        code, _, err = stop(run)
        self.assertIn(code, (0, 1), err)

    def test_npm_workers_share_the_port(self):
        port, run = self.start_npm()
        seen = set()

        def both_or_crash():
            answer = try_get(port)
            if answer and answer[0] == 200:
                seen.add(json.loads(answer[1])["instance"])
            crash = CRASH_RE.search(run.err.text())
            if crash and seen != {"0", "1"}:
                raise AssertionError(
                    f"worker {crash[1]} crashed before both instances answered (seen {seen}): "
                    f"without the bind shim, the second `node app.js` gets EADDRINUSE; "
                    f"stdout {run.out.text()[-2000:]!r} stderr {run.err.text()[-2000:]!r}")
            return seen == {"0", "1"}
        wait_for(both_or_crash, what="both npm workers to answer", interval=0.01)
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
