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
import threading
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
        self.check_prometheus(metrics)
        self.assertEqual(probe(self.health, "/nope")[0], 404)
        self.assertEqual(probe(self.health, "/livez", method="POST")[0], 405)
        code, _, err = stop(run)
        self.assertEqual(code, 0, err)

    def check_prometheus(self, text):
        """Parses /metrics with a real Prometheus text-format parser (npm)."""
        parser = os.path.join(os.path.dirname(__file__), ".npm", "node_modules",
                              "parse-prometheus-text-format")
        if not os.path.isdir(parser):
            print("\nparse-prometheus-text-format not installed (scripts/test.sh does): "
                  "/metrics not parsed")
            return
        script = ("const parse = require(process.argv[1]);"
                  "let input = ''; process.stdin.on('data', d => input += d);"
                  "process.stdin.on('end', () => console.log(JSON.stringify(parse(input))));")
        result = subprocess.run([NODE, "-e", script, parser], input=text, capture_output=True,
                                text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        families = {f["name"]: f for f in json.loads(result.stdout)}
        self.assertEqual(families["cinit_workers"]["type"], "GAUGE")
        self.assertEqual(families["cinit_reloads_total"]["type"], "COUNTER")
        online = [m for m in families["cinit_workers"]["metrics"]
                  if m["labels"] == {"state": "online"}]
        self.assertEqual(online[0]["value"], "2")
        for name in ("cinit_workers_desired", "cinit_worker_restarts_total",
                     "cinit_orphans_reaped_total", "cinit_signals_forwarded_total",
                     "cinit_uptime_seconds", "cinit_reload_in_progress"):
            self.assertIn(name, families)

    def test_readyz_stays_200_through_a_rolling_reload_under_load(self):
        run = self.start("pm2_graceful.js")
        wait_online(run, 2)
        answers = []
        stop_polling = threading.Event()

        def poll():
            while not stop_polling.is_set():
                answers.append(try_probe(self.health, "/readyz"))
                time.sleep(0.02)  # a probe period, not synchronisation

        def load():
            while not stop_polling.is_set():
                http_get(self.port)

        threads = [threading.Thread(target=poll), threading.Thread(target=load)]
        for t in threads:
            t.start()
        try:
            wait_for(lambda: len(answers) >= 3, what="probes before the reload")
            run.signal(signal.SIGHUP)
            run.err.wait_contains("reload done")
            after = len(answers) + 3
            wait_for(lambda: len(answers) >= after, what="probes after the reload")
        finally:
            stop_polling.set()
            for t in threads:
                t.join(30)
        self.assertTrue(all(a is not None and a[0] == 200 for a in answers),
                        [a for a in answers if a is None or a[0] != 200][:5])
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
        # The file is rewritten at the end of the loop turn that logged "online".
        code, out = wait_for(lambda: (lambda r: r if r[0] == 0 and "2 of 2" in r[1] else None)(
            self.status(path, "--ready")), what="cinit status --ready to say 2 of 2 ready")
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
