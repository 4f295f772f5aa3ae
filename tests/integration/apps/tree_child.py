"""tree_child.py: a process deep in a cinit worker's tree, for test_worker_trees.py.

Started by a wrapper (`sh -c 'python3 tree_child.py & wait'`), or as the worker
itself. It tells cinit its worker is online (sd_notify READY=1 to $NOTIFY_SOCKET,
which names the worker whose tree it is in), then waits. Events go to $TREE_LOG,
one line each: "<t> <event> pid=<pid> gen=<gen>", t in CLOCK_MONOTONIC ns:
  start   when it starts; gen is the content of $TREE_GEN_FILE (or "-");
  term    when SIGTERM arrives.
$TREE_IGNORE_TERM=1: SIGTERM is ignored (only SIGKILL ends it).
$TREE_DRAIN_MS=N: on SIGTERM it works N ms more ("draining"), then exits 0.
It ends itself after 120 s, so that no test can leave it behind for long.
"""
import os
import signal
import socket
import time


def log(event: str) -> None:
    path = os.environ["TREE_LOG"]
    gen_file = os.environ.get("TREE_GEN_FILE")
    gen = open(gen_file).read().strip() if gen_file and os.path.exists(gen_file) else "-"
    line = f"{time.monotonic_ns()} {event} pid={os.getpid()} gen={gen}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def on_term(signo, frame) -> None:
    log("term")
    drain_ms = int(os.environ.get("TREE_DRAIN_MS", "0"))
    time.sleep(drain_ms / 1000)
    os._exit(0)


def main() -> None:
    if os.environ.get("TREE_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, on_term)
    log("start")
    name = os.environ.get("NOTIFY_SOCKET", "")
    if name:
        address = "\0" + name[1:] if name.startswith("@") else name
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"READY=1\n", address)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(1)


if __name__ == "__main__":
    main()
