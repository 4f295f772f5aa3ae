"""--log-prefix: workers' lines reach cinit's stdout/stderr whole, with "[k] " in front;
a reader that does not read never blocks cinit (lines are dropped and counted)."""

import os
import signal
import subprocess
import time
import unittest

from harness import CINIT, wait_for
from test_cluster import NODE, app, node_version


class LogPrefixTest(unittest.TestCase):
    def setUp(self):
        if not node_version(NODE):
            self.skipTest(f"no node at {NODE}")

    def test_lines_are_prefixed_and_whole(self):
        proc = subprocess.Popen([CINIT, "-i", "2", "--control", "none", "--status-file", "none",
                                 "--log-prefix", NODE, app("chatty.js")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        out_lines = []
        deadline = time.monotonic() + 30
        # 2 workers x (3 lines + 2 pieces of the 20 000-byte line)
        while len(out_lines) < 10 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out_lines.append(line.rstrip("\n"))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        for k in ("0", "1"):
            for i in range(3):
                self.assertIn(f"[{k}] line {i} from {k}", out_lines)
            pieces = [l for l in out_lines if l.startswith(f"[{k}] x")]
            self.assertEqual([len(p) - 4 for p in pieces], [16384, 20000 - 16384], out_lines)
            self.assertIn(f"[{k}] err from {k}", err.splitlines())

    def test_a_reader_that_does_not_read_never_blocks_cinit(self):
        read_end, write_end = os.pipe()
        self.addCleanup(os.close, read_end)
        env = dict(os.environ, CHATTY_FLOOD="1")
        proc = subprocess.Popen([CINIT, "-i", "2", "--control", "none", "--status-file", "none",
                                 "--graceful-timeout", "500", "--log-prefix", NODE,
                                 app("chatty.js")],
                                stdout=write_end, stderr=subprocess.PIPE, env=env)
        os.close(write_end)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        # Nobody reads cinit's stdout; the workers flood theirs. cinit must keep
        # working: it still stops on SIGTERM and says it dropped lines.
        wait_for(lambda: proc.poll() is None and _pipe_full(read_end),
                 what="cinit's stdout pipe to fill", timeout=30)
        wait_for(lambda: "dropping worker output" in _peek(proc), what="the drop warning",
                 timeout=30)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        err = _peek(proc)
        self.assertIn(proc.returncode, (0, 1), err)
        self.assertIn("dropping worker output", err)


_stderr_seen = {}


def _peek(proc):
    """What cinit wrote to stderr so far (read without blocking)."""
    import fcntl as _fcntl
    fd = proc.stderr.fileno()
    flags = _fcntl.fcntl(fd, _fcntl.F_GETFL)
    _fcntl.fcntl(fd, _fcntl.F_SETFL, flags | os.O_NONBLOCK)
    try:
        chunk = os.read(fd, 65536)
    except BlockingIOError:
        chunk = b""
    _stderr_seen[proc.pid] = _stderr_seen.get(proc.pid, "") + chunk.decode(errors="replace")
    return _stderr_seen[proc.pid]


def _pipe_full(fd):
    """True once the pipe holds most of its 64 KiB (default capacity) unread."""
    import fcntl
    import termios
    import array
    buf = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return buf[0] >= 48 * 1024


if __name__ == "__main__":
    unittest.main()
