"""Shared machinery for cinit's integration tests (Python 3.11, stdlib only).

The binary under test comes from $CINIT_BIN, the static helper programs from
$CINIT_HELPERS (CTest sets both; see CMakeLists.txt). When $CINIT_HELPERS is not
set, the helpers are compiled from helpers/*.c into a cache directory, so a
single test file can also be run by hand:

    CINIT_BIN=build/cinit python3 -m unittest -v test_signals

cinit runs in one of three modes:

  PID1       unshare --pid --fork --mount-proc --kill-child -- cinit ...
             cinit is PID 1 of a fresh PID namespace.
  SUBREAPER  unshare ... -- nsinit cinit ...
             cinit is PID 2, so it works as a child subreaper, but whatever it
             signals or leaks stays inside the namespace. nsinit (helpers/) is
             a minimal PID 1 that reports leftover processes when cinit exits.
  PLAIN      cinit is started directly by the test process (not PID 1, no
             namespace).

Conventions (STYLE.md 4.4): every wait has a deadline; synchronisation is by
polling an observable condition (wait_for), never by a fixed sleep; every
process a test starts is ended by the test, by PID (Process.kill, registered
with addCleanup). The test process makes itself a child subreaper, so that
processes which escape cinit land here and are killed and reaped too.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
from typing import Callable, NamedTuple, Optional, TypeVar

HERE = os.path.dirname(os.path.abspath(__file__))

# Generous: the machine is small and noisy. Tests assert behaviour; a deadline
# only turns a hang into a failure.
DEADLINE = float(os.environ.get("CINIT_TEST_DEADLINE", "30"))

PID1 = "pid1"
SUBREAPER = "subreaper"
PLAIN = "plain"

PR_SET_CHILD_SUBREAPER = 36

T = TypeVar("T")


def _find_cinit() -> str:
    path = os.environ.get("CINIT_BIN")
    if not path:
        raise RuntimeError("CINIT_BIN is not set: point it at the cinit binary")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"CINIT_BIN={path} is not an executable file")
    return path


def _build_helpers() -> str:
    """Compiles helpers/*.c (static) into a cache dir; returns the dir."""
    sources = sorted(f for f in os.listdir(os.path.join(HERE, "helpers")) if f.endswith(".c"))
    out_dir = os.path.join(tempfile.gettempdir(), f"cinit-it-helpers-{os.getuid()}")
    os.makedirs(out_dir, exist_ok=True)
    for source in sources:
        src = os.path.join(HERE, "helpers", source)
        exe = os.path.join(out_dir, source[:-2])
        if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
            continue
        subprocess.run(["cc", "-static", "-O2", "-Wall", "-o", exe, src],
                       check=True, timeout=120)
    return out_dir


CINIT = _find_cinit()


def _is_static(path: str) -> bool:
    """True when the ELF file has no PT_INTERP (no dynamic loader): the shipped form."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3 for i in range(phnum))


# Memory figures (RSS) are asserted only on the shipped static binary: a sanitizer
# build (scripts/sanitize.sh: dynamic, ASan's shadow memory and quarantine) has its own.
CINIT_IS_STATIC = _is_static(CINIT)


def tcp_sockets() -> list[tuple[int, str, str]]:
    """(local port, state in hex, inode) of every TCP socket in /proc/net/tcp{,6} of
    this network namespace (state "0A" is TCP_LISTEN)."""
    result = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            fields = row.split()
            result.append((int(fields[1].rsplit(":", 1)[1], 16), fields[3], fields[9]))
    return result
HELPERS = os.path.abspath(os.environ.get("CINIT_HELPERS") or _build_helpers())


def helper(name: str) -> str:
    """Absolute path of a helper program."""
    path = os.path.join(HELPERS, name)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"helper {path} is missing (CINIT_HELPERS={HELPERS})")
    return path


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


_become_subreaper()


def wait_for(cond: Callable[[], T], timeout: float = DEADLINE, what: str = "condition",
             interval: float = 0.005) -> T:
    """Polls cond() until it returns a truthy value, which is returned.

    Raises AssertionError naming `what` when `timeout` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        if interval:
            time.sleep(interval)


# ---------------------------------------------------------------------------
# /proc

class ProcStat(NamedTuple):
    pid: int
    comm: str
    state: str
    ppid: int
    pgrp: int
    session: int
    tpgid: int
    starttime: int


def proc_stat(pid: int) -> Optional[ProcStat]:
    """Parses /proc/<pid>/stat; None when the process does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is field 3 (state) of proc(5).
    return ProcStat(pid, comm, fields[0], int(fields[1]), int(fields[2]), int(fields[3]),
                    int(fields[5]), int(fields[19]))


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children_of(pid: int) -> list[int]:
    """Direct children of pid (all threads), from /proc/<pid>/task/*/children."""
    result = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):
        return []
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                result.extend(int(p) for p in f.read().split())
        except (FileNotFoundError, ProcessLookupError):  # it exited meanwhile (ESRCH)
            pass
    return result


def descendants_of(pid: int) -> list[int]:
    result, frontier = [], [pid]
    while frontier:
        kids = [c for p in frontier for c in children_of(p)]
        result.extend(kids)
        frontier = kids
    return result


def is_gone(pid: int, starttime: Optional[int] = None) -> bool:
    """True when pid no longer exists (reaped), or is now a different process."""
    st = proc_stat(pid)
    return st is None or (starttime is not None and st.starttime != starttime)


def comm_of(pid: int) -> Optional[str]:
    st = proc_stat(pid)
    return st.comm if st else None


def exe_is(pid: int, path: str) -> bool:
    try:
        return os.path.samefile(f"/proc/{pid}/exe", path)
    except OSError:
        return False


def status_field(pid: int, name: str) -> Optional[str]:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key == name:
                    return value.strip()
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


# ---------------------------------------------------------------------------
# Processes

_active: set[int] = set()  # pids of Popen objects not yet reaped


def kill_tree(root: int) -> None:
    """SIGKILLs root and all its descendants, by PID.

    Everything is stopped first (SIGSTOP, repeated until no new descendant
    shows up), so nothing can fork while the tree is being collected.
    """
    seen: list[int] = []
    pending = [root]
    for _ in range(100):
        if not pending:
            break
        for pid in pending:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
            seen.append(pid)
        pending = [p for p in descendants_of(root) if p not in seen]
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def reap_strays(timeout: float = 10.0) -> list[int]:
    """Kills and reaps children of this process that no Popen owns.

    Those are processes that escaped cinit and were reparented to the test
    process (a subreaper). Returns their pids.
    """
    strays = [p for p in children_of(os.getpid()) if p not in _active]
    for pid in strays:
        kill_tree(pid)
    deadline = time.monotonic() + timeout
    for pid in strays:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.005)
    return strays


class Stream:
    """Collects everything read from a file descriptor in a background thread."""

    def __init__(self, fd: int):
        self.fd = fd
        self._data = bytearray()
        self._eof = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO on a pty master once the slave side is gone
                chunk = b""
            with self._cond:
                if not chunk:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self._data += chunk
                self._cond.notify_all()

    def text(self) -> str:
        with self._cond:
            return self._data.decode(errors="replace")

    def lines(self) -> list[str]:
        """Complete lines so far (without the trailing newline)."""
        text = self.text()
        return text.split("\n")[:-1]

    def wait_until(self, pred: Callable[[str], bool], timeout: float = DEADLINE,
                   what: str = "output") -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                text = self._data.decode(errors="replace")
                if pred(text):
                    return text
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError(
                        f"{'EOF' if self._eof else 'timeout'} while waiting for {what}; "
                        f"got {text!r}")
                self._cond.wait(left)

    def wait_contains(self, needle: str, timeout: float = DEADLINE) -> str:
        return self.wait_until(lambda t: needle in t, timeout, repr(needle))

    def wait_line_count(self, count: int, timeout: float = DEADLINE) -> list[str]:
        self.wait_until(lambda t: t.count("\n") >= count, timeout, f"{count} lines")
        return self.lines()

    def join(self, timeout: float) -> None:
        """Waits (bounded) for the reader thread to see EOF."""
        self._thread.join(timeout)

    def wait_eof(self, timeout: float = DEADLINE) -> str:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"no EOF within {timeout:.0f}s; got {self.text()!r}")
        return self.text()


class Process:
    """A process tree started by a test: Popen plus output collection.

    The process gets its own session (start_new_session). kill() (registered
    as a cleanup) kills the whole tree by PID and reaps it, with bounded waits.

    `layers` is the number of processes from the Popen process down to cinit
    (0: Popen runs cinit; 1: unshare -> cinit; 2: unshare -> nsinit -> cinit);
    cinit_pid() walks down that chain.
    """

    def __init__(self, test: unittest.TestCase, argv: list[str], *, layers: int = 0,
                 cinit_exe: str = CINIT, stdin=subprocess.DEVNULL,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=None, cwd=None,
                 preexec_fn=None, pass_fds=(), start_new_session: bool = True):
        self.argv = argv
        self.layers = layers
        self.cinit_exe = cinit_exe
        self._cinit_pid: Optional[int] = None
        self.proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr, env=env,
                                     cwd=cwd, preexec_fn=preexec_fn, pass_fds=pass_fds,
                                     start_new_session=start_new_session, close_fds=True)
        _active.add(self.proc.pid)
        test.addCleanup(self.kill)
        self.out = Stream(self.proc.stdout.fileno()) if stdout == subprocess.PIPE else None
        self.err = Stream(self.proc.stderr.fileno()) if stderr == subprocess.PIPE else None
        self.exited_at: Optional[float] = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def layer_pid(self, depth: int, timeout: float = DEADLINE) -> int:
        """Pid of the process `depth` levels below the Popen process (first child)."""
        pid = self.proc.pid
        for level in range(depth):
            parent = pid
            pid = wait_for(lambda: (children_of(parent) or [None])[0] or self._check_alive(),
                           timeout, f"child of pid {parent} (level {level + 1})", interval=0)
        return pid

    def _check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.argv} exited early with {self.proc.returncode}; "
                                 f"stderr: {self.err.text() if self.err else ''!r}")
        return None

    def cinit_pid(self, timeout: float = DEADLINE) -> int:
        """Host pid of cinit, once it has exec'd (its /proc/PID/exe is cinit)."""
        if self._cinit_pid is None:
            parent = self.layer_pid(self.layers - 1, timeout) if self.layers else None
            if parent is None:
                self._cinit_pid = self.proc.pid
            else:
                self._cinit_pid = wait_for(
                    lambda: next((c for c in children_of(parent) if exe_is(c, self.cinit_exe)),
                                 None) or self._check_alive(),
                    timeout, "cinit to start", interval=0.001)
        return self._cinit_pid

    def main_child(self, exe: Optional[str] = None, comm: Optional[str] = None,
                   timeout: float = DEADLINE) -> int:
        """Host pid of cinit's child, once it runs `exe` (or has `comm`)."""
        cinit = self.cinit_pid(timeout)

        def find():
            for c in children_of(cinit):
                if exe is not None and exe_is(c, exe):
                    return c
                if comm is not None and comm_of(c) == comm:
                    return c
                if exe is None and comm is None:
                    return c
            return self._check_alive()
        return wait_for(find, timeout, f"cinit's child {exe or comm or ''}")

    def signal(self, signo: int) -> None:
        """Sends signo to cinit (by host pid)."""
        os.kill(self.cinit_pid(), signo)

    def wait(self, timeout: float = DEADLINE) -> int:
        """Waits for the Popen process to exit; returns its exit status."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.argv} still running after {timeout:.0f}s; "
                f"stdout: {self.out.text() if self.out else ''!r} "
                f"stderr: {self.err.text() if self.err else ''!r}") from None
        if self.exited_at is None:
            self.exited_at = time.monotonic()
        _active.discard(self.proc.pid)
        return code

    def finish(self, timeout: float = DEADLINE) -> tuple[int, str, str]:
        """wait(), then the complete stdout and stderr."""
        code = self.wait(timeout)
        out = self.out.wait_eof(timeout) if self.out else ""
        err = self.err.wait_eof(timeout) if self.err else ""
        return code, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            kill_tree(self.proc.pid)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        _active.discard(self.proc.pid)
        reap_strays()
        for stream, pipe in ((self.out, self.proc.stdout), (self.err, self.proc.stderr)):
            if stream is not None:
                stream.join(10)
            if pipe is not None:
                pipe.close()


def ns_prefix() -> list[str]:
    """unshare command that makes a PID namespace with its own /proc."""
    prefix = ["unshare"]
    if os.geteuid() != 0:
        prefix += ["--user", "--map-root-user"]
    return prefix + ["--pid", "--fork", "--mount-proc", "--kill-child", "--"]


def start_cinit(test: unittest.TestCase, args: list[str], mode: str = PID1,
                **kwargs) -> Process:
    """Starts `cinit ARGS` in the given mode (PID1, SUBREAPER or PLAIN)."""
    if mode == PID1:
        return Process(test, ns_prefix() + [CINIT] + args, layers=1, **kwargs)
    if mode == SUBREAPER:
        return Process(test, ns_prefix() + [helper("nsinit"), CINIT] + args, layers=2, **kwargs)
    if mode == PLAIN:
        return Process(test, [CINIT] + args, layers=0, **kwargs)
    raise ValueError(mode)


def run_cinit(test: unittest.TestCase, args: list[str], mode: str = PLAIN,
              timeout: float = DEADLINE, **kwargs) -> tuple[int, str, str]:
    """Runs cinit to completion; returns (status, stdout, stderr)."""
    return start_cinit(test, args, mode, **kwargs).finish(timeout)


def parse_kv(text: str) -> dict[str, str]:
    """Parses key=value lines (sigstate's output)."""
    result = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            result[key] = value
    return result


def temp_dir(test: unittest.TestCase) -> str:
    path = tempfile.mkdtemp(prefix="cinit-it-")
    test.addCleanup(shutil.rmtree, path, True)
    return path


def signal_name(signo: int) -> str:
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"SIG{signo}"


def stderr_lines(err: str) -> list[str]:
    return [line for line in err.split("\n") if line]

