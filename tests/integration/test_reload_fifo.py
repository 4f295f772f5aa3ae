"""The control FIFO under abuse: garbage, control bytes, an oversized (100 KiB)
line, unknown commands and bad numbers are logged (`cinit: warning: control
FIFO: ignoring ...`) and ignored; a partial line waits for its newline across
writers that open and close the FIFO; 1000 writers that open it and close it
(writing an empty line, or nothing) make cinit neither act nor spin; afterwards
`reload` still works, and cinit used little CPU time throughout."""

import array
import fcntl
import os
import termios
import time
import unittest

from harness import wait_for
from reload_support import Cluster, cpu_seconds

IGNORED = "cinit: warning: control FIFO: ignoring "

# (bytes written in one open/write/close, what the warning says)
BAD_LINES = [
    (b"\x00\x01garbage\x1b[31m\n", "holds control characters"),
    (b"\xff\xfe\xfd\xfc\n", "unknown command"),
    (b"frobnicate\n", "unknown command 'frobnicate'"),
    (b"RELOAD\n", "unknown command 'RELOAD'"),
    (b"reload now\n", "unknown command 'reload now'"),
    (b"scale\n", "unknown command 'scale'"),
    (b"scale 0\n", "scale takes a worker count"),
    (b"scale -2\n", "scale takes a worker count"),
    (b"scale 3x\n", "scale takes a worker count"),
    (b"scale 99999999999999999999\n", "scale takes a worker count"),
    (b"y" * 256 + b"\n", "unknown command 'yyyy"),          # the longest line taken
    (b"z" * 257 + b"\n", "a line longer than 256 bytes"),  # one byte too long
    (b"x" * (100 * 1024) + b"\n", "a line longer than 256 bytes"),
]


def fifo_pending(path: str) -> int:
    """Bytes written to the FIFO that its reader has not read yet."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        count = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, count, True)
        return count[0]
    finally:
        os.close(fd)


def waiting_in_epoll(host_pid: int) -> bool:
    try:
        with open(f"/proc/{host_pid}/wchan") as f:
            return "epoll" in f.read()
    except FileNotFoundError:
        return False


class ControlFifoRobustnessTest(unittest.TestCase):
    maxDiff = None

    def wait_consumed(self, cluster: Cluster) -> None:
        """Until cinit has read everything written and waits for more."""
        pid = cluster.cinit_pid()
        wait_for(lambda: fifo_pending(cluster.ctl) == 0 and waiting_in_epoll(pid),
                 what="cinit to read the control FIFO and wait again")

    def check_warnings(self, cluster: Cluster, lines) -> None:
        warnings = [line for line in cluster.err().splitlines() if line.startswith(IGNORED)]
        self.assertEqual(len(warnings), len(lines),
                         "one warning per bad line:\n" + "\n".join(warnings))
        for (data, why), line in zip(lines, warnings):
            self.assertIn(why, line, f"for {data[:20]!r}...")
            self.assertLess(len(line), 400, "a bad line is quoted in full")
            self.assertTrue(line.isprintable(), f"control bytes in the log: {line!r}")
        self.assertNotIn("rolling reload", cluster.err())
        self.assertNotIn("scale:", cluster.err())

    def test_bad_lines_one_writer_each(self):
        cluster = Cluster(self, 1)
        cluster.wait_online()
        first = cluster.generation(0)
        for count, (data, _) in enumerate(BAD_LINES, 1):
            cluster.write_control(data)
            cluster.wait_log(IGNORED, count)
        self.check_warnings(cluster, BAD_LINES)
        self.assertEqual(cluster.live_workers(), {first[0]: 0})
        self.check_reload_works(cluster, 1)

    def test_bad_lines_in_one_burst(self):
        # All of them in one write: cinit reads several lines per read().
        cluster = Cluster(self, 1)
        cluster.wait_online()
        cluster.write_control(b"".join(data for data, _ in BAD_LINES))
        cluster.write_control(b"reload\n")  # a valid line after them, as a marker
        cluster.wait_log("rolling reload")
        cluster.wait_reload_done()
        err = cluster.err()
        before = err[:err.index("rolling reload")]
        warnings = [line for line in before.splitlines() if line.startswith(IGNORED)]
        self.assertEqual(len(warnings), len(BAD_LINES),
                         "one warning per bad line, in order:\n" + "\n".join(warnings))
        for (data, why), line in zip(BAD_LINES, warnings):
            self.assertIn(why, line, f"for {data[:20]!r}... (in order)")

    def check_reload_works(self, cluster: Cluster, done: int) -> None:
        result = cluster.ctl_command("reload")
        self.assertEqual(result.returncode, 0, result.stderr)
        cluster.wait_reload_done(done)
        last = cluster.generation(done)
        self.assertEqual(cluster.live_workers(), {last[0]: 0})
        self.assertEqual(cluster.serving([last[0]], max_requests=20), {last[0]})

    def test_partial_lines_and_many_writers_and_no_spin(self):
        cluster = Cluster(self, 1)
        cluster.wait_online()
        cinit = cluster.cinit_pid()
        cpu_start = cpu_seconds(cinit)
        cluster.write_control(b"x" * (100 * 1024) + b"\n")
        cluster.wait_log(IGNORED)

        # A partial line waits for its newline, across writers that come and go.
        cluster.write_control(b"rel")
        for _ in range(100):
            os.close(os.open(cluster.ctl, os.O_WRONLY | os.O_NONBLOCK))
        self.wait_consumed(cluster)
        self.assertNotIn("rolling reload", cluster.err())
        cluster.write_control(b"oad\n")
        cluster.wait_reload_done(1)
        self.assertIn("control FIFO: rolling reload of 1 worker(s)", cluster.err())

        # 1000 writers: an empty line, or nothing at all.
        for i in range(1000):
            if i % 2:
                cluster.write_control(b"\n")
            else:
                os.close(os.open(cluster.ctl, os.O_WRONLY | os.O_NONBLOCK))
        self.wait_consumed(cluster)
        self.assertEqual(cluster.count(IGNORED), 1, "empty lines are skipped silently")

        # Idle now, with no writer left: a cinit that spins (say, on a FIFO
        # at end-of-file) would burn most of this second.
        cpu_idle = cpu_seconds(cinit)
        time.sleep(1.0)  # an observation window, not a synchronisation
        self.assertLess(cpu_seconds(cinit) - cpu_idle, 0.3, "cinit is busy while idle")
        self.assertTrue(waiting_in_epoll(cinit))

        self.check_reload_works(cluster, 2)
        self.assertEqual(cluster.count("rolling reload of"), 2, cluster.err())
        self.assertLess(cpu_seconds(cinit) - cpu_start, 1.0, "cinit's CPU time over the test")
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
