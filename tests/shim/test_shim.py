"""Tests for cinit_shim.so (src/shim/), with this test playing cinit's side.

Each test makes the channel (socketpair AF_UNIX SOCK_SEQPACKET), starts a real
dynamically linked program with LD_PRELOAD=<shim> and CINIT_SHIM_FD=<its end>,
reads the shim's HELLO and BIND messages, answers with sockets it created
itself (loopback only) and checks what the program did with them. The wire
format is the one documented in src/shim/shim_protocol.h.

Programs: python3 -m http.server (glibc), and tests/shim/bind_probe.c, a small
server that reports what bind() did; it is built by CMake against glibc and
compiled here with musl-gcc for the musl tests (skipped when musl-gcc, from
Debian's musl-tools, is missing).

Environment (CTest sets it; see the shim block in CMakeLists.txt):
  CINIT_SHIM_SO            the built cinit_shim.so
  CINIT_SHIM_PROBE         the built bind_probe
  CINIT_SHIM_IMAGE_WRITER  the built write_shim_image (tests of ShimImage())

    CINIT_SHIM_SO=build-shim/shim/cinit_shim.so \\
    CINIT_SHIM_PROBE=build-shim/shim/bind_probe python3 -m unittest -v test_shim

Conventions (STYLE.md 4.4): every wait has a deadline; synchronisation is by
polling an observable condition, never by a fixed sleep; every process a test
starts is ended by the test, by PID (registered with addCleanup).
"""

import errno
import http.client
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from typing import Dict, List, NamedTuple, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))

# Generous: the machine is small and noisy. A deadline only turns a hang into
# a failure.
DEADLINE = float(os.environ.get("CINIT_TEST_DEADLINE", "20"))

# --- protocol (src/shim/shim_protocol.h, version 1) -------------------------

MAGIC = 0x48534943
VERSION = 1
TYPE_HELLO = 1
TYPE_BIND = 2
TYPE_REPLY = 3
HEADER = struct.Struct("=IHHi")  # magic, version, type, pid
BIND = struct.Struct("=IHHiiiiiHH16sI")
REPLY = struct.Struct("=IHHii")
assert (HEADER.size, BIND.size, REPLY.size) == (12, 52, 16)


class BindRequest(NamedTuple):
    pid: int
    family: int
    socktype: int
    protocol: int
    v6only: int
    port: int
    addr: bytes
    scope_id: int
    reply: socket.socket  # the private reply channel that came with it


def reply_bytes(error: int, version: int = VERSION, magic: int = MAGIC) -> bytes:
    return REPLY.pack(magic, version, TYPE_REPLY, os.getpid(), error)


# --- helpers ---------------------------------------------------------------


def _path_from_env(name: str) -> str:
    path = os.environ.get(name)
    if not path:
        raise RuntimeError(f"{name} is not set: run through ctest, or see this file's docstring")
    return os.path.abspath(path)


SHIM_SO = _path_from_env("CINIT_SHIM_SO")
PROBE = _path_from_env("CINIT_SHIM_PROBE")
IMAGE_WRITER = os.environ.get("CINIT_SHIM_IMAGE_WRITER")


def base_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "CINIT_SHIM_FD")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def end_process(proc: subprocess.Popen) -> None:
    """Kills proc by PID (if still running) and reaps it, bounded."""
    if proc.poll() is None:
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=DEADLINE)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def ipv6_loopback_available() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_port(family: int = socket.AF_INET, socktype: int = socket.SOCK_STREAM) -> int:
    """A port that was free a moment ago (for tests where the program binds for real)."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    with socket.socket(family, socktype) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_listener(family: int = socket.AF_INET, socktype: int = socket.SOCK_STREAM,
                  backlog: int = 64, v6only: Optional[int] = None) -> socket.socket:
    """A socket as cinit would create it: bound to loopback, port chosen by the kernel."""
    s = socket.socket(family, socktype)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    if socktype == socket.SOCK_STREAM:
        s.listen(backlog)
    return s


def socket_inodes(pid: int) -> List[int]:
    """Inodes of the sockets process pid holds (from /proc/PID/fd)."""
    inodes = []
    fd_dir = f"/proc/{pid}/fd"
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.append(int(target[len("socket:["):-1]))
    return inodes


def parse_kv(line: str) -> Dict[str, str]:
    """'bind index=0 rc=0 ...' -> {'what': 'bind', 'index': '0', 'rc': '0', ...}."""
    what, *pairs = line.split()
    fields = {"what": what}
    for pair in pairs:
        key, _, value = pair.partition("=")
        fields[key] = value
    return fields


class Lines:
    """Reads a child's stdout line by line, each read bounded by a deadline."""

    def __init__(self, stream) -> None:
        self.fd = stream.fileno()
        self.buf = b""

    def next(self, timeout: float = DEADLINE) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no complete output line within {timeout}s; have {self.buf!r}")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    raise AssertionError(f"program closed stdout; have {self.buf!r}")
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def fields(self, what: str) -> Dict[str, str]:
        line = self.next()
        fields = parse_kv(line)
        if fields["what"] != what:
            raise AssertionError(f"expected a '{what}' line, got {line!r}")
        return fields


class FakeCinit:
    """cinit's end of one worker channel, plus the processes started on it."""

    def __init__(self, test: unittest.TestCase) -> None:
        self.test = test
        self.sock, self.worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        test.addCleanup(self.sock.close)
        test.addCleanup(self.worker_end.close)
        self.logdir = tempfile.mkdtemp(prefix="cinit-shim-test-")
        test.addCleanup(shutil.rmtree, self.logdir, True)

    def env(self, preload: str = SHIM_SO, channel: Optional[str] = None) -> Dict[str, str]:
        env = base_env()
        env["LD_PRELOAD"] = preload
        env["CINIT_SHIM_FD"] = str(self.worker_end.fileno()) if channel is None else channel
        return env

    def spawn(self, argv: Sequence[str], env: Dict[str, str],
              pass_fds: Sequence[int] = ()) -> subprocess.Popen:
        """Starts argv with the channel inherited; stderr goes to a log file."""
        log = open(os.path.join(self.logdir, "stderr.log"), "ab")
        self.test.addCleanup(log.close)
        proc = subprocess.Popen(
            list(argv), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=log, pass_fds=(self.worker_end.fileno(), *pass_fds))
        self.test.addCleanup(end_process, proc)
        # Like cinit: only the worker holds its end, so that cinit sees EOF
        # when every process that inherited it is gone.
        self.worker_end.close()
        return proc

    def stderr_log(self) -> str:
        with open(os.path.join(self.logdir, "stderr.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def receive(self, timeout: float = DEADLINE):
        """Returns (header fields, payload bytes, fds) of the next message."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            raise AssertionError(f"no message from the shim within {timeout}s; "
                                 f"program stderr: {self.stderr_log()!r}")
        data, fds, flags, _ = socket.recv_fds(self.sock, 256, 8)
        if not data:
            raise AssertionError(f"channel closed (EOF); program stderr: {self.stderr_log()!r}")
        self.test.assertEqual(flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC), 0)
        magic, version, mtype, pid = HEADER.unpack_from(data)
        self.test.assertEqual((magic, version), (MAGIC, VERSION), data)
        return mtype, pid, data, fds

    def expect_hello(self, pid: int) -> None:
        mtype, sender, data, fds = self.receive()
        self.test.assertEqual(fds, [])
        self.test.assertEqual((mtype, sender, len(data)), (TYPE_HELLO, pid, HEADER.size))

    def expect_bind(self, pid: int) -> BindRequest:
        mtype, sender, data, fds = self.receive()
        for fd in fds[1:]:
            os.close(fd)
        self.test.assertEqual((mtype, sender, len(data), len(fds)), (TYPE_BIND, pid, BIND.size, 1))
        (_, _, _, _, family, socktype, protocol, v6only, port, reserved, addr,
         scope_id) = BIND.unpack(data)
        self.test.assertEqual(reserved, 0)
        reply = socket.socket(fileno=fds[0])
        self.test.addCleanup(reply.close)
        return BindRequest(sender, family, socktype, protocol, v6only, port, addr, scope_id, reply)

    def expect_nothing(self) -> None:
        """Asserts that no message is queued (call after the program reported).

        EOF (every process holding the worker's end has exited) is nothing too.
        """
        ready, _, _ = select.select([self.sock], [], [], 0)
        if not ready:
            return
        data, fds, _, _ = socket.recv_fds(self.sock, 256, 8)
        for fd in fds:
            os.close(fd)
        if data:
            mtype, pid = HEADER.unpack_from(data)[2:]
            self.test.fail(f"unexpected message type {mtype} from pid {pid}")

    @staticmethod
    def answer(request: BindRequest, sock: Optional[socket.socket] = None, error: int = 0,
               data: Optional[bytes] = None) -> None:
        payload = reply_bytes(error) if data is None else data
        socket.send_fds(request.reply, [payload], [sock.fileno()] if sock is not None else [])
        request.reply.close()


def musl_gcc() -> Optional[str]:
    return shutil.which("musl-gcc")


_musl_probe: Optional[str] = None


def musl_probe() -> str:
    """bind_probe built with musl-gcc (dynamic), once per run."""
    global _musl_probe
    if _musl_probe is None:
        out_dir = tempfile.mkdtemp(prefix="cinit-shim-musl-")
        unittest.addModuleCleanup(shutil.rmtree, out_dir, True)
        exe = os.path.join(out_dir, "bind_probe_musl")
        subprocess.run([musl_gcc(), "-O2", "-Wall", "-Wextra", "-pthread", "-o", exe,
                        os.path.join(HERE, "bind_probe.c")], check=True, timeout=120)
        _musl_probe = exe
    return _musl_probe


def interpreter_of(path: str) -> str:
    out = subprocess.run(["readelf", "-lW", path], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    for line in out.splitlines():
        if "Requesting program interpreter:" in line:
            return line.split(":", 1)[1].strip(" ]")
    return ""


# --- tests -----------------------------------------------------------------


@unittest.skipUnless(shutil.which("readelf") and shutil.which("nm"), "binutils (readelf, nm) missing")
class ElfTest(unittest.TestCase):
    """The shim is a self-contained object: nothing but __errno_location to resolve."""

    def run_tool(self, *argv: str) -> str:
        return subprocess.run(list(argv), check=True, capture_output=True, text=True,
                              timeout=60).stdout

    def test_has_no_needed_entries_and_both_hash_tables(self):
        dynamic = self.run_tool("readelf", "-dW", SHIM_SO)
        self.assertNotIn("(NEEDED)", dynamic)
        self.assertIn("(HASH)", dynamic)
        self.assertIn("(GNU_HASH)", dynamic)
        self.assertIn("(INIT_ARRAY)", dynamic)
        self.assertNotIn("(TEXTREL)", dynamic)

    def test_imports_only_errno_location_and_exports_only_bind_listen_shutdown(self):
        undefined = self.run_tool("nm", "-D", "--undefined-only", SHIM_SO).split()
        self.assertEqual([s for s in undefined if s != "U"], ["__errno_location"])
        defined = self.run_tool("nm", "-D", "--defined-only", SHIM_SO).splitlines()
        self.assertEqual(sorted(line.split()[-1] for line in defined),
                         ["bind", "listen", "shutdown"])

    def test_has_no_tls_and_no_interpreter(self):
        headers = self.run_tool("readelf", "-lW", SHIM_SO)
        self.assertNotIn(" TLS ", headers)
        self.assertNotIn("INTERP", headers)

    def test_relocations_are_only_relative_and_plt(self):
        relocs = self.run_tool("readelf", "-rW", SHIM_SO)
        kinds = {word for word in relocs.split() if word.startswith("R_X86_64_")}
        self.assertLessEqual(kinds, {"R_X86_64_RELATIVE", "R_X86_64_JUMP_SLOT",
                                     "R_X86_64_GLOB_DAT"})


class PythonHttpServerTest(unittest.TestCase):
    """python3 -m http.server (glibc) serves on the socket cinit hands it."""

    def serve_and_fetch(self, bind_arg: str, listener: socket.socket, host: str,
                        check_request) -> None:
        cinit = FakeCinit(self)
        docroot = tempfile.mkdtemp(prefix="cinit-shim-docroot-")
        self.addCleanup(shutil.rmtree, docroot, True)
        marker = f"served by pid-independent marker {os.getpid()}\n"
        with open(os.path.join(docroot, "marker.txt"), "w") as f:
            f.write(marker)
        port = listener.getsockname()[1]
        proc = cinit.spawn([sys.executable, "-m", "http.server", "--bind", bind_arg, str(port),
                            "--directory", docroot], cinit.env())
        cinit.expect_hello(proc.pid)
        request = cinit.expect_bind(proc.pid)
        self.assertEqual((request.socktype, request.protocol, request.port),
                         (socket.SOCK_STREAM, socket.IPPROTO_TCP, port))
        check_request(request)
        cinit.answer(request, listener)

        deadline = time.monotonic() + DEADLINE
        while True:
            self.assertIsNone(proc.poll(), f"http.server exited: {cinit.stderr_log()}")
            conn = http.client.HTTPConnection(host, port, timeout=2)
            try:
                conn.request("GET", "/marker.txt")
                response = conn.getresponse()
                body = response.read().decode()
                break
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
            finally:
                conn.close()
        self.assertEqual(response.status, 200)
        self.assertEqual(body, marker)
        self.assertTrue(response.getheader("Server", "").startswith("SimpleHTTP"))
        # The worker holds the test's own socket, not one of its own.
        self.assertIn(os.fstat(listener.fileno()).st_ino, socket_inodes(proc.pid))
        cinit.expect_nothing()

    def test_serves_on_cinit_socket_ipv4(self):
        listener = make_listener(socket.AF_INET)
        self.addCleanup(listener.close)

        def check(request: BindRequest) -> None:
            self.assertEqual(request.family, socket.AF_INET)
            self.assertEqual(request.addr, socket.inet_aton("127.0.0.1") + bytes(12))
            self.assertEqual((request.v6only, request.scope_id), (0, 0))

        self.serve_and_fetch("127.0.0.1", listener, "127.0.0.1", check)

    @unittest.skipUnless(ipv6_loopback_available(), "no IPv6 loopback (::1)")
    def test_serves_on_cinit_socket_dual_stack(self):
        # `--bind ::` makes http.server a DualStackServer: IPV6_V6ONLY=0 on [::].
        # cinit (here: the test) answers with a dual-stack socket on ::1, to
        # stay on loopback.
        listener = make_listener(socket.AF_INET6, v6only=0)
        self.addCleanup(listener.close)

        def check(request: BindRequest) -> None:
            self.assertEqual(request.family, socket.AF_INET6)
            self.assertEqual(request.addr, bytes(16))
            self.assertEqual(request.v6only, 0)

        self.serve_and_fetch("::", listener, "::1", check)


class ProbeTest(unittest.TestCase):
    """Runs bind_probe under the shim; subclasses pick the libc."""

    probe = PROBE

    def start(self, cinit: FakeCinit, *args: str, env: Optional[Dict[str, str]] = None,
              pass_fds: Sequence[int] = ()):
        proc = cinit.spawn([self.probe, *args], cinit.env() if env is None else env, pass_fds)
        return proc, Lines(proc.stdout)

    def connect_and_read(self, family: int, port: int) -> str:
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        with socket.create_connection((host, port), timeout=DEADLINE) as conn:
            data = b""
            while not data.endswith(b"\n"):
                chunk = conn.recv(256)
                if not chunk:
                    break
                data += chunk
        return data.decode()


class RequestTest(ProbeTest):
    """What the shim sends and how it installs cinit's answer (glibc)."""

    def test_serves_on_cinit_socket(self):
        cinit = FakeCinit(self)
        listener = make_listener()
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        proc, out = self.start(cinit, "--port", str(port), "--listen", "8", "--serve", "1")
        cinit.expect_hello(proc.pid)
        request = cinit.expect_bind(proc.pid)
        cinit.answer(request, listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["port"], bound["listening"]), ("0", str(port), "1"))
        self.assertEqual(int(bound["inode"]), os.fstat(listener.fileno()).st_ino)
        self.assertEqual(out.fields("listen")["rc"], "0")
        self.assertEqual(self.connect_and_read(socket.AF_INET, port),
                         f"hello from bind_probe {proc.pid}\n")
        self.assertEqual(out.next(), "served 1")
        self.assertEqual(out.next(), "done")

    def test_error_reply_fails_bind_with_that_errno(self):
        cinit = FakeCinit(self)
        proc, out = self.start(cinit, "--port", "1")
        cinit.expect_hello(proc.pid)
        request = cinit.expect_bind(proc.pid)
        self.assertEqual(request.port, 1)
        cinit.answer(request, error=errno.EADDRINUSE)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["errno"]), ("-1", str(errno.EADDRINUSE)))
        self.assertEqual(bound["port"], "0")  # the caller's socket is untouched

    def test_error_reply_closes_attached_fds(self):
        cinit = FakeCinit(self)
        listener = make_listener()
        self.addCleanup(listener.close)
        proc, out = self.start(cinit, "--port", "1", "--serve", "1")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener, error=errno.EACCES)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["errno"]), ("-1", str(errno.EACCES)))
        self.assertEqual(out.next(), "done")
        self.assertNotIn(os.fstat(listener.fileno()).st_ino, socket_inodes(proc.pid))

    @unittest.skipUnless(ipv6_loopback_available(), "no IPv6 loopback (::1)")
    def test_reports_caller_v6only(self):
        for v6only in (1, 0):
            with self.subTest(v6only=v6only):
                cinit = FakeCinit(self)
                listener = make_listener(socket.AF_INET6, v6only=v6only)
                self.addCleanup(listener.close)
                port = listener.getsockname()[1]
                proc, out = self.start(cinit, "--family", "inet6", "--addr", "::1",
                                       "--port", str(port), "--v6only", str(v6only))
                cinit.expect_hello(proc.pid)
                request = cinit.expect_bind(proc.pid)
                self.assertEqual((request.family, request.v6only, request.port),
                                 (socket.AF_INET6, v6only, port))
                self.assertEqual(request.addr, socket.inet_pton(socket.AF_INET6, "::1"))
                cinit.answer(request, listener)
                bound = out.fields("bind")
                self.assertEqual((bound["rc"], bound["domain"]), ("0", str(socket.AF_INET6)))
                self.assertEqual(int(bound["inode"]), os.fstat(listener.fileno()).st_ino)
                # Not simply `v6only`: binding a specific address such as ::1
                # makes the kernel set IPV6_V6ONLY on the socket.
                self.assertEqual(int(bound["v6only"]),
                                 listener.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY))

    def test_nonblocking_caller_keeps_o_nonblock_and_cloexec(self):
        cinit = FakeCinit(self)
        listener = make_listener()
        self.addCleanup(listener.close)
        self.assertTrue(os.get_blocking(listener.fileno()))
        port = listener.getsockname()[1]
        proc, out = self.start(cinit, "--port", str(port), "--nonblock")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["nonblock"], bound["cloexec"]), ("0", "1", "1"))
        # O_NONBLOCK belongs to the open file description, shared with cinit.
        self.assertFalse(os.get_blocking(listener.fileno()))

    def test_blocking_caller_gets_blocking_socket_without_cloexec(self):
        cinit = FakeCinit(self)
        listener = make_listener()
        self.addCleanup(listener.close)
        self.assertTrue(os.get_blocking(listener.fileno()))
        port = listener.getsockname()[1]
        proc, out = self.start(cinit, "--port", str(port), "--no-cloexec")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["nonblock"], bound["cloexec"]), ("0", "0", "0"))

    def test_blocking_caller_never_clears_o_nonblock_others_set(self):
        # uvicorn --workers: its parent binds a blocking socket, its asyncio children
        # made the shared one non-blocking. On a reload the new parent's bind must not
        # make it blocking under the old children, whose accept() would then block in
        # the kernel past their SIGTERM.
        cinit = FakeCinit(self)
        listener = make_listener()
        self.addCleanup(listener.close)
        os.set_blocking(listener.fileno(), False)
        port = listener.getsockname()[1]
        proc, out = self.start(cinit, "--port", str(port), "--no-cloexec")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["nonblock"], bound["cloexec"]), ("0", "1", "0"))
        self.assertFalse(os.get_blocking(listener.fileno()))

    def test_udp_bind_is_requested_as_dgram(self):
        cinit = FakeCinit(self)
        sock = make_listener(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        proc, out = self.start(cinit, "--type", "dgram", "--port", str(port))
        cinit.expect_hello(proc.pid)
        request = cinit.expect_bind(proc.pid)
        self.assertEqual((request.socktype, request.protocol, request.port),
                         (socket.SOCK_DGRAM, socket.IPPROTO_UDP, port))
        cinit.answer(request, sock)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["type"], bound["port"]),
                         ("0", str(socket.SOCK_DGRAM), str(port)))

    def test_concurrent_binds_get_their_own_replies(self):
        # Four threads share the inherited channel; the answers go out in
        # reverse order and must still reach the thread that asked.
        cinit = FakeCinit(self)
        listeners = {}
        for _ in range(4):
            listener = make_listener()
            self.addCleanup(listener.close)
            listeners[listener.getsockname()[1]] = listener
        ports = list(listeners)
        proc, out = self.start(cinit, "--port", ",".join(map(str, ports)))
        cinit.expect_hello(proc.pid)
        requests = [cinit.expect_bind(proc.pid) for _ in ports]
        self.assertEqual(sorted(r.port for r in requests), sorted(ports))
        for request in reversed(requests):
            cinit.answer(request, listeners[request.port])
        for index, port in enumerate(ports):
            bound = out.fields("bind")
            self.assertEqual((bound["index"], bound["rc"], bound["port"]),
                             (str(index), "0", str(port)))
            self.assertEqual(int(bound["inode"]), os.fstat(listeners[port].fileno()).st_ino)

    def test_listen_keeps_cinit_backlog(self):
        # The worker's listen(1) must not shrink the shared accept queue: with
        # backlog 1 only two handshakes could complete while nobody accepts.
        cinit = FakeCinit(self)
        listener = make_listener(backlog=16)
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        proc, out = self.start(cinit, "--port", str(port), "--listen", "1")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener)
        self.assertEqual(out.fields("bind")["rc"], "0")
        self.assertEqual(out.fields("listen")["rc"], "0")
        self.assertEqual(out.next(), "done")
        clients = []
        for _ in range(6):
            client = socket.socket()
            self.addCleanup(client.close)
            client.setblocking(False)
            self.assertIn(client.connect_ex(("127.0.0.1", port)), (0, errno.EINPROGRESS))
            clients.append(client)
        deadline = time.monotonic() + DEADLINE
        pending = list(clients)
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], pending, [], deadline - time.monotonic())
            for client in writable:
                self.assertEqual(client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), 0)
                pending.remove(client)
        self.assertEqual(pending, [], "handshakes did not complete: the backlog shrank")


def accepting(sock: socket.socket) -> int:
    return sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)


def backlog_of(listener: socket.socket) -> int:
    """The backlog of a listening TCP socket: tcp_info's tcpi_sacked (Linux reports
    sk_max_ack_backlog there for a listener; ss -ltn shows it as Send-Q)."""
    info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return struct.unpack_from("=I", info, 28)[0]


def cinit_backlog() -> int:
    """What listen(fd, SOMAXCONN) gives here: the kernel caps it at net.core.somaxconn."""
    with open("/proc/sys/net/core/somaxconn") as f:
        return min(int(f.read()), socket.SOMAXCONN)


def handshakes_complete(test: unittest.TestCase, port: int, count: int) -> None:
    """Opens count connections to 127.0.0.1:port; all must complete (nobody accepts)."""
    clients = []
    for _ in range(count):
        client = socket.socket()
        test.addCleanup(client.close)
        client.setblocking(False)
        test.assertIn(client.connect_ex(("127.0.0.1", port)), (0, errno.EINPROGRESS))
        clients.append(client)
    deadline = time.monotonic() + DEADLINE
    pending = list(clients)
    while pending and time.monotonic() < deadline:
        _, writable, _ = select.select([], pending, [], deadline - time.monotonic())
        for client in writable:
            test.assertEqual(client.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), 0)
            pending.remove(client)
    test.assertEqual(pending, [], "handshakes did not complete")


POLLOUT_HUP = select.POLLOUT | select.POLLHUP


class SharedSocketTest(ProbeTest):
    """shutdown() and listen() on a socket the shim installed never change cinit's
    socket: the caller's fd gets a socket of its own that looks shut down."""

    def start_shared(self, *args: str, listener: Optional[socket.socket] = None):
        cinit = FakeCinit(self)
        if listener is None:
            listener = make_listener(backlog=16)
            self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        proc, out = self.start(cinit, "--port", str(port), *args)
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], int(bound["inode"])),
                         ("0", os.fstat(listener.fileno()).st_ino))
        return cinit, listener, proc, out

    def test_shutdown_leaves_cinit_socket_listening(self):
        for flags, nonblock, cloexec in (((), "0", "1"), (("--nonblock",), "1", "1"),
                                         (("--no-cloexec",), "0", "0")):
            with self.subTest(flags=flags):
                cinit, listener, proc, out = self.start_shared(*flags, "--listen", "8",
                                                               "--shutdown", "2")
                self.assertEqual(out.fields("listen")["rc"], "0")
                shut = out.fields("shutdown")
                # What a shut-down listener shows (measured on one): not listening,
                # accept() fails with EINVAL, poll() says POLLOUT|POLLHUP; the fd keeps
                # its own flags.
                self.assertEqual((shut["rc"], shut["listening"], shut["accept"]),
                                 ("0", "0", str(errno.EINVAL)))
                self.assertEqual(int(shut["poll"], 16), POLLOUT_HUP)
                self.assertEqual((shut["nonblock"], shut["cloexec"]), (nonblock, cloexec))
                self.assertNotEqual(int(shut["inode"]), os.fstat(listener.fileno()).st_ino)
                self.assertEqual(out.next(), "done")
                # cinit's socket listens, with cinit's backlog, and takes connections.
                self.assertEqual(accepting(listener), 1)
                self.assertEqual(backlog_of(listener), 16)
                handshakes_complete(self, listener.getsockname()[1], 4)
                cinit.expect_nothing()

    def test_shutdown_for_writing_changes_nothing(self):
        # Linux ignores SHUT_WR on a listener: the fd stays cinit's socket.
        _, listener, _, out = self.start_shared("--shutdown", "1")
        shut = out.fields("shutdown")
        self.assertEqual((shut["rc"], shut["listening"], shut["accept"]), ("0", "1", "-1"))
        self.assertEqual(int(shut["inode"]), os.fstat(listener.fileno()).st_ino)
        self.assertEqual(accepting(listener), 1)

    def test_shutdown_with_a_bad_how_is_einval(self):
        _, listener, _, out = self.start_shared("--shutdown", "7")
        shut = out.fields("shutdown")
        self.assertEqual((shut["rc"], shut["errno"], shut["listening"]),
                         ("-1", str(errno.EINVAL), "1"))
        self.assertEqual(int(shut["inode"]), os.fstat(listener.fileno()).st_ino)

    def test_shutdown_of_a_shared_udp_socket_is_its_own(self):
        cinit = FakeCinit(self)
        sock = make_listener(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        port = sock.getsockname()[1]
        proc, out = self.start(cinit, "--type", "dgram", "--port", str(port), "--shutdown", "2")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), sock)
        self.assertEqual(out.fields("bind")["rc"], "0")
        shut = out.fields("shutdown")
        # An unconnected datagram socket says ENOTCONN and is marked shut down.
        self.assertEqual((shut["rc"], shut["errno"]), ("-1", str(errno.ENOTCONN)))
        self.assertTrue(int(shut["poll"], 16) & select.POLLHUP, shut)
        self.assertNotEqual(int(shut["inode"]), os.fstat(sock.fileno()).st_ino)
        # cinit's socket is not: no hangup, and it still receives.
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLOUT)
        self.assertEqual(poller.poll(0), [(sock.fileno(), select.POLLOUT)])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.sendto(b"ping", ("127.0.0.1", port))
        sock.settimeout(DEADLINE)
        self.assertEqual(sock.recv(16), b"ping")

    def test_listen_on_a_shared_socket_that_is_not_listening_uses_cinit_backlog(self):
        # Something bypassed the shim (a raw syscall, a static child) and shut the
        # shared socket down: the app's listen(1) makes it listen again, with
        # cinit's backlog, never the app's.
        listener = make_listener(backlog=16)
        self.addCleanup(listener.close)
        listener.shutdown(socket.SHUT_RDWR)
        self.assertEqual(accepting(listener), 0)
        _, _, _, out = self.start_shared("--listen", "1", listener=listener)
        self.assertEqual(out.fields("listen")["rc"], "0")
        self.assertEqual(out.next(), "done")
        self.assertEqual(accepting(listener), 1)
        self.assertEqual(backlog_of(listener), cinit_backlog())

    def test_shutdown_of_other_sockets_is_real(self):
        # Port 0: a real bind, not cinit's socket; shutdown() is the syscall.
        cinit = FakeCinit(self)
        proc, out = self.start(cinit, "--port", "0", "--listen", "4", "--shutdown", "2")
        cinit.expect_hello(proc.pid)
        bound = out.fields("bind")
        self.assertEqual(out.fields("listen")["rc"], "0")
        shut = out.fields("shutdown")
        self.assertEqual((shut["rc"], shut["listening"], shut["accept"]),
                         ("0", "0", str(errno.EINVAL)))
        self.assertEqual(shut["inode"], bound["inode"])
        cinit.expect_nothing()


class PassThroughTest(ProbeTest):
    """Binds the shim must leave to the kernel, with no request sent."""

    def test_port_zero_gets_a_real_ephemeral_port(self):
        cinit = FakeCinit(self)
        proc, out = self.start(cinit, "--port", "0", "--listen", "4", "--serve", "1")
        cinit.expect_hello(proc.pid)
        bound = out.fields("bind")
        self.assertEqual(bound["rc"], "0")
        self.assertNotEqual(bound["port"], "0")
        self.assertEqual(out.fields("listen")["rc"], "0")
        cinit.expect_nothing()
        self.assertEqual(self.connect_and_read(socket.AF_INET, int(bound["port"])),
                         f"hello from bind_probe {proc.pid}\n")

    def test_unix_path_bind_is_real(self):
        cinit = FakeCinit(self)
        path = os.path.join(cinit.logdir, "probe.sock")
        proc, out = self.start(cinit, "--family", "unix", "--path", path)
        cinit.expect_hello(proc.pid)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["domain"]), ("0", str(socket.AF_UNIX)))
        self.assertTrue(os.path.exists(path))
        cinit.expect_nothing()

    def test_without_channel_bind_is_real(self):
        # No CINIT_SHIM_FD, or one that is not a SEQPACKET socket: the shim
        # stays inactive (no HELLO either) and bind() is the plain syscall.
        stream, stream_peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(stream.close)
        self.addCleanup(stream_peer.close)
        with open(os.devnull, "rb") as devnull:
            cases = {
                "unset": (None, ()),
                "empty": ("", ()),
                "not a number": ("x3", ()),
                "trailing junk": (f"{devnull.fileno()}x", ()),
                "not open": ("999", ()),
                "regular file": (str(devnull.fileno()), (devnull.fileno(),)),
                "stream socket": (str(stream.fileno()), (stream.fileno(),)),
            }
            for name, (value, fds) in cases.items():
                with self.subTest(name):
                    cinit = FakeCinit(self)
                    env = cinit.env()
                    if value is None:
                        del env["CINIT_SHIM_FD"]
                    else:
                        env["CINIT_SHIM_FD"] = value
                    port = free_port()
                    proc, out = self.start(cinit, "--port", str(port), "--listen", "4",
                                           env=env, pass_fds=fds)
                    bound = out.fields("bind")
                    self.assertEqual((bound["rc"], bound["port"]), ("0", str(port)))
                    self.assertEqual(out.fields("listen")["rc"], "0")
                    self.assertEqual(out.next(), "done")
                    cinit.expect_nothing()
            stream_peer.setblocking(False)
            with self.assertRaises(BlockingIOError):
                stream_peer.recv(64)


class FailOpenTest(ProbeTest):
    """When cinit does not answer, the program gets the real bind."""

    def assert_real_bind(self, proc, out, port: int, foreign_inode: Optional[int] = None):
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["port"]), ("0", str(port)))
        if foreign_inode is not None:
            self.assertNotEqual(int(bound["inode"]), foreign_inode)
            self.assertNotIn(foreign_inode, socket_inodes(proc.pid))
        self.assertEqual(out.fields("listen")["rc"], "0")
        self.assertEqual(self.connect_and_read(socket.AF_INET, port),
                         f"hello from bind_probe {proc.pid}\n")

    def test_declined_request_falls_back(self):
        cinit = FakeCinit(self)
        port = free_port()
        proc, out = self.start(cinit, "--port", str(port), "--listen", "4", "--serve", "1")
        cinit.expect_hello(proc.pid)
        cinit.expect_bind(proc.pid).reply.close()  # decline: EOF, no REPLY
        self.assert_real_bind(proc, out, port)

    def test_closed_channel_falls_back_without_sigpipe(self):
        cinit = FakeCinit(self)
        port = free_port()
        proc, out = self.start(cinit, "--port", str(port), "--listen", "4", "--serve", "1")
        cinit.expect_hello(proc.pid)
        cinit.sock.close()  # cinit is gone before the bind
        self.assert_real_bind(proc, out, port)

    def test_malformed_replies_fall_back_and_close_fds(self):
        cases = {
            "bad magic": reply_bytes(0, magic=0x12345678),
            "bad version": reply_bytes(0, version=2),
            "short": reply_bytes(0)[:12],
            "empty": b"",
            "errno out of range": reply_bytes(5000),
            "negative errno": reply_bytes(-1),
        }
        for name, data in cases.items():
            with self.subTest(name):
                cinit = FakeCinit(self)
                decoy = make_listener()
                self.addCleanup(decoy.close)
                port = free_port()
                proc, out = self.start(cinit, "--port", str(port), "--listen", "4",
                                       "--serve", "1")
                cinit.expect_hello(proc.pid)
                cinit.answer(cinit.expect_bind(proc.pid), decoy, data=data)
                self.assert_real_bind(proc, out, port, os.fstat(decoy.fileno()).st_ino)

    def test_success_without_fd_falls_back(self):
        cinit = FakeCinit(self)
        port = free_port()
        proc, out = self.start(cinit, "--port", str(port), "--listen", "4", "--serve", "1")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid))  # error 0, no socket
        self.assert_real_bind(proc, out, port)

    def test_socket_of_wrong_type_falls_back(self):
        cinit = FakeCinit(self)
        udp = make_listener(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        port = free_port()
        proc, out = self.start(cinit, "--port", str(port), "--listen", "4", "--serve", "1")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), udp)
        self.assert_real_bind(proc, out, port, os.fstat(udp.fileno()).st_ino)


def can_hide_proc() -> bool:
    """Whether this test may run a program in a mount namespace without /proc."""
    if not shutil.which("unshare"):
        return False
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                           "mount -t tmpfs none /proc && test ! -e /proc/self"],
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    return done.returncode == 0


class EnvironmentTest(ProbeTest):
    """Where the shim finds CINIT_SHIM_FD."""

    @unittest.skipUnless(can_hide_proc(), "cannot unshare a mount namespace to hide /proc")
    def test_glibc_reads_envp_without_proc(self):
        # glibc hands (argc, argv, envp) to constructors, so the shim needs no
        # /proc there. unshare, sh and env all exec in place: one pid.
        cinit = FakeCinit(self)
        listener = make_listener()
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        script = ('mount -t tmpfs none /proc && '
                  'exec env LD_PRELOAD="$1" CINIT_SHIM_FD="$2" "$3" --port "$4"')
        env = base_env()
        proc = cinit.spawn(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                            script, "sh", SHIM_SO, str(cinit.worker_end.fileno()), self.probe,
                            str(port)], env)
        out = Lines(proc.stdout)
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], int(bound["inode"])),
                         ("0", os.fstat(listener.fileno()).st_ino))


@unittest.skipUnless(musl_gcc(), "musl-gcc not found: install Debian's musl-tools to run the musl tests")
class MuslTest(ProbeTest):
    """The same object loads under musl, which passes no envp to constructors."""

    @classmethod
    def setUpClass(cls):
        cls.probe = musl_probe()

    def test_probe_is_linked_against_musl(self):
        self.assertIn("ld-musl", interpreter_of(self.probe))

    def test_serves_on_cinit_socket(self):
        cinit = FakeCinit(self)
        listener = make_listener()
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        proc, out = self.start(cinit, "--port", str(port), "--nonblock", "--listen", "8",
                               "--serve", "1")
        # A HELLO proves that the shim loaded and read CINIT_SHIM_FD (from
        # /proc/self/environ: musl gives constructors no arguments).
        cinit.expect_hello(proc.pid)
        request = cinit.expect_bind(proc.pid)
        self.assertEqual((request.family, request.port), (socket.AF_INET, port))
        cinit.answer(request, listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["port"], bound["nonblock"]), ("0", str(port), "1"))
        self.assertEqual(int(bound["inode"]), os.fstat(listener.fileno()).st_ino)
        self.assertEqual(out.fields("listen")["rc"], "0")
        self.assertEqual(self.connect_and_read(socket.AF_INET, port),
                         f"hello from bind_probe {proc.pid}\n")

    def test_error_reply_sets_errno(self):
        cinit = FakeCinit(self)
        proc, out = self.start(cinit, "--port", "1")
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), error=errno.EADDRNOTAVAIL)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], bound["errno"]), ("-1", str(errno.EADDRNOTAVAIL)))


@unittest.skipUnless(IMAGE_WRITER, "CINIT_SHIM_IMAGE_WRITER not set")
class ShimImageTest(ProbeTest):
    """cinit::ShimImage() holds the built shim, and a copy of it preloads."""

    def write_image(self) -> bytes:
        out_dir = tempfile.mkdtemp(prefix="cinit-shim-image-")
        self.addCleanup(shutil.rmtree, out_dir, True)
        path = os.path.join(out_dir, "cinit_shim.so")
        done = subprocess.run([IMAGE_WRITER, path], check=True, capture_output=True, text=True,
                              timeout=60)
        with open(path, "rb") as f:
            image = f.read()
        self.assertEqual(done.stdout.strip(), str(len(image)))
        return image

    def test_image_is_the_built_shim(self):
        with open(SHIM_SO, "rb") as f:
            self.assertEqual(self.write_image(), f.read())

    def check_preloads(self, probe: str, image: bytes, use_memfd: bool) -> None:
        cinit = FakeCinit(self)
        if use_memfd:
            # What cinit may do: a memfd the worker inherits, named by path.
            memfd = os.memfd_create("cinit_shim.so", os.MFD_CLOEXEC)
            self.addCleanup(os.close, memfd)
            os.write(memfd, image)
            preload, fds = f"/proc/self/fd/{memfd}", (memfd,)
        else:
            preload, fds = os.path.join(cinit.logdir, "copy.so"), ()
            with open(preload, "wb") as f:
                f.write(image)
            os.chmod(preload, 0o444)
        listener = make_listener()
        self.addCleanup(listener.close)
        port = listener.getsockname()[1]
        proc = cinit.spawn([probe, "--port", str(port)], cinit.env(preload=preload), fds)
        out = Lines(proc.stdout)
        cinit.expect_hello(proc.pid)
        cinit.answer(cinit.expect_bind(proc.pid), listener)
        bound = out.fields("bind")
        self.assertEqual((bound["rc"], int(bound["inode"])),
                         ("0", os.fstat(listener.fileno()).st_ino))

    def test_copy_preloads_from_a_file(self):
        self.check_preloads(PROBE, self.write_image(), use_memfd=False)

    def test_copy_preloads_from_a_memfd(self):
        self.check_preloads(PROBE, self.write_image(), use_memfd=True)

    @unittest.skipUnless(musl_gcc(), "musl-gcc not found: install Debian's musl-tools")
    def test_copy_preloads_from_a_memfd_under_musl(self):
        self.check_preloads(musl_probe(), self.write_image(), use_memfd=True)


if __name__ == "__main__":
    unittest.main()
