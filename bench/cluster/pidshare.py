#!/usr/bin/env python3
"""Per-worker share: N requests, a new TCP connection for each, THREADS at a time.

    pidshare.py HOST PORT N THREADS

The app (app.js with BODY=pid) answers {"pid": P}. Prints one JSON line:
{"n": N, "ok": k, "errors": e, "seconds": s, "counts": {"P": count, ...}}.
Raw sockets and HTTP/1.0-style Connection: close, so Python's own overhead per
request stays small; stdlib only.
"""
import json
import socket
import sys
import threading
import time


def one(host, port):
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        chunks = []
        while True:
            b = s.recv(4096)
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError("status: %r" % head[:40])
    return str(json.loads(body)["pid"])


def main():
    host, port, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    lock = threading.Lock()
    counts = {}
    state = {"next": 0, "ok": 0, "errors": 0}

    def worker():
        while True:
            with lock:
                if state["next"] >= n:
                    return
                state["next"] += 1
            try:
                pid = one(host, port)
            except Exception:  # noqa: BLE001 - any failure is one error
                with lock:
                    state["errors"] += 1
                continue
            with lock:
                counts[pid] = counts.get(pid, 0) + 1
                state["ok"] += 1

    t0 = time.monotonic()
    ts = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    print(json.dumps({"n": n, "ok": state["ok"], "errors": state["errors"],
                      "seconds": round(time.monotonic() - t0, 3), "counts": counts}))


if __name__ == "__main__":
    main()
