"""cinit as the ENTRYPOINT of a FROM scratch image, run by podman with runc.

This is the shape docker/Dockerfile ships: an image holding nothing but /cinit and the
program it starts. podman cannot pull base images here, but it can build a FROM scratch
image from local files. Skipped when podman or runc is missing, or when podman cannot run
even a container without cinit on this machine (then the environment, not cinit, is at
fault).
"""

import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest
import uuid

CINIT = os.environ.get("CINIT_BIN", "build/cinit")

# podman's default rlimits exceed this machine's hard limits; runc then refuses to start.
RUN = ["podman", "--runtime", "runc", "run", "--rm", "--network", "none",
       "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

HELLO_C = textwrap.dedent("""\
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <unistd.h>
    int main(int argc, char** argv) {
      /* Leave an orphan behind: its parent exits at once, so PID 1 must reap it. */
      if (fork() == 0) { if (fork() == 0) { usleep(100000); _exit(0); } _exit(0); }
      printf("pid=%d ppid=%d\\n", getpid(), getppid());
      fflush(stdout);
      return argc > 1 ? atoi(argv[1]) : 0;
    }
    """)


def run(cmd, timeout=120):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@unittest.skipUnless(shutil.which("podman") and shutil.which("runc"), "podman/runc not installed")
class ScratchImageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cinit-scratch-")
        cls.images = []
        src = os.path.join(cls.dir, "hello.c")
        with open(src, "w") as f:
            f.write(HELLO_C)
        subprocess.run(["gcc", "-static", "-O2", "-o", os.path.join(cls.dir, "hello"), src],
                       check=True, timeout=120)
        shutil.copy(CINIT, os.path.join(cls.dir, "cinit"))
        # Probe: can podman run a scratch image at all here (without cinit)?
        probe = cls.build("FROM scratch\nCOPY hello /hello\nENTRYPOINT [\"/hello\"]\n")
        result = run(RUN + [probe, "0"])
        if result.returncode != 0 or "pid=" not in result.stdout:
            raise unittest.SkipTest(f"podman cannot run containers here: {result.stderr.strip()}")

    @classmethod
    def build(cls, containerfile):
        tag = f"localhost/cinit-test-{uuid.uuid4().hex[:12]}"
        path = os.path.join(cls.dir, "Containerfile")
        with open(path, "w") as f:
            f.write(containerfile)
        subprocess.run(["podman", "build", "-q", "-t", tag, "-f", path, cls.dir],
                       check=True, capture_output=True, timeout=300)
        cls.images.append(tag)
        return tag

    @classmethod
    def tearDownClass(cls):
        for tag in getattr(cls, "images", []):
            subprocess.run(["podman", "rmi", "-f", tag], capture_output=True, timeout=120)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_cinit_is_pid1_in_an_image_with_nothing_else(self):
        tag = self.build(
            "FROM scratch\nCOPY cinit /cinit\nCOPY hello /hello\n"
            "ENTRYPOINT [\"/cinit\", \"--\", \"/hello\"]\n")
        result = run(RUN + [tag, "5"])
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("ppid=1", result.stdout)  # its parent is cinit, PID 1
        self.assertNotIn("cinit:", result.stderr)  # nothing to warn about

    def test_missing_program_in_scratch_image_is_127(self):
        tag = self.build("FROM scratch\nCOPY cinit /cinit\nENTRYPOINT [\"/cinit\", \"--\"]\n")
        result = run(RUN + [tag, "/no/such/program"])
        self.assertEqual(result.returncode, 127)
        self.assertIn("/no/such/program", result.stderr)


if __name__ == "__main__":
    unittest.main()
