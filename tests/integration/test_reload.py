"""Rolling graceful reload in cluster mode: SIGHUP and the control FIFO replace
every worker, one slot at a time, the old one leaving only once its
replacement is online; a replacement that dies first aborts; a silent one is
taken as online after --listen-timeout (or aborts with --strict-reload);
reloads asked for during a reload are merged; `scale N` grows and shrinks;
SIGTERM during a reload stops everything.

The workers are apps/reload_app.js (Node, IPC channel) and apps/reload_py.py
(the bind shim and sd_notify); see reload_support.py. The load test is
test_reload_load.py, the FIFO's robustness test_reload_fifo.py, other Node
majors test_reload_node_majors.py."""

import os
import signal
import stat
import subprocess
import threading
import time
import unittest

from harness import CINIT, DEADLINE, SUBREAPER, status_field, temp_dir, wait_for
from reload_support import Cluster, ns_pid

SILENT_WARNING = "did not say it was online within {} ms: taking it as online"


def check_rolling_reload(test: unittest.TestCase, cluster: Cluster, trigger,
                         source: str, before: int = 0) -> tuple[dict, dict]:
    """Triggers one reload of an idle cluster whose current workers are generation
    `before` (per instance), and checks the whole contract of a successful one.
    Returns (old, new): {instance: ns pid}."""
    n = cluster.n
    old = cluster.generation(before)
    test.assertEqual(sorted(old), list(range(n)), "one worker per NODE_APP_INSTANCE")
    test.assertEqual(cluster.live_workers(), {pid: k for k, pid in old.items()})
    done_before = cluster.count("cinit: reload done: ")

    trigger()
    cluster.wait_reload_done(done_before + 1)

    new = cluster.generation(before + 1)
    test.assertEqual(sorted(new), list(range(n)), "every slot replaced, same instances")
    test.assertFalse(set(old.values()) & set(new.values()))
    test.assertIn(f"cinit: {source}: rolling reload of {n} worker(s), 1 at a time", cluster.err())
    test.assertIn(f"cinit: reload done: {n} worker(s) replaced", cluster.err())
    # The old workers have exited by the time the reload is done (a slot is done
    # when its old worker is gone), and exactly the new ones run.
    test.assertFalse(set(old.values()) & cluster.alive_ns_pids(), "an old worker is still there")
    test.assertEqual(cluster.live_workers(), {pid: k for k, pid in new.items()})
    # Each old worker left gracefully: 'shutdown', then its own exit; no stop signal.
    events = cluster.events()
    for k, pid in old.items():
        names = [e.name for e in events if e.pid == pid]
        test.assertIn("shutdown", names, f"instance {k} pid {pid}: {names}")
        test.assertEqual(names[-1], "exit", f"instance {k} pid {pid}: {names}")
        test.assertNotIn("sigterm", names, f"instance {k} pid {pid}: {names}")
    cluster.assert_handover_order(old, new)
    # Slot order, one at a time: slot k+1's replacement starts after slot k's old worker exited.
    for k in range(1, n):
        started = next(e for e in events if e.pid == new[k] and e.name == "start")
        exited = next(e for e in events if e.pid == old[k - 1] and e.name == "exit")
        test.assertLess(exited.t, started.t, f"slot {k} started before slot {k - 1} was done")
    test.assertNotIn("taking it as online", cluster.err())
    # The new workers serve, and only they.
    test.assertEqual(cluster.serving(new.values()), set(new.values()))
    return old, new


class RollingReloadTest(unittest.TestCase):
    maxDiff = None

    def test_sighup_replaces_every_worker_after_its_replacement_is_online(self):
        cluster = Cluster(self, 2)
        cluster.wait_online()
        check_rolling_reload(self, cluster, cluster.sighup, "SIGHUP")
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)

    def test_ready_or_online_message_marks_online(self):
        # pm2's wait_ready: process.send('ready') (or 'online') right after listen().
        for word in ("ready", "online"):
            with self.subTest(message=word):
                cluster = Cluster(self, 2, env={"RELOAD_READY": word})
                cluster.wait_log(") is online (ready)", 2)
                check_rolling_reload(self, cluster, cluster.sighup, "SIGHUP")
                self.assertEqual(cluster.count(") is online (ready)"), 4, cluster.err())

    def test_reload_through_the_control_fifo(self):
        cluster = Cluster(self, 2, control=os.path.join(temp_dir(self), "run", "cinit", "control"))
        cluster.wait_online()
        # Created by cinit: a FIFO, mode 0600, its missing parent directories too.
        st = os.stat(cluster.ctl)
        self.assertTrue(stat.S_ISFIFO(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

        def ctl_reload():
            result = cluster.ctl_command("reload")
            self.assertEqual(result.returncode, 0, result.stderr)

        check_rolling_reload(self, cluster, ctl_reload, "control FIFO", before=0)
        raw = ["sh", "-c", 'echo reload > "$1"', "sh", cluster.ctl]
        check_rolling_reload(self, cluster, lambda: subprocess.run(raw, check=True, timeout=30),
                             "control FIFO", before=1)

    def test_ctl_exit_codes(self):
        directory = temp_dir(self)
        path = os.path.join(directory, "control")

        def ctl(*words, control=path):
            return subprocess.run([CINIT, "ctl", "--control", control, *words],
                                  capture_output=True, text=True, timeout=30)

        for words in (["frobnicate"], ["scale"], ["scale", "0"], ["scale", "x"],
                      ["scale", "5000"], ["reload", "now"], []):
            with self.subTest(words=words):
                result = ctl(*words)
                self.assertEqual(result.returncode, 2, result)
                self.assertTrue(result.stderr.startswith("cinit: "), result.stderr)
        # No cinit reads: no FIFO at all; a FIFO that nobody reads; a directory;
        # a regular file (which must not be written to).
        regular = os.path.join(directory, "regular")
        with open(regular, "w") as f:
            f.write("keep me\n")
        os.mkfifo(path, 0o600)
        for name, control in (("missing", path + ".missing"), ("fifo", path),
                              ("directory", directory), ("regular file", regular)):
            with self.subTest(control=name):
                result = ctl("reload", control=control)
                self.assertEqual(result.returncode, 1, result)
                self.assertTrue(result.stderr.startswith("cinit: "), result.stderr)
        with open(regular) as f:
            self.assertEqual(f.read(), "keep me\n", "cinit ctl wrote into a regular file")

    def test_control_none_and_unusable_control_path(self):
        # --control none: no FIFO; an unusable path: a warning. SIGHUP works in both.
        regular = os.path.join(temp_dir(self), "regular")
        with open(regular, "w") as f:
            f.write("keep me\n")
        for control in ("none", "/proc/cinit-no-such-dir/control", regular):
            with self.subTest(control=control):
                cluster = Cluster(self, 1, control=control if control != "none" else None,
                                  args=["--control", "none"] if control == "none" else [])
                cluster.wait_online()
                if control == "none":
                    self.assertNotIn("control FIFO at", cluster.err())
                else:
                    self.assertIn("cinit: warning: ", cluster.err())
                    self.assertIn(control, cluster.err())
                check_rolling_reload(self, cluster, cluster.sighup, "SIGHUP")
        with open(regular) as f:
            self.assertEqual(f.read(), "keep me\n")

    def test_crashing_replacement_aborts_and_old_workers_keep_serving(self):
        marker = os.path.join(temp_dir(self), "crash")
        cluster = Cluster(self, 2, env={"RELOAD_CRASH_IF": marker})
        cluster.wait_online()
        old = cluster.generation(0)
        with open(marker, "w"):
            pass
        cluster.sighup()
        cluster.wait_log("cinit: reload aborted: ")
        self.assertIn("; the old workers keep serving", cluster.err())
        self.assertNotIn("reload done", cluster.err())
        # Untouched: the same pids, never asked to leave, and they serve.
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in old.items()})
        self.assertEqual(cluster.serving(old.values()), set(old.values()))
        # Exactly one replacement was tried (slot 0); no further slot.
        crashes = [e for e in cluster.events() if e.name == "crash"]
        self.assertEqual([e.instance for e in crashes], [0])
        self.assertEqual(len(cluster.starts()[1]), 1, "slot 1 was touched")
        for pid in old.values():
            self.assertNotIn("shutdown", [e.name for e in cluster.events() if e.pid == pid])

        os.unlink(marker)
        cluster.sighup()
        cluster.wait_reload_done()
        new = {k: pids[-1] for k, pids in cluster.starts().items()}
        self.assertFalse(set(new.values()) & set(old.values()))
        self.assertFalse(set(old.values()) & cluster.alive_ns_pids())
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in new.items()})
        cluster.assert_handover_order(old, new)
        self.assertEqual(cluster.serving(new.values()), set(new.values()))
        # The crashed replacement was not restarted behind the scenes.
        self.assertEqual(len([e for e in cluster.events() if e.name == "crash"]), 1)

    def test_silent_replacement_is_taken_as_online_after_the_listen_timeout(self):
        cluster, marker = make_silent(self, ["--listen-timeout", "1000"], n=2)
        cluster.wait_online()
        old = cluster.generation(0)
        open(marker, "w").close()
        cluster.sighup()
        cluster.wait_reload_done()
        new = cluster.generation(1)
        self.assertEqual(cluster.count(SILENT_WARNING.format(1000)), 2, cluster.err())
        self.assertIn("cinit: warning: ", cluster.err())
        self.assertFalse(set(old.values()) & cluster.alive_ns_pids())
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in new.items()})
        events = cluster.events()
        for k, pid in new.items():
            self.assertIn("silent", [e.name for e in events if e.pid == pid])
        for k, pid in old.items():
            # Asked to leave only after the timeout, i.e. after its replacement went silent.
            silent = next(e for e in events if e.pid == new[k] and e.name == "silent")
            shutdown = next(e for e in events if e.pid == pid and e.name == "shutdown")
            self.assertLess(silent.t, shutdown.t)

    def test_silent_replacement_aborts_with_strict_reload(self):
        cluster, marker = make_silent(self, ["--listen-timeout", "1000", "--strict-reload"])
        cluster.wait_online()
        old = cluster.generation(0)
        open(marker, "w").close()
        cluster.sighup()
        cluster.wait_log("cinit: reload aborted: ")
        err = cluster.err()
        self.assertIn("--strict-reload", err[err.index("reload aborted"):])
        self.assertNotIn("reload done", err)
        # The silent replacement is stopped; the old workers still run and serve.
        silent = [e for e in cluster.events() if e.name == "silent"]
        self.assertEqual([e.instance for e in silent], [0], "exactly one replacement tried")
        cluster.wait_gone([silent[0].pid])
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in old.items()})
        self.assertEqual(cluster.serving(old.values()), set(old.values()))
        for pid in old.values():
            self.assertNotIn("shutdown", [e.name for e in cluster.events() if e.pid == pid])

    def test_listen_timeout_from_the_environment_and_the_flag_beats_it(self):
        cases = [
            ("env", [], {"PM2_GRACEFUL_LISTEN_TIMEOUT": "1000"}, 1000),
            # With the env's 60 s the reload would not finish within the test's deadline.
            ("flag beats env", ["--listen-timeout", "1000"],
             {"PM2_GRACEFUL_LISTEN_TIMEOUT": "60000"}, 1000),
            ("flag beats env (other way)", ["--listen-timeout", "1500"],
             {"PM2_GRACEFUL_LISTEN_TIMEOUT": "1000"}, 1500),
        ]
        for name, args, env, used in cases:
            with self.subTest(name):
                cluster, marker = make_silent(self, args, env)
                cluster.wait_online()
                old = cluster.generation(0)
                open(marker, "w").close()
                cluster.sighup()
                cluster.wait_reload_done()
                self.assertIn(SILENT_WARNING.format(used), cluster.err())
                self.assertFalse(set(old.values()) & cluster.alive_ns_pids())

    def test_graceful_timeout_then_stop_signal_for_an_old_worker_that_stays(self):
        # RELOAD_LINGER: the app ignores 'shutdown' (keeps a timer), so only the
        # stop signal after --graceful-timeout ends it. Env and flag, flag first.
        cases = [("env", [], {"PM2_GRACEFUL_TIMEOUT": "500"}, 500),
                 ("flag beats env", ["--graceful-timeout", "700"],
                  {"PM2_GRACEFUL_TIMEOUT": "60000"}, 700)]
        for name, args, env, used in cases:
            with self.subTest(name):
                cluster = Cluster(self, 1, args, env=dict(env, RELOAD_LINGER="1"))
                cluster.wait_online()
                old = cluster.generation(0)[0]
                cluster.sighup()
                cluster.wait_reload_done()
                names = [e.name for e in cluster.events() if e.pid == old]
                self.assertIn("shutdown", names)
                self.assertNotIn("closed", names, "it was to stay")
                self.assertEqual(names[names.index("shutdown"):][-2:], ["sigterm", "exit"], names)
                self.assertIn(f"worker 0 (pid {old}) still running {used} ms after shutdown: "
                              "sending SIGTERM", cluster.err())
                self.assertNotIn("SIGKILL", cluster.err())

    def test_old_worker_that_ignores_the_stop_signal_is_killed(self):
        # Ignores 'shutdown' and SIGTERM: SIGKILL after --graceful-timeout and
        # --kill-timeout; the next slot starts only once it is gone.
        cluster = Cluster(self, 2, ["--graceful-timeout", "300", "--kill-timeout", "300"],
                          env={"RELOAD_LINGER": "1", "RELOAD_STUBBORN": "1"})
        cluster.wait_online()
        old = cluster.generation(0)
        cluster.sighup()
        cluster.wait_reload_done()
        new = cluster.generation(1)
        err = cluster.err()
        self.assertFalse(set(old.values()) & cluster.alive_ns_pids())
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in new.items()})
        for k, pid in old.items():
            names = [e.name for e in cluster.events() if e.pid == pid]
            self.assertIn("sigterm", names[names.index("shutdown"):], names)
            self.assertNotIn("exit", names, f"it exited by itself: {names}")
            self.assertIn(f"worker {k} (pid {pid}) still running 300 ms after shutdown: "
                          "sending SIGTERM", err)
            self.assertRegex(err, rf"worker {k} \(pid {pid}\) still running 300 ms after "
                                  r"\S+: sending SIGKILL")
        # Slot 1's replacement came after slot 0's old worker was killed.
        killed0 = err.index(f"(pid {old[0]}) still running 300 ms after SIGTERM")
        self.assertLess(killed0, err.index(f"worker 1 (pid {new[1]}) is online"))
        cluster.assert_handover_order(old, new)

    def test_reloads_asked_for_during_a_reload_are_merged(self):
        cluster, hold = make_held(self, 2)
        cluster.wait_online()
        sampler = Sampler(cluster)

        # Three SIGHUPs at once (the kernel may merge them into one pending signal).
        old = cluster.generation(0)
        open(hold, "w").close()  # replacements wait before listening
        for _ in range(3):
            cluster.sighup()
        held = cluster.wait_event("held")[0]
        wait_signals_consumed(cluster.cinit_pid())
        os.unlink(hold)
        cluster.wait_reload_done()
        final = self.check_merged(cluster, sampler, old, rollouts=1)
        merged_a = cluster.count("a reload is in progress") > 0
        if merged_a:
            self.assertNotEqual(final[0], held.pid, "merged, but not started over")
        # However many requests were merged, the rollout started over at most once.
        self.assertEqual(cluster.count("starting the reload over"), int(merged_a), cluster.err())

        # One SIGHUP, then three more once slot 0's replacement is surely in flight.
        old = final
        open(hold, "w").close()
        held_before = len([e for e in cluster.events() if e.name == "held"])
        cluster.sighup()
        held = cluster.wait_event("held", held_before + 1)[-1]
        merged = cluster.count("a reload is in progress")
        for _ in range(3):
            cluster.sighup()
        cluster.wait_log("a reload is in progress; it will start over", merged + 1)
        os.unlink(hold)
        cluster.wait_reload_done(2)
        final = self.check_merged(cluster, sampler, old, rollouts=2)
        # Started over: slot 0's worker is not the one in flight when the requests came.
        self.assertNotEqual(final[0], held.pid, "merged, but not started over")
        self.assertEqual(cluster.count("starting the reload over"), int(merged_a) + 1,
                         cluster.err())
        peak = sampler.stop()
        self.assertLessEqual(peak, cluster.n + 1, "more than N + batch workers at once")
        self.assertGreater(sampler.samples, 0)

    def check_merged(self, cluster, sampler, old, rollouts):
        """One rollout per burst of triggers; returns the final {instance: pid}."""
        self.assertEqual(cluster.count("rolling reload of"), rollouts, "two rollouts at once")
        self.assertEqual(cluster.count("reload done"), rollouts, cluster.err())
        self.assertLessEqual(sampler.peak, cluster.n + 1, "more than N + batch workers at once")
        final = {k: pids[-1] for k, pids in cluster.starts().items()}
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in final.items()})
        self.assertFalse(set(final.values()) & set(old.values()), "a worker was not replaced")
        self.assertEqual(cluster.serving(final.values()), set(final.values()))
        return final

    def test_reload_batch(self):
        cluster = Cluster(self, 3, ["--reload-batch", "2"])
        cluster.wait_online()
        old = cluster.generation(0)
        sampler = Sampler(cluster)
        cluster.sighup()
        cluster.wait_reload_done()
        peak = sampler.stop()
        self.assertLessEqual(peak, 3 + 2)
        self.assertIn("SIGHUP: rolling reload of 3 worker(s), 2 at a time", cluster.err())
        new = cluster.generation(1)
        self.assertEqual(sorted(new), [0, 1, 2])
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in new.items()})
        cluster.assert_handover_order(old, new)
        # Slot 2 waits for a free place in the batch: after slot 0 or 1 is done.
        events = cluster.events()
        started = next(e for e in events if e.pid == new[2] and e.name == "start")
        first_exit = min(e.t for e in events if e.name == "exit" and e.pid in (old[0], old[1]))
        self.assertLess(first_exit, started.t)

    def test_scale_up_then_down(self):
        cluster = Cluster(self, 2)
        cluster.wait_online()
        first = cluster.generation(0)
        cluster.write_control(b"scale 3\n")
        cluster.wait_log("scale: 2 -> 3 worker(s)")
        cluster.wait_online(3)
        grown = cluster.generation(0)
        self.assertEqual(sorted(grown), [0, 1, 2])
        self.assertEqual({k: grown[k] for k in (0, 1)}, first, "scaling up replaced a worker")
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in grown.items()})
        self.assertEqual(cluster.serving(grown.values()), set(grown.values()))

        result = cluster.ctl_command("scale", "1")
        self.assertEqual(result.returncode, 0, result.stderr)
        cluster.wait_log("scale: 3 -> 1 worker(s)")
        cluster.wait_workers({grown[0]: 0})
        events = cluster.events()
        for k in (1, 2):
            names = [e.name for e in events if e.pid == grown[k]]
            self.assertIn("shutdown", names, f"instance {k}: {names}")
            self.assertEqual(names[-1], "exit", f"instance {k}: {names}")
            self.assertNotIn("sigterm", names, f"instance {k}: {names}")
        self.assertEqual(cluster.serving([grown[0]], max_requests=20), {grown[0]})
        self.assertEqual(len(cluster.starts()), 3, "a retired worker was restarted")
        # A reload after the scale-down replaces just the one worker.
        cluster.sighup()
        cluster.wait_reload_done()
        self.assertIn("SIGHUP: rolling reload of 1 worker(s)", cluster.err())
        self.assertIn("reload done: 1 worker(s) replaced", cluster.err())
        (last,) = cluster.live_workers().items()
        self.assertEqual(last[1], 0)
        self.assertNotIn(last[0], grown.values())
        self.assertEqual(len(cluster.starts()), 3, "a retired slot came back")

    def test_scale_asked_for_during_a_reload_waits_for_its_end(self):
        cluster, hold = make_held(self, 2)
        cluster.wait_online()
        open(hold, "w").close()
        cluster.sighup()
        cluster.wait_event("held")
        cluster.write_control(b"scale 3\n")
        cluster.wait_log("scale 3: after the reload in progress")
        self.assertNotIn("scale: 2 -> 3", cluster.err())
        os.unlink(hold)
        cluster.wait_reload_done()
        cluster.wait_log("scale: 2 -> 3 worker(s)")
        err = cluster.err()
        self.assertLess(err.index("reload done"), err.index("scale: 2 -> 3"))
        cluster.wait_online(2 + 2 + 1)  # first two, their replacements, the third
        final = {k: pids[-1] for k, pids in cluster.starts().items()}
        self.assertEqual(sorted(final), [0, 1, 2])
        self.assertEqual(len(cluster.starts()[2]), 1)
        cluster.wait_workers({pid: k for k, pid in final.items()})

    def test_old_worker_that_dies_while_being_replaced(self):
        # Slot 0's old worker is killed while its replacement starts: the
        # replacement takes the slot over (no restart besides it), the reload goes on.
        cluster, hold = make_held(self, 2)
        cluster.wait_online()
        old = cluster.generation(0)
        host = {nspid: host for host in cluster.live_children()
                for nspid in [ns_pid(host)] if nspid is not None}
        open(hold, "w").close()
        cluster.sighup()
        cluster.wait_event("held")
        os.kill(host[old[0]], signal.SIGKILL)
        cluster.wait_log("while being replaced")
        self.assertRegex(cluster.err(), rf"cinit: warning: worker 0 \(pid {old[0]}\) .*SIGKILL.* "
                                        r"while being replaced")
        cluster.wait_gone([old[0]])
        os.unlink(hold)
        cluster.wait_reload_done()
        new = cluster.generation(1)
        self.assertEqual(sorted(new), [0, 1])
        self.assertEqual(cluster.live_workers(), {pid: k for k, pid in new.items()})
        self.assertEqual({k: len(p) for k, p in cluster.starts().items()}, {0: 2, 1: 2},
                         "a worker was started besides the replacements")
        self.assertEqual(cluster.serving(new.values()), set(new.values()))

    def test_sigterm_during_a_reload_stops_everything(self):
        cluster, hold = make_held(self, 2, mode=SUBREAPER)
        cluster.wait_online()
        open(hold, "w").close()
        cluster.sighup()
        cluster.wait_event("held")  # the replacement has started
        code, err = cluster.stop()
        self.assertIn(code, (0, 1), err)
        if "SIGKILL" not in err:
            self.assertEqual(code, 0, "nothing needed SIGKILL, yet cinit exited 1:\n" + err)
        self.assertIn("nsinit: leftover=0\n", err, "processes left in the namespace")
        self.assertNotIn("reload done", err)


class NonNodeReloadTest(unittest.TestCase):
    """Workers without Node's channel: online through the bind shim or sd_notify."""

    def test_bind_shim_marks_online(self):
        cluster = Cluster(self, 2, app="python", env={"RELOAD_MODE": "bind"})
        cluster.wait_online()
        old, new = check_python_reload(self, cluster)
        self.assertEqual(cluster.serving(new.values()), set(new.values()))

    def test_sd_notify_ready_marks_online(self):
        for mode in ("notify", "notify-child"):
            with self.subTest(mode=mode):
                # --strict-reload: a replacement whose READY=1 went unnoticed aborts.
                cluster = Cluster(self, 2, ["--strict-reload", "--listen-timeout", "10000"],
                                  app="python", env={"RELOAD_MODE": mode})
                cluster.wait_log(") is online (ready)", 2)
                check_python_reload(self, cluster)


def check_python_reload(test, cluster):
    old = cluster.generation(0)
    cluster.sighup()
    cluster.wait_reload_done()
    new = cluster.generation(1)
    test.assertEqual(sorted(new), [0, 1])
    test.assertNotIn("taking it as online", cluster.err())
    test.assertFalse(set(old.values()) & cluster.alive_ns_pids())
    test.assertEqual(cluster.live_workers(), {pid: k for k, pid in new.items()})
    cluster.assert_handover_order(old, new)
    for pid in old.values():
        test.assertIn("sigterm", [e.name for e in cluster.events() if e.pid == pid])
    return old, new


def wait_signals_consumed(host_pid: int) -> None:
    """Until cinit has no pending signal (it has read them all)."""
    wait_for(lambda: int(status_field(host_pid, "SigPnd") or "0", 16) == 0
             and int(status_field(host_pid, "ShdPnd") or "0", 16) == 0,
             what="cinit to read its pending signals")


def make_silent(test, args, env=None, n=1):
    """A cluster whose processes never listen nor say ready once DIR/silent exists.
    The listen timeout is cinit's default unless args or env set it."""
    marker = os.path.join(temp_dir(test), "silent")
    return Cluster(test, n, args, env=dict(env or {}, RELOAD_SILENT_IF=marker),
                   listen_timeout=None), marker


def make_held(test, n, **kwargs):
    """A cluster whose processes wait before listening while DIR/hold exists."""
    hold = os.path.join(temp_dir(test), "hold")
    return Cluster(test, n, env={"RELOAD_HOLD_IF": hold}, **kwargs), hold


class Sampler:
    """Samples the number of cinit's live children in a thread, until stop()."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, len(self.cluster.live_children()))
            self.samples += 1
            time.sleep(0.001)  # a sampling interval, not a synchronisation

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(DEADLINE)
        return self.peak


if __name__ == "__main__":
    unittest.main()
