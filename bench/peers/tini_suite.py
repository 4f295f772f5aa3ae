#!/usr/bin/python3
"""Runs tini's own checks against the binary found as `tini` on PATH.

tini's repository checks itself in two places: the smoke steps of its CI build
script (ci/run_build.sh) and test/run_inner_tests.py, which stops at its first
failed assertion. To count passes and failures, this driver runs each of those
checks as a case of its own, with the same command and the same expectation,
using the helper scripts of tini's test/ directory (stage_1.py and the like, run
from the checkout given with --tini-src). The signal-configuration check needs
tini's small C program, which is not built here: the same signal state (three
signals ignored, three blocked, then exec) is set up by this driver instead.

Nothing of tini is copied: this file only names the checks and calls tini's
scripts. Used by bench/peer_suites.sh, which puts `tini` (cinit under that name,
or a PID-1 launcher) and `python`/`python3` (Debian's, with psutil and prctl)
first on PATH.

--real-exe names the binary under test, so that in PID-1 mode the checks that
count the init's descendants start from the init itself, not from the launcher
in front of it.

Prints one line per case (PASS/FAIL name: why) and, last, "tini: N passed, M failed".
"""
import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import psutil

TIMEOUT = 60


def busy_wait(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(timeout / 100)
    return cond()


class Suite:
    def __init__(self, src, real_exe):
        self.src = src
        self.real_exe = os.path.realpath(real_exe)
        self.test = os.path.join(src, "test")
        self.results = []
        # tini's checks name the binary by its full path (the proxy execv()s it).
        self.tini = shutil.which("tini") or "tini"

    # -- plumbing ---------------------------------------------------------

    def popen(self, argv, **kwargs):
        return subprocess.Popen([self.tini if a == "tini" else a for a in argv], **kwargs)

    def run(self, argv, env=None, stdin=subprocess.DEVNULL, input_text=None):
        """Runs argv to completion (bounded); returns (code, stdout, stderr)."""
        p = self.popen(argv, stdin=subprocess.PIPE if input_text is not None else stdin,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=dict(os.environ, **(env or {})), text=True)
        try:
            out, err = p.communicate(input_text, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill_tree(p.pid)
            out, err = p.communicate()
            raise AssertionError(f"{argv[:3]} did not finish in {TIMEOUT}s")
        return p.returncode, out, err

    def kill_tree(self, pid):
        try:
            procs = [psutil.Process(pid)] + psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return
        for proc in procs:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass

    def init_of(self, pid):
        """The init under test: pid itself, or the binary's process below a launcher."""
        try:
            root = psutil.Process(pid)
            for proc in [root] + root.children(recursive=True):
                if os.path.realpath(proc.exe()) == self.real_exe:
                    return proc
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        return None

    def descendants(self, pid):
        init = self.init_of(pid)
        return init.children(recursive=True) if init else []

    def case(self, name, fn):
        try:
            fn()
            self.results.append((name, True, ""))
            print(f"PASS {name}", flush=True)
        except AssertionError as error:
            self.results.append((name, False, str(error)))
            print(f"FAIL {name}: {error}", flush=True)
        except Exception as error:  # a crash of a check is its failure
            self.results.append((name, False, repr(error)))
            print(f"FAIL {name}: {error!r}", flush=True)
        self.clean_up()

    def clean_up(self):
        # This driver is a subreaper: whatever a case left behind comes here.
        for child in psutil.Process().children():
            self.kill_tree(child.pid)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break

    # -- ci/run_build.sh smoke steps --------------------------------------

    def smoke(self):
        def check(cond, what):
            if not cond:
                raise AssertionError(what)

        def version():
            code, out, _ = self.run(["tini", "--version"])
            check(code == 0 and "tini version" in out, f"exit {code}, {out!r}")

        def no_args():
            code, out, err = self.run(["tini"])
            return code, out + err

        self.case("smoke: --version says 'tini version'", version)
        self.case("smoke: no arguments fails", lambda: check(no_args()[0] != 0, "exit 0"))
        self.case("smoke: no arguments prints tini's help wording",
                  lambda: check("supervision of a valid init process" in no_args()[1],
                                "wording not found"))
        self.case("smoke: -h exits 0", lambda: check(self.run(["tini", "-h"])[0] == 0, "non-zero"))

        def license_text():
            with open(os.path.join(self.src, "LICENSE")) as f:
                expected = f.read()
            check(self.run(["tini", "-l"])[1] == expected, "-l differs from tini's LICENSE")
        self.case("smoke: -l prints tini's LICENSE file", license_text)
        self.case("smoke: -vvv true succeeds",
                  lambda: check(self.run(["tini", "-vvv", "true"])[0] == 0, "non-zero"))
        self.case("smoke: -vvv false fails",
                  lambda: check(self.run(["tini", "-vvv", "false"])[0] != 0, "exit 0"))
        self.case("smoke: usage mentions 'more verbose'",
                  lambda: check("more verbose" in no_args()[1], "wording not found"))
        self.case("smoke: -vvv -- true succeeds",
                  lambda: check(self.run(["tini", "-vvv", "--", "true"])[0] == 0, "non-zero"))
        self.case("smoke: -vvv -- -- true fails",
                  lambda: check(self.run(["tini", "-vvv", "--", "--", "true"])[0] != 0,
                                "exit 0"))

        def verbosity_env():
            code, out, err = self.run(["tini", "true"], env={"TINI_VERBOSITY": "3"})
            check("Received SIGCHLD" in out + err, "no 'Received SIGCHLD' line")
        self.case("smoke: TINI_VERBOSITY=3 logs 'Received SIGCHLD'", verbosity_env)
        self.case("smoke: missing command exits 127",
                  lambda: check(self.run(["tini", "foobar123"])[0] == 127, "not 127"))
        self.case("smoke: non-executable command exits 126",
                  lambda: check(self.run(["tini", "/etc"])[0] == 126, "not 126"))
        self.case("smoke: stdin reaches the child",
                  lambda: check(self.run(["tini", "sh"], input_text="exit 0\n")[0] == 0,
                                "non-zero"))

    # -- test/run_inner_tests.py ------------------------------------------

    def inner(self):
        test = self.test

        def inclusive():
            for code in range(256):
                got = self.run(["tini", "-e", str(code), "--", "sh", "-c", f"exit {code}"])[0]
                assert got == 0, f"-e {code}: exit {got}"

        def exclusive():
            for code in range(256):
                args = [a for x in range(256) if x != code for a in ("-e", str(x))]
                got = self.run(["tini"] + args + ["sh", "-c", f"exit {code}"],
                               env={"POSIXLY_CORRECT": "1"})[0]
                assert got == code, f"exit {code} came out as {got}"

        self.case("inner: -e maps each code to 0", inclusive)
        self.case("inner: -e leaves unlisted codes alone", exclusive)

        targets = [("subreaper-proxy", [os.path.join(test, "subreaper-proxy.py"), "tini"], {}),
                   ("-s", ["tini", "-s"], {}),
                   ("TINI_SUBREAPER", ["tini"], {"TINI_SUBREAPER": ""})]
        stage_1 = os.path.join(test, "reaping", "stage_1.py")
        for label, target, env in targets:
            def reaping(target=target, env=env):
                code, out, err = self.run(target + [stage_1], env=env)
                assert "zombie reaping won't work" not in err, "subreaper warning"
                assert "Reaped zombie process with pid=" not in err, "reap warning without -w"
                assert code == 0, f"exit {code}: {out[-300:]} {err[-300:]}"

            def reaping_w(target=target, env=env):
                code, out, err = self.run(target + ["-w", stage_1], env=env)
                assert "Reaped zombie process with pid=" in err, "no 'Reaped zombie process' line"
                assert code == 0, f"exit {code}"

            self.case(f"inner: reaping ({label})", reaping)
            self.case(f"inner: -w reports reaped zombies ({label})", reaping_w)
            for signo in (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2):
                def forwarding(target=target, env=env, signo=signo):
                    p = self.popen(target + [os.path.join(test, "signals", "test.py")],
                                         env=dict(os.environ, **env))
                    try:
                        assert busy_wait(lambda: len(self.descendants(p.pid)) > 1, 10), \
                            "the test's processes did not start"
                        p.send_signal(signo)
                        code = p.wait(TIMEOUT)
                    finally:
                        self.kill_tree(p.pid)
                    assert code == 128 + signo, f"exit {code}, expected {128 + signo}"
                self.case(f"inner: {signal.Signals(signo).name} gives 128+N ({label})",
                          forwarding)

        for label, args, env in (("-g", ["-g"], {}),
                                 ("TINI_KILL_PROCESS_GROUP", [], {"TINI_KILL_PROCESS_GROUP": "1"})):
            def pgroup(args=args, env=env):
                p = self.popen(["tini"] + args + [os.path.join(test, "pgroup", "stage_1.py")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=dict(os.environ, **env))
                try:
                    assert busy_wait(lambda: len(self.descendants(p.pid)) == 2, 10), \
                        "the test's two processes did not start"
                    p.send_signal(signal.SIGUSR1)
                    assert busy_wait(lambda: p.poll() is not None, 10), \
                        "SIGUSR1 did not end the group"
                finally:
                    self.kill_tree(p.pid)
            self.case(f"inner: process group ({label})", pgroup)

        def no_subreaper():
            code, _, err = self.run(["tini", stage_1], env={"TINI_VERBOSITY": "1"})
            assert "zombie reaping won't work" in err, "no subreaper warning"
            assert code == 1, f"exit {code}, expected the reaping test to fail"
        self.case("inner: without subreaper tini warns and reaping fails", no_subreaper)

        def sigconf():
            def dirty_state():
                for signo in (signal.SIGTTOU, signal.SIGSEGV, signal.SIGINT):
                    signal.signal(signo, signal.SIG_IGN)
                signal.pthread_sigmask(signal.SIG_BLOCK,
                                       {signal.SIGTTIN, signal.SIGILL, signal.SIGTERM})
            p = subprocess.run([self.tini, "cat", "/proc/self/status"], preexec_fn=dirty_state,
                               capture_output=True, text=True, timeout=TIMEOUT)
            fields = dict(line.split(":", 1) for line in p.stdout.splitlines() if ":" in line)
            for name, signos in (("SigIgn", (signal.SIGTTOU, signal.SIGSEGV, signal.SIGINT)),
                                 ("SigBlk", (signal.SIGTTIN, signal.SIGILL, signal.SIGTERM))):
                mask = int(fields.get(name, "0").strip(), 16)
                for signo in signos:
                    assert mask & (1 << (signo - 1)), f"{signal.Signals(signo).name} not in {name}"
        self.case("inner: the child inherits the signal state tini was given", sigconf)

        def pdeath():
            with tempfile.NamedTemporaryFile() as f:
                p = self.popen([os.path.join(test, "pdeathsignal", "stage_1.py"), "tini",
                                      f.name], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                p.wait(TIMEOUT)
                assert busy_wait(lambda: open(f.name).read() == "ok", 10), \
                    "the child did not get the parent-death signal"
        self.case("inner: -p parent-death signal reaches the child", pdeath)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tini-src", required=True)
    parser.add_argument("--real-exe", required=True)
    args = parser.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: leftovers come back here
    suite = Suite(args.tini_src, args.real_exe)
    suite.smoke()
    suite.inner()
    passed = sum(1 for _, ok, _ in suite.results if ok)
    print(f"tini: {passed} passed, {len(suite.results) - passed} failed")


if __name__ == "__main__":
    main()
