"""Chaos and soak: cluster mode under random abuse for a bounded time, then checked.

Chaos: `cinit -i 3` of reload_py.py under a steady load of requests, while the test
SIGKILLs random workers, sends SIGHUP (rolling reload) and `scale N` (1..4) at random
moments for $CINIT_CHAOS_SECONDS (default 20). Then it scales back to 3 and, once the
cluster has settled, asserts: cinit is alive, no process under it is a zombie, exactly
3 workers run, /status lists exactly the live worker processes, and cinit's RSS and fd
count are where they were before the chaos (fds equal; RSS within 512 KiB).

Soak: $CINIT_SOAK_RELOADS (default 300; 1000 on demand) rolling reloads of one Node
worker, one after another; cinit's RSS and fd count after the last one against after
the first ten (fds equal; RSS within 8 KiB: two pages. cinit before the one-way shell
kept every dead worker's pid and grew by 20 KiB over the same 300 reloads).

RSS is asserted only on the static binary (not in scripts/sanitize.sh's ASan build). Both
print their figures (kills survived, reloads, RSS and fds before -> after) on
stderr, for the closing notes. The seed is printed too: CINIT_CHAOS_SEED reruns one.
"""

import json
import os
import random
import signal
import sys
import threading
import time
import unittest

from harness import (CINIT_IS_STATIC, DEADLINE, descendants_of, proc_stat, status_field,
                     tcp_sockets, wait_for)
from reload_support import Cluster, free_port, http_get, ns_pid
from test_health import probe

CHAOS_SECONDS = float(os.environ.get("CINIT_CHAOS_SECONDS", "20"))
SOAK_RELOADS = int(os.environ.get("CINIT_SOAK_RELOADS", "300"))


def rss_kib(pid: int) -> int:
    return int(status_field(pid, "VmRSS").split()[0])


def _tcp_connections() -> set[str]:
    """Socket inodes of TCP sockets that are not listening (connections, in any state)."""
    return {inode for _, state, inode in tcp_sockets() if state != "0A"}


def fd_count(pid: int) -> int:
    """cinit's descriptors, but the probe connections of the moment (the test's own
    /status requests, which cinit may not have closed yet when it counts)."""
    connections = _tcp_connections()
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        if not (target.startswith("socket:[") and target[8:-1] in connections):
            count += 1
    return count


def zombies(pid: int) -> list[int]:
    return [p for p in descendants_of(pid) if (st := proc_stat(p)) is not None
            and st.state == "Z"]


def report(text: str) -> None:
    print(f"\n  {text}", file=sys.stderr, flush=True)


class Chaos(unittest.TestCase):
    def status(self, health: int) -> dict:
        return json.loads(probe(health, "/status", timeout=5)[1])

    def settled(self, cluster: Cluster, health: int, n: int):
        """The /status workers when n are online, no reload runs, and they are
        exactly the live worker processes; else None."""
        try:
            status = self.status(health)
        except (OSError, ValueError):
            return None
        workers = status["workers"]
        if (status["reload"]["state"] != "idle" or len(workers) != n
                or any(w["state"] != "online" for w in workers)):
            return None
        live = cluster.live_workers()
        if {w["pid"]: w["instance"] for w in workers} != live:
            return None
        return workers

    def test_random_kills_reloads_and_scales_under_load(self):
        seed = int(os.environ.get("CINIT_CHAOS_SEED", str(random.randrange(1 << 30))))
        rng = random.Random(seed)
        health = free_port()
        cluster = Cluster(self, 3, ["--health", f"127.0.0.1:{health}", "--min-uptime", "0"],
                          app="python", env={"RELOAD_START_DELAY_MS": "20"})
        cluster.wait_online()
        cinit = cluster.cinit_pid()
        wait_for(lambda: self.settled(cluster, health, 3), what="3 workers settled")
        # Warm up once (a reload, a scale), so that what is allocated once is counted.
        cluster.sighup()
        cluster.wait_reload_done()
        wait_for(lambda: self.settled(cluster, health, 3), what="settled after warm-up")
        rss0, fds0 = rss_kib(cinit), fd_count(cinit)

        stop = threading.Event()
        served = [0, 0]  # ok, failed

        def load():
            while not stop.is_set():
                try:
                    http_get(cluster.port, "/", timeout=2)
                    served[0] += 1
                except Exception:  # noqa: BLE001 -- a killed worker's request fails
                    served[1] += 1
        client = threading.Thread(target=load, daemon=True)
        client.start()
        self.addCleanup(stop.set)

        kills = reloads = scales = 0
        end = time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < end:
            action = rng.random()
            if action < 0.5:
                victims = list(cluster.live_workers())
                if victims:
                    host = [p for p in cluster.live_children() if ns_pid(p) == rng.choice(victims)]
                    for pid in host:
                        try:
                            os.kill(pid, signal.SIGKILL)
                            kills += 1
                        except ProcessLookupError:
                            pass
            elif action < 0.75:
                cluster.sighup()
                reloads += 1
            else:
                cluster.write_control(f"scale {rng.randint(1, 4)}\n".encode())
                scales += 1
            time.sleep(rng.uniform(0.01, 0.3))  # the chaos's own pace, not a sync
        stop.set()
        client.join(DEADLINE)

        self.assertIsNotNone(proc_stat(cinit), "cinit died")
        cluster.write_control(b"scale 3\n")
        workers = wait_for(lambda: self.settled(cluster, health, 3), 2 * DEADLINE,
                           "3 workers settled after the chaos")
        self.assertEqual(sorted(w["instance"] for w in workers), [0, 1, 2])
        # A zombie is fine for the moment between a death and its reap; one that
        # stays is a leak.
        wait_for(lambda: not zombies(cinit), what="no zombies under cinit")
        rss1, fds1 = rss_kib(cinit), fd_count(cinit)
        report(f"chaos seed {seed}: {CHAOS_SECONDS:.0f} s, {kills} kills, {reloads} reloads, "
               f"{scales} scales; requests {served[0]} ok, {served[1]} failed; "
               f"RSS {rss0} -> {rss1} KiB, fds {fds0} -> {fds1}")
        self.assertEqual(fds1, fds0, "fd count changed")
        if CINIT_IS_STATIC:
            self.assertLess(rss1 - rss0, 512, "RSS grew")
        code, err = cluster.stop()
        self.assertIn(code, (0, 1), err)


class Soak(unittest.TestCase):
    def test_many_reloads_keep_rss_and_fds_flat(self):
        cluster = Cluster(self, 1, env={"RELOAD_START_DELAY_MS": "0"})
        cluster.wait_online()
        cinit = cluster.cinit_pid()
        base = None
        for i in range(SOAK_RELOADS):
            cluster.sighup()
            cluster.wait_reload_done(i + 1)
            if i == 9:
                wait_for(lambda: len(cluster.live_workers()) == 1, what="one worker")
                base = rss_kib(cinit), fd_count(cinit)
        wait_for(lambda: len(cluster.live_workers()) == 1, what="one worker")
        rss1, fds1 = rss_kib(cinit), fd_count(cinit)
        report(f"soak: {SOAK_RELOADS} reloads; RSS {base[0]} -> {rss1} KiB, "
               f"fds {base[1]} -> {fds1}")
        self.assertEqual(fds1, base[1], "fd count changed")
        if CINIT_IS_STATIC:
            self.assertLessEqual(rss1 - base[0], 8, "RSS grew")
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
