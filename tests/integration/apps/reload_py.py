"""reload_py.py: a non-Node worker for cinit's rolling-reload tests
(tests/integration/test_reload*.py). Runs under `cinit -i N python3 reload_py.py`.

It has no IPC channel with cinit. How it tells cinit it is online depends on
$RELOAD_MODE:

  bind          binds 127.0.0.1:$PORT (cinit's bind shim hands it cinit's shared
                socket; the bind is the online mark) and serves HTTP: 200 with
                "ok pid=<pid> instance=<k>\\n" + padding + "end\\n".
  notify        binds nothing; sends the sd_notify datagram READY=1 to
                $NOTIFY_SOCKET.
  notify-child  binds nothing; a child process it starts sends READY=1.

Every event is appended, one line each, to $RELOAD_LOG, in the format of
reload_app.js (t is CLOCK_MONOTONIC in ns, written before the app acts):
    <t> <event> pid=<pid> instance=<k>
Events: start; silent ($RELOAD_SILENT_IF exists: never online); binding (just
before bind()); listening; ready (just before READY=1 is sent; logged under the
worker's pid also when its child sends it); sigterm (it exits 0 on SIGTERM).

$RELOAD_START_DELAY_MS (default 150) is start-up work before the online mark.
$RELOAD_CONFIG: a file read once at start (missing: empty); GET /config answers
with what it held then, GET / as above.
"""
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time

INSTANCE = os.environ.get("NODE_APP_INSTANCE")
BODY_SIZE = 1024


def read_config() -> bytes:
    path = os.environ.get("RELOAD_CONFIG")
    try:
        with open(path, "rb") as f:
            return f.read()
    except (TypeError, OSError):
        return b""


CONFIG = read_config()


def log(event: str, pid: int = 0) -> None:
    path = os.environ.get("RELOAD_LOG")
    if path:
        line = f"{time.monotonic_ns()} {event} pid={pid or os.getpid()} instance={INSTANCE}\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def send_ready(worker_pid: int = 0) -> None:
    name = os.environ["NOTIFY_SOCKET"]
    address = "\0" + name[1:] if name.startswith("@") else name
    log("ready", worker_pid)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"STATUS=starting up\nREADY=1\n", address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/config":
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(CONFIG)))
            self.end_headers()
            self.wfile.write(CONFIG)
            return
        head = f"ok pid={os.getpid()} instance={INSTANCE}\n"
        body = head + "." * (BODY_SIZE - len(head) - 4) + "end\n"
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(BODY_SIZE))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def on_sigterm(signo, frame):
    log("sigterm")
    os._exit(0)


def main() -> None:
    if sys.argv[1:] == ["--send-ready"]:  # the child of notify-child
        send_ready(os.getppid())  # logged under its worker's pid
        return
    log("start")
    signal.signal(signal.SIGTERM, on_sigterm)
    silent = os.environ.get("RELOAD_SILENT_IF")
    if silent and os.path.exists(silent):
        log("silent")
        while True:
            signal.pause()
    time.sleep(int(os.environ.get("RELOAD_START_DELAY_MS", "150")) / 1000)
    mode = os.environ.get("RELOAD_MODE", "bind")
    if mode == "bind":
        log("binding")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])),
                                                 Handler)
        log("listening")
        threading.Thread(target=server.serve_forever, daemon=True).start()
    elif mode == "notify":
        send_ready()
    elif mode == "notify-child":
        subprocess.run([sys.executable, __file__, "--send-ready"], check=True)
    else:
        raise SystemExit(f"reload_py.py: unknown RELOAD_MODE {mode!r}")
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
