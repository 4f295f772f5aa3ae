"""--health: /livez, /readyz, /status, /metrics served from cinit's event loop.

Covers: /readyz 503 before any worker is online and 200 after; 503 the moment SIGTERM
arrives while a slow request drains; /status pids are the real worker pids; 404/405/400;
slow and idle connections (more than the server keeps) never stop /livez from answering
on a fresh connection within 1 s.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import CINIT, temp_dir, wait_for
from test_cluster import (NODE, app, free_port, http_get, node_env, node_version, ns_pid,
                          start_cluster, stop, wait_online, wait_workers)


def probe(port, path, method="GET", timeout=1.0):
    """One request on a new connection; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def try_probe(port, path):
    try:
        return probe(port, path)
    except (ConnectionError, OSError, http.client.HTTPException):
        return None


class HealthTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no node at {NODE}")
        self.port = free_port()
        self.health = free_port()

    def start(self, app_name="hello.js", env=None, extra=()):
        return start_cluster(self, ["--health", f"127.0.0.1:{self.health}", *extra, "-i", "2",
                                    NODE, app(app_name)], self.port,
                             env=env or node_env(self.port))

    def test_readyz_follows_workers_and_status_names_them(self):
        # The app holds before it listens while a file exists: cinit is up, no
        # worker is online.
        directory = temp_dir(self)
        hold = os.path.join(directory, "hold")
        open(hold, "w").close()
        run = self.start("reload_app.js", env=node_env(
            self.port, RELOAD_HOLD_IF=hold, RELOAD_LOG=os.path.join(directory, "events")))
        status = wait_for(lambda: try_probe(self.health, "/readyz"), what="the health endpoint")
        self.assertEqual(status[0], 503, status)
        self.assertIn("0 of 2", status[1])
        self.assertEqual(probe(self.health, "/livez"), (200, "ok\n"))
        os.unlink(hold)
        wait_online(run, 2)
        self.assertEqual(probe(self.health, "/readyz")[0], 200)

        workers = wait_workers(run, 2)
        body = json.loads(probe(self.health, "/status")[1])
        self.assertEqual(body["mode"], "cluster")
        self.assertEqual({w["pid"] for w in body["workers"]},
                         {ns_pid(pid) for pid in workers.values()})
        self.assertEqual({w["instance"] for w in body["workers"]}, {0, 1})
        self.assertTrue(all(w["state"] == "online" for w in body["workers"]))

        metrics = probe(self.health, "/metrics")[1]
        self.assertIn('cinit_workers{state="online"} 2\n', metrics)
        self.assertEqual(probe(self.health, "/nope")[0], 404)
        self.assertEqual(probe(self.health, "/livez", method="POST")[0], 405)
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    def test_readyz_turns_503_at_sigterm_while_a_slow_request_drains(self):
        run = self.start("pm2_graceful.js")
        wait_online(run, 2)
        self.assertEqual(probe(self.health, "/readyz")[0], 200)
        slow = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        slow.request("GET", "/?delay=1500")
        run.out.wait_contains("request delay=1500")  # a worker has it in flight
        run.signal(signal.SIGTERM)
        status = wait_for(lambda: (lambda r: r if r and r[0] == 503 else None)(
            try_probe(self.health, "/readyz")), what="/readyz 503 after SIGTERM")
        self.assertEqual(status, (503, "stopping\n"))
        response = slow.getresponse()
        self.assertEqual(response.status, 200)
        slow.close()
        code, _, err = run.finish(30)
        self.assertEqual(code, 0, err)

    def test_garbage_and_slow_clients_do_not_block_livez(self):
        run = self.start()
        wait_online(run, 2)
        # Malformed requests get 400.
        for junk in (b"GARBAGE\r\n\r\n", b"GET nope HTTP/1.1\r\n\r\n", b"\x00\xff\r\n\r\n"):
            with socket.create_connection(("127.0.0.1", self.health), timeout=2) as s:
                s.sendall(junk)
                self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"), junk)
        # Idle and byte-at-a-time clients, more than the server keeps open.
        held = []
        self.addCleanup(lambda: [s.close() for s in held])
        for i in range(48):
            s = socket.create_connection(("127.0.0.1", self.health), timeout=2)
            if i % 2:
                s.sendall(b"GET /liv")  # never finishes its request
            held.append(s)
        started = time.monotonic()
        self.assertEqual(probe(self.health, "/livez", timeout=1.0), (200, "ok\n"))
        self.assertLess(time.monotonic() - started, 1.0)
        # A request that never ends is cut off after a bound, not kept forever.
        s = socket.create_connection(("127.0.0.1", self.health), timeout=10)
        s.sendall(b"GET /livez HTTP/1.1\r\n")
        s.settimeout(10)
        self.assertEqual(s.recv(100), b"", "a slow request is dropped")
        s.close()
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)


class ExecProbeTest(unittest.TestCase):
    """`cinit status --ready|--live` agrees with /readyz and /livez, without HTTP too."""

    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no node at {NODE}")

    def status(self, path, *args):
        result = subprocess.run([CINIT, "status", "--status-file", path, *args],
                                capture_output=True, text=True, timeout=30)
        return result.returncode, result.stdout

    def test_exec_probe_agrees_with_readyz(self):
        port, health = free_port(), free_port()
        directory = temp_dir(self)
        path = os.path.join(directory, "status.json")
        hold = os.path.join(directory, "hold")
        open(hold, "w").close()
        run = start_cluster(self, ["--health", f"127.0.0.1:{health}", "--status-file", path,
                                   "-i", "2", NODE, app("reload_app.js")], port,
                            env=node_env(port, RELOAD_HOLD_IF=hold,
                                         RELOAD_LOG=os.path.join(directory, "events")))
        wait_for(lambda: os.path.exists(path), what="the status file")
        self.assertEqual(self.status(path, "--ready")[0], 1)
        self.assertEqual(self.status(path, "--live")[0], 0)
        self.assertEqual(probe(health, "/readyz")[0], 503)
        os.unlink(hold)
        wait_online(run, 2)
        code, out = wait_for(lambda: (lambda r: r if r[0] == 0 else None)(
            self.status(path, "--ready")), what="cinit status --ready to say ready")
        self.assertIn("2 of 2", out)
        self.assertEqual(probe(health, "/readyz")[0], 200)
        run.signal(signal.SIGTERM)
        wait_for(lambda: self.status(path, "--ready")[0] == 1, what="not ready after SIGTERM")
        self.assertEqual(self.status(path, "--ready")[1], "stopping\n")
        run.finish(30)

    def test_bad_arguments_and_no_file(self):
        directory = temp_dir(self)
        self.assertEqual(self.status(os.path.join(directory, "none"), "--ready")[0], 1)
        bad = subprocess.run([CINIT, "status", "--bogus"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertTrue(bad.stderr.startswith("cinit: "))
        garbage = os.path.join(directory, "garbage")
        with open(garbage, "w") as f:
            f.write("not json")
        self.assertEqual(self.status(garbage, "--ready")[0], 1)


class JsonLogTest(unittest.TestCase):
    def test_every_log_line_is_a_json_object(self):
        result = subprocess.run([CINIT, "--log-format", "json", "-vv", "sh", "-c",
                                 "sleep 0.1 & exit 4"], capture_output=True, text=True,
                                timeout=30)
        self.assertEqual(result.returncode, 4, result.stderr)
        lines = result.stderr.splitlines()
        self.assertGreaterEqual(len(lines), 3, result.stderr)
        for line in lines:
            entry = json.loads(line)
            self.assertRegex(entry["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(entry["level"], {"error", "warning", "info", "debug"})
            self.assertIsInstance(entry["message"], str)
            self.assertEqual(entry["fields"], {})
        self.assertTrue(any("exited with 4" in json.loads(l)["message"] for l in lines))


if __name__ == "__main__":
    unittest.main()
