"""shutdown_worker.py: a worker for test_shared_socket.py that shuts its listener down.

Runs under `cinit -i N python3 shutdown_worker.py` (through the bind shim): binds
127.0.0.1:$PORT, listen(5)s, and answers every connection with
"HTTP/1.0 200 OK" and the body "pid=<pid> instance=<k>\\n".

On SIGUSR1 it calls shutdown(SHUT_RDWR) on its listening socket, as WEBrick and
socat do when they stop, and appends one line to $SHUT_LOG:
    shutdown pid=<pid> rc=<0|errno> accept=<errno of accept() afterwards>
             poll=<poll() revents of the fd, hex> port=<getsockname port>
then serves nothing more. On SIGUSR2 (or SIGTERM) it closes the socket and exits 0.
"""
import errno
import os
import select
import signal
import socket
import sys

INSTANCE = os.environ.get("NODE_APP_INSTANCE", "")


class Shutdown(Exception):
    pass


class Leave(Exception):
    pass


def on_usr1(signo, frame):
    raise Shutdown()


def on_leave(signo, frame):
    raise Leave()


def report(line: str) -> None:
    fd = os.open(os.environ["SHUT_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def answer(conn: socket.socket) -> None:
    conn.settimeout(5)
    try:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 8192:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        body = f"pid={os.getpid()} instance={INSTANCE}\n".encode()
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(body) + body)
    except OSError:
        pass
    finally:
        conn.close()


def shut_down(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
        rc = 0
    except OSError as e:
        rc = e.errno
    try:
        sock.accept()
        accept = 0
    except OSError as e:
        accept = e.errno
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN | select.POLLOUT)
    revents = poller.poll(0)
    mask = revents[0][1] if revents else 0
    report(f"shutdown pid={os.getpid()} rc={rc} accept={errno.errorcode.get(accept, accept)} "
           f"poll={mask:#x} port={sock.getsockname()[1]}")


def main() -> int:
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGUSR2, on_leave)
    signal.signal(signal.SIGTERM, on_leave)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Non-blocking (the shim copies it onto the shared socket): the workers all
    # wake for one connection, and those that lose the race must not block in accept.
    sock.setblocking(False)
    sock.bind(("127.0.0.1", int(os.environ["PORT"])))
    sock.listen(5)
    serving = True
    try:
        while True:
            try:
                if not serving:
                    signal.pause()
                    continue
                ready, _, _ = select.select([sock], [], [])
                if ready:
                    try:
                        conn, _ = sock.accept()
                        conn.setblocking(True)
                    except BlockingIOError:
                        continue  # another worker took it
                    answer(conn)
            except Shutdown:
                if serving:
                    serving = False
                    shut_down(sock)
    except Leave:
        sock.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
