#!/usr/bin/python3
"""Stands in for an init under test and runs it as PID 1 of a fresh PID namespace.

bench/peer_suites.sh copies this file under a peer's name (BIN/dumb-init, BIN/tini)
and sets PEER_PID1_REAL to a directory holding the binary under test under the same
name. A peer's test suite then starts "dumb-init ARGS" as usual; this process
unshares a PID and a mount namespace and forks, and the child, PID 1 there with a
/proc of its own, execs the real binary: what `unshare --pid --fork --mount-proc`
does, plus what a stand-in needs to be transparent to the test:

- every signal it gets goes to the init, and it exits as the init did (the same
  code, or killed by the same signal);
- when the process that started it dies, it dies too (PR_SET_PDEATHSIG), so the
  init is orphaned as it would be without a stand-in (and gets its -p signal);
- when it was started as the leader of a session that has a terminal (pty.fork),
  it hands that terminal to the init, which becomes the leader of a session of its
  own with that controlling terminal, as if it had been started directly.

Root only (the benches and tests run as root). One extra process still stands
between the test and the init, which the peers' suites see when they count
processes or pass a PID across the namespace's border; bench/README.md lists those
checks.
"""
import ctypes
import fcntl
import os
import signal
import struct
import sys
import termios

PR_SET_PDEATHSIG = 1
TIOCGSID = getattr(termios, "TIOCGSID", 0x5429)
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_REC, MS_PRIVATE = 0x4000, 1 << 18

libc = ctypes.CDLL(None, use_errno=True)


def fail(message: str) -> None:
    sys.stderr.write(f"pid1_launch: {message}\n")
    sys.exit(125)


def leads_session_with_terminal() -> bool:
    """True when this process leads its session and stdin is that session's terminal."""
    try:
        sid = struct.unpack("i", fcntl.ioctl(0, TIOCGSID, b"\0" * 4))[0]
    except OSError:
        return False
    return os.getsid(0) == os.getpid() == sid


def child(real: str, handoff) -> None:
    """In the new namespace, PID 1: mounts /proc, takes the terminal, execs."""
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0 or \
       libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None) != 0:
        os.write(2, f"pid1_launch: mount: {os.strerror(ctypes.get_errno())}\n".encode())
        os._exit(125)
    if handoff:
        ready_w, released_r = handoff
        os.write(ready_w, b"r")  # HUP and CONT are ignored here (set before fork)
        os.read(released_r, 1)   # the launcher has given the terminal up
        os.setsid()
        try:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        except OSError as error:
            os.write(2, f"pid1_launch: TIOCSCTTY: {error.strerror}\n".encode())
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGCONT, signal.SIG_DFL)
    try:
        os.execv(real, [os.path.basename(sys.argv[0])] + sys.argv[1:])
    except OSError as error:
        os.write(2, f"pid1_launch: {real}: {error.strerror}\n".encode())
        os._exit(125)


def main() -> None:
    name = os.path.basename(sys.argv[0])
    real_dir = os.environ.get("PEER_PID1_REAL")
    if not real_dir:
        fail("PEER_PID1_REAL is not set")
    real = os.path.join(real_dir, name)
    parent = os.getppid()
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        sys.exit(1)
    if libc.unshare(CLONE_NEWPID | CLONE_NEWNS) != 0:
        fail(f"unshare: {os.strerror(ctypes.get_errno())}")

    handoff = None
    if leads_session_with_terminal():
        # Giving the terminal up (TIOCNOTTY) sends HUP and CONT to its foreground
        # group, ours and the child's until it leaves: both ignore them meanwhile.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGCONT, signal.SIG_IGN)
        ready_r, ready_w = os.pipe()
        released_r, released_w = os.pipe()
        handoff = (ready_w, released_r)
    pid = os.fork()
    if pid == 0:
        child(real, handoff)
    if handoff:
        os.read(ready_r, 1)
        try:
            fcntl.ioctl(0, termios.TIOCNOTTY)
        except OSError as error:
            sys.stderr.write(f"pid1_launch: TIOCNOTTY: {error.strerror}\n")
        os.write(released_w, b"r")
        for fd in (ready_r, ready_w, released_r, released_w):
            os.close(fd)

    def forward(signo, _frame):
        try:
            os.kill(pid, signo)
        except ProcessLookupError:
            pass

    for signo in range(1, signal.SIGRTMAX + 1):
        if signo in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD) or \
                signal.SIGSYS < signo < signal.SIGRTMIN:
            continue
        signal.signal(signo, forward)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        signo = os.WTERMSIG(status)
        signal.signal(signo, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signo})
        os.kill(os.getpid(), signo)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main()
