"""reload_load.py: HTTP load on 127.0.0.1 for cinit's rolling-reload tests.

    python3 reload_load.py --port P --out FILE [--threads 4] [--keepalive]
                           [--max-requests N] [--max-seconds S] [--timeout S]

Threads send GET / until stdin reaches end-of-file (the test closes it), or
--max-requests requests were made, or --max-seconds passed, whichever comes
first: the load is bounded in count and time and stops by itself. It prints
"running" once the first response arrived, and writes a JSON summary to FILE
when it ends.

A response counts as good when it is a complete "HTTP/1.1 200" with the
content-length body that reload_app.js / reload_py.py send ("ok pid=..." ...
"end\\n"). Everything else is a failure: refused or reset connections, time-outs,
a close before the full body, another status, a truncated or malformed body.

Without --keepalive, every request uses a new connection (Connection: close).

With --keepalive, each thread keeps one connection open across requests, as an
HTTP client pool does. A graceful server closes its idle keep-alive connections
when it leaves, and an HTTP client then reconnects, so these are counted apart
and are not failures:
  idle_closed     before a request is sent on a reused connection, the client
                  sees that the server has closed it (readable with EOF, or
                  reset): it reconnects and sends on the new connection.
  retried         a request sent on a reused connection got no byte of response
                  (EOF or reset): the server closed the idle connection while
                  the request was on its way; GET is idempotent, so it is sent
                  again once on a new connection (RFC 9110 9.2.2, RFC 9112 9.3.1).
                  A retry that fails is a failure.
  server_closed   a good response that said "connection: close": the client
                  reconnects for its next request.
A failure on a new connection, or after part of a response arrived, is a failure.

Summary keys: good, failures (count), failure_samples (first 50: [t_ns, what]),
idle_closed, retried, server_closed, connections, served {pid: count},
good_times ([t_ns, pid] of every good response; t is CLOCK_MONOTONIC ns, as in
the apps' event logs), stopped_by ("stdin" | "max-requests" | "max-seconds").
"""
import argparse
import json
import os
import select
import socket
import sys
import threading
import time


class NoResponse(Exception):
    """The connection ended (EOF or reset) before any byte of the response."""


class BadResponse(Exception):
    pass


def read_response(sock: socket.socket) -> tuple[int, bytes, bool]:
    """Reads one response: (pid from the body, body, server asked to close)."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = None
        if not chunk:
            if not data:
                raise NoResponse("connection closed before any response byte"
                                 if chunk is not None else "reset before any response byte")
            raise BadResponse(f"connection ended inside the header: {data[:80]!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 200"):
        raise BadResponse(f"status line {lines[0]!r}")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip().lower()
    if "content-length" not in headers:
        raise BadResponse("no content-length")
    length = int(headers["content-length"])
    while len(body) < length:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError as e:
            raise BadResponse(f"reset after {len(body)} of {length} body bytes") from e
        if not chunk:
            raise BadResponse(f"connection ended after {len(body)} of {length} body bytes")
        body += chunk
    if len(body) != length or not body.startswith(b"ok pid=") or not body.endswith(b"end\n"):
        raise BadResponse(f"malformed body {body[:60]!r}...{body[-10:]!r}")
    pid = int(body.split(b" ", 2)[1].split(b"=")[1])
    return pid, body, headers.get("connection") == "close"


def closed_by_peer(sock: socket.socket) -> bool:
    """True when an idle connection was closed by the server (EOF or reset)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


class Load:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.started = threading.Event()
        self.requests = 0
        self.stopped_by = None
        self.good_times = []
        self.failure_samples = []
        self.failures = 0
        self.counts = {"idle_closed": 0, "retried": 0, "server_closed": 0, "connections": 0}
        self.deadline = time.monotonic() + args.max_seconds

    def take_ticket(self) -> bool:
        with self.lock:
            if self.stop.is_set():
                return False
            if self.requests >= self.args.max_requests:
                self.stopped_by = self.stopped_by or "max-requests"
                self.stop.set()
                return False
            if time.monotonic() >= self.deadline:
                self.stopped_by = self.stopped_by or "max-seconds"
                self.stop.set()
                return False
            self.requests += 1
            return True

    def count(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1

    def good(self, pid: int) -> None:
        with self.lock:
            self.good_times.append((time.monotonic_ns(), pid))
        self.started.set()

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures += 1
            if len(self.failure_samples) < 50:
                self.failure_samples.append((time.monotonic_ns(), what))

    def connect(self) -> socket.socket:
        self.count("connections")
        sock = socket.create_connection(("127.0.0.1", self.args.port),
                                        timeout=self.args.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def one_shot(self) -> None:
        request = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"
        try:
            with self.connect() as sock:
                sock.sendall(request)
                pid, _, _ = read_response(sock)
        except (OSError, NoResponse, BadResponse, ValueError) as e:
            self.fail(f"new connection: {type(e).__name__}: {e}")
            return
        self.good(pid)

    def keepalive_loop(self) -> None:
        request = b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"
        sock = None
        reused = False
        while self.take_ticket():
            if sock is not None and closed_by_peer(sock):
                self.count("idle_closed")
                sock.close()
                sock = None
            for attempt in (1, 2):
                try:
                    if sock is None:
                        sock = self.connect()
                        reused = False
                    sock.sendall(request)
                    pid, _, close = read_response(sock)
                except (NoResponse, BrokenPipeError, ConnectionResetError, OSError,
                        BadResponse, ValueError) as e:
                    if sock is not None:
                        sock.close()
                        sock = None
                    no_answer = isinstance(e, (NoResponse, BrokenPipeError, ConnectionResetError))
                    if no_answer and reused and attempt == 1:
                        self.count("retried")
                        continue
                    self.fail(f"{'reused' if reused else 'new'} connection, attempt {attempt}: "
                              f"{type(e).__name__}: {e}")
                    break
                self.good(pid)
                reused = True
                if close:
                    self.count("server_closed")
                    sock.close()
                    sock = None
                break
        if sock is not None:
            sock.close()

    def close_loop(self) -> None:
        while self.take_ticket():
            self.one_shot()

    def run(self) -> dict:
        target = self.keepalive_loop if self.args.keepalive else self.close_loop
        threads = [threading.Thread(target=target, daemon=True)
                   for _ in range(self.args.threads)]
        for thread in threads:
            thread.start()

        def watch_stdin():
            sys.stdin.buffer.read()  # until EOF
            with self.lock:
                self.stopped_by = self.stopped_by or "stdin"
            self.stop.set()
        threading.Thread(target=watch_stdin, daemon=True).start()

        self.started.wait(self.args.max_seconds)
        print("running", flush=True)
        for thread in threads:
            thread.join(self.args.max_seconds + 2 * self.args.timeout + 5)
        served = {}
        for _, pid in self.good_times:
            served[pid] = served.get(pid, 0) + 1
        return dict(good=len(self.good_times), failures=self.failures,
                    failure_samples=self.failure_samples, served=served,
                    good_times=self.good_times, stopped_by=self.stopped_by, **self.counts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keepalive", action="store_true")
    parser.add_argument("--max-requests", type=int, default=200000)
    parser.add_argument("--max-seconds", type=float, default=120)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    summary = Load(args).run()
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summary, f)
    os.rename(tmp, args.out)
    print("done", flush=True)


if __name__ == "__main__":
    main()
