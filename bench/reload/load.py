#!/usr/bin/env python3
"""load.py: HTTP load on 127.0.0.1 for bench/reload.sh (stdlib only).

    load.py --port P --out FILE [--keepalive] [--threads 8] [--rate R]
            [--seconds 300] [--timeout 5]

Runs until SIGTERM/SIGINT (the normal end: the script stops it once its reloads
are done) or --seconds, whichever is first; then writes a JSON summary to FILE.
Prints "running" on stdout once the first good response arrived.

Closed loop (default): --threads threads send GET / back to back.
Open loop (--rate R): requests are scheduled every 1/R s and handed to a pool of
--threads threads; a request's latency counts from its scheduled time (so a
stalled server cannot hide behind a waiting client: no coordinated omission).

A request is GOOD when it gets a complete "HTTP/1.1 200" response with a
content-length and exactly that many body bytes, starting "ok pid=". Everything
else is a FAILURE: connection refused, reset or timed out (--timeout, per
socket operation), EOF before the end of the headers or body, another status,
a malformed body.

Without --keepalive every request is on a new connection ("connection: close").

With --keepalive each thread keeps one persistent connection, as an HTTP client
pool does. A server that leaves gracefully closes its idle keep-alive
connections, and HTTP clients reconnect then; these are counted apart and are
NOT failures:
  idle_closed    before sending on a reused connection the client sees that the
                 server has closed it (readable with EOF, or reset): reconnect.
  retried        a request sent on a reused connection got no byte of response
                 (EOF, reset or EPIPE): the server closed the idle connection
                 while the request was on its way, so it was not processed; GET
                 is idempotent and is sent once more on a new connection (RFC 9110
                 9.2.2, RFC 9112 9.3.1). If that second attempt fails, it is a
                 failure.
  server_closed  a good response carrying "connection: close": reconnect.
Any failure on a new connection, and any failure after part of the response
arrived, is a failure. No request whose response had begun is ever retried.

Summary: good, failures, failure_samples (first 200: {t_start, t_end, conn,
attempt, error}, ns CLOCK_REALTIME), idle_closed, retried, server_closed,
connections, served {pid: n}, per_100ms [[bucket_start_ns, good, failed]...],
stopped_by; in open-loop mode also samples [[t_sched_ns, latency_ns, ok]...].
"""
import argparse
import json
import os
import select
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor


class NoResponse(Exception):
    """The connection ended (EOF, reset, EPIPE) before any byte of the response."""


class BadResponse(Exception):
    pass


def read_response(sock):
    """Reads one response; returns (pid, server asked to close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            if not data:
                raise NoResponse("reset before any response byte")
            raise BadResponse(f"reset inside the header after {len(data)} bytes")
        if not chunk:
            if not data:
                raise NoResponse("EOF before any response byte")
            raise BadResponse(f"EOF inside the header: {data[:60]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        raise BadResponse(f"status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip().lower()
    if "content-length" not in headers:
        raise BadResponse("no content-length")
    length = int(headers["content-length"])
    while len(body) < length:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            raise BadResponse(f"reset after {len(body)} of {length} body bytes")
        if not chunk:
            raise BadResponse(f"EOF after {len(body)} of {length} body bytes")
        body += chunk
    if len(body) != length or not body.startswith(b"ok pid="):
        raise BadResponse(f"malformed body {body[:40]!r}")
    return int(body[7:].strip()), headers.get("connection") == "close"


def closed_by_peer(sock):
    r, _, _ = select.select([sock], [], [], 0)
    if not r:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def describe(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, ConnectionResetError):
        return "connection reset"
    if isinstance(e, BrokenPipeError):
        return "broken pipe"
    return f"{type(e).__name__}: {e}"


class Load:
    def __init__(self, a):
        self.a = a
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.first_good = threading.Event()
        self.good = 0
        self.failures = 0
        self.failure_samples = []
        self.counts = dict(idle_closed=0, retried=0, server_closed=0, connections=0)
        self.served = {}
        self.buckets = {}
        self.samples = []
        self.stopped_by = None

    def bucket(self, t, ok):
        b = t // 100_000_000
        with self.lock:
            g, f = self.buckets.get(b, (0, 0))
            self.buckets[b] = (g + ok, f + (not ok))

    def ok(self, t_end, pid):
        with self.lock:
            self.good += 1
            self.served[pid] = self.served.get(pid, 0) + 1
        self.bucket(t_end, True)
        self.first_good.set()

    def fail(self, t_start, conn, attempt, err):
        t_end = time.time_ns()
        with self.lock:
            self.failures += 1
            if len(self.failure_samples) < 200:
                self.failure_samples.append(dict(t_start=t_start, t_end=t_end, conn=conn,
                                                 attempt=attempt, error=err))
        self.bucket(t_end, False)

    def count(self, k):
        with self.lock:
            self.counts[k] += 1

    def connect(self):
        self.count("connections")
        s = socket.create_connection(("127.0.0.1", self.a.port), timeout=self.a.timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def one_shot(self):
        """One request on a new connection; returns (ok, t_start)."""
        req = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
        t0 = time.time_ns()
        try:
            with self.connect() as s:
                s.sendall(req)
                pid, _ = read_response(s)
        except (OSError, NoResponse, BadResponse, ValueError) as e:
            self.fail(t0, "new", 1, describe(e))
            return False, t0
        self.ok(time.time_ns(), pid)
        return True, t0

    def close_loop(self):
        while not self.stop.is_set():
            self.one_shot()

    def keepalive_loop(self):
        req = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
        s = None
        reused = False
        while not self.stop.is_set():
            if s is not None and closed_by_peer(s):
                self.count("idle_closed")
                s.close()
                s = None
            t0 = time.time_ns()
            for attempt in (1, 2):
                try:
                    if s is None:
                        s = self.connect()
                        reused = False
                    s.sendall(req)
                    pid, close = read_response(s)
                except (OSError, NoResponse, BadResponse, ValueError) as e:
                    if s is not None:
                        s.close()
                        s = None
                    no_answer = isinstance(e, (NoResponse, BrokenPipeError, ConnectionResetError))
                    if no_answer and reused and attempt == 1:
                        self.count("retried")
                        continue
                    self.fail(t0, "reused" if reused else "new", attempt, describe(e))
                    break
                self.ok(time.time_ns(), pid)
                reused = True
                if close:
                    self.count("server_closed")
                    s.close()
                    s = None
                break
        if s is not None:
            s.close()

    def open_loop(self):
        period = 1e9 / self.a.rate
        start = time.time_ns() + 50_000_000
        pool = ThreadPoolExecutor(max_workers=self.a.threads)

        def task(t_sched):
            ok, _ = self.one_shot()
            lat = time.time_ns() - t_sched
            with self.lock:
                self.samples.append((t_sched, lat, ok))

        i = 0
        while not self.stop.is_set():
            t_sched = int(start + i * period)
            delay = (t_sched - time.time_ns()) / 1e9
            if delay > 0 and self.stop.wait(delay):
                break
            pool.submit(task, t_sched)
            i += 1
        pool.shutdown(wait=True)

    def run(self):
        if self.a.rate:
            threads = [threading.Thread(target=self.open_loop, daemon=True)]
        else:
            target = self.keepalive_loop if self.a.keepalive else self.close_loop
            threads = [threading.Thread(target=target, daemon=True) for _ in range(self.a.threads)]
        for t in threads:
            t.start()

        def on_signal(signo, frame):
            self.stopped_by = self.stopped_by or "signal"
            self.stop.set()
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        def announce():
            if self.first_good.wait(self.a.seconds):
                print("running", flush=True)
        threading.Thread(target=announce, daemon=True).start()
        if not self.stop.wait(self.a.seconds):
            self.stopped_by = "max-seconds"
            self.stop.set()
        for t in threads:
            t.join(3 * self.a.timeout + 5)
        return dict(good=self.good, failures=self.failures,
                    failure_samples=self.failure_samples, served=self.served,
                    per_100ms=sorted([b * 100_000_000, g, f] for b, (g, f) in self.buckets.items()),
                    samples=sorted(self.samples), stopped_by=self.stopped_by,
                    mode=("open-loop %g/s" % self.a.rate) if self.a.rate else
                         ("keep-alive" if self.a.keepalive else "new connection"),
                    **self.counts)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--keepalive", action="store_true")
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--timeout", type=float, default=5)
    a = p.parse_args()
    summary = Load(a).run()
    with open(a.out + ".tmp", "w") as f:
        json.dump(summary, f)
    os.rename(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
