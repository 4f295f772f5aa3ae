"""--reload-on-change PATH: a rolling reload when a file or directory changes.

Real clusters under cinit -v as PID 1 (reload_support.Cluster): the Node example
app (examples/node-pm2/server.js, which reads config.json at start) and the
Python test app (reload_py.py, which reads $RELOAD_CONFIG at start and serves it
at /config). Checked:
  - a Kubernetes ConfigMap update (a new "..2026_…" directory, a "..data_tmp"
    symlink to it renamed over "..data", the old directory removed) is exactly
    one reload, named in the log, /status and /metrics; the workers serve the
    new config after it;
  - three writes of a file in a burst are exactly one reload (the debounce);
  - a path missing at start (two levels of it) is waited for; its creation is a
    reload, and the new workers read it;
  - a watched directory deleted and re-created keeps being watched.
"Exactly one" is asserted once the reload is done and the debounce window
(500 ms after the last change) has passed with margin: a second reload would
have been asked for by then.
"""

import http.client
import json
import os
import shutil
import time
import unittest

from harness import wait_for
from reload_support import NODE, Cluster, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "node-pm2",
                                        "server.js"))
QUIET = 0.5    # cinit's debounce: 500 ms after the last change
MARGIN = 1.0   # on a loaded machine


def get(port: int, path: str = "/") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"connection": "close"})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


class ConfigMapVolume:
    """A directory laid out as the kubelet lays out a ConfigMap volume."""

    def __init__(self, path: str):
        self.path = path
        self.generation = 0
        os.makedirs(path)

    def publish(self, files: dict[str, str]) -> None:
        """The kubelet's atomic update (atomic_writer.go): write a new timestamped
        directory, point ..data_tmp at it, rename it over ..data, link the user's
        names to ..data/NAME, remove the old directory."""
        self.generation += 1
        new = f"..2026_12_02_10_00_{self.generation:02d}.{123456789 + self.generation}"
        os.mkdir(os.path.join(self.path, new))
        for name, text in files.items():
            write(os.path.join(self.path, new, name), text)
        data = os.path.join(self.path, "..data")
        old = os.readlink(data) if os.path.islink(data) else None
        tmp = os.path.join(self.path, "..data_tmp")
        os.symlink(new, tmp)
        os.rename(tmp, data)
        for name in files:
            link = os.path.join(self.path, name)
            if not os.path.islink(link):
                os.symlink(os.path.join("..data", name), link)
        if old:
            shutil.rmtree(os.path.join(self.path, old))


class ReloadOnChangeTest(unittest.TestCase):
    maxDiff = None

    def settled(self, cluster: Cluster, reloads: int, since: float) -> None:
        """Until `reloads` reloads are done and the debounce window after the last
        change (at `since`) has passed with margin."""
        cluster.wait_reload_done(reloads)
        wait_for(lambda: time.monotonic() > since + QUIET + MARGIN,
                 what="the debounce window to pass")
        cluster.wait_reload_done(reloads)
        self.assertEqual(cluster.count("rolling reload of"), reloads, cluster.err())
        self.assertEqual(cluster.count("it will start over"), 0, cluster.err())
        self.assertEqual(cluster.count("reload done: "), reloads, cluster.err())

    @unittest.skipUnless(os.path.exists(NODE), "no node")
    def test_a_config_map_update_is_one_reload_and_the_workers_serve_it(self):
        base = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cinit-cm-{os.getpid()}")
        self.addCleanup(shutil.rmtree, base, True)
        volume = ConfigMapVolume(os.path.join(base, "config"))
        volume.publish({"config.json": json.dumps({"greeting": "hello", "version": 1})})
        health = free_port()
        cluster = Cluster(self, 2, ["--reload-on-change", volume.path,
                                    "--health", f"127.0.0.1:{health}"],
                          env={"CONFIG_DIR": volume.path}, command=[NODE, EXAMPLE])
        cluster.wait_online()
        status, body = get(cluster.port)
        self.assertEqual(status, 200)
        self.assertIn("hello from pid", body)
        self.assertIn("config version 1", body)
        self.assertEqual(cluster.count("rolling reload of"), 0)

        volume.publish({"config.json": json.dumps({"greeting": "bonjour", "version": 2})})
        changed_at = time.monotonic()
        self.settled(cluster, 1, changed_at)
        self.assertIn(f"config change: {volume.path}: rolling reload of 2 worker(s)",
                      cluster.err())
        for _ in range(10):  # both workers, whichever answers
            status, body = get(cluster.port)
            self.assertEqual(status, 200)
            self.assertIn("bonjour from pid", body)
            self.assertIn("config version 2", body)

        status, text = get(health, "/status")
        reload = json.loads(text)["reload"]
        self.assertEqual(reload["last_trigger"], f"config change: {volume.path}")
        self.assertEqual(reload["triggered"], {"signal": 0, "control": 0, "file": 1})
        self.assertEqual(reload["on_change"], [volume.path])
        _, metrics = get(health, "/metrics")
        self.assertIn('cinit_reloads_triggered_total{source="file"} 1\n', metrics)
        self.assertIn('cinit_reloads_total{result="succeeded"} 1\n', metrics)
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)

    def test_three_writes_in_a_burst_are_one_reload(self):
        base = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cinit-burst-{os.getpid()}")
        self.addCleanup(shutil.rmtree, base, True)
        os.makedirs(base)
        path = os.path.join(base, "app.json")
        write(path, "v0")
        cluster = Cluster(self, 2, ["--reload-on-change", path], app="python",
                          env={"RELOAD_CONFIG": path})
        cluster.wait_online()
        self.assertEqual(get(cluster.port, "/config"), (200, "v0"))
        for text in ("v1", "v2", "v3"):  # open, write, close: three IN_CLOSE_WRITE
            write(path, text)
        changed_at = time.monotonic()
        self.settled(cluster, 1, changed_at)
        self.assertIn(f"config change: {path}: rolling reload of 2 worker(s)", cluster.err())
        for _ in range(6):
            self.assertEqual(get(cluster.port, "/config"), (200, "v3"))
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)

    def test_a_missing_path_is_waited_for_and_its_creation_is_a_reload(self):
        base = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cinit-later-{os.getpid()}")
        self.addCleanup(shutil.rmtree, base, True)
        os.makedirs(base)
        path = os.path.join(base, "later", "deeper", "app.json")
        cluster = Cluster(self, 1, ["--reload-on-change", path], app="python",
                          env={"RELOAD_CONFIG": path})
        cluster.wait_online()
        cluster.wait_log(f"--reload-on-change {path}: does not exist yet: waiting for it")
        self.assertEqual(get(cluster.port, "/config"), (200, ""))
        os.makedirs(os.path.dirname(path))  # two levels at once: re-armed twice
        write(path, "created")
        changed_at = time.monotonic()
        self.settled(cluster, 1, changed_at)
        self.assertEqual(get(cluster.port, "/config"), (200, "created"))
        # Armed on the file now: a write is seen.
        write(path, "written")
        changed_at = time.monotonic()
        self.settled(cluster, 2, changed_at)
        self.assertEqual(get(cluster.port, "/config"), (200, "written"))
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)

    def test_a_watched_directory_deleted_and_recreated_keeps_working(self):
        base = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"cinit-dir-{os.getpid()}")
        self.addCleanup(shutil.rmtree, base, True)
        watched = os.path.join(base, "conf.d")
        os.makedirs(watched)
        write(os.path.join(watched, "a.conf"), "a")
        cluster = Cluster(self, 1, ["--reload-on-change", watched], app="python",
                          env={"RELOAD_CONFIG": os.path.join(watched, "a.conf")})
        cluster.wait_online()
        shutil.rmtree(watched)
        os.mkdir(watched)
        changed_at = time.monotonic()
        self.settled(cluster, 1, changed_at)  # the delete and the create: one burst
        write(os.path.join(watched, "a.conf"), "again")
        changed_at = time.monotonic()
        self.settled(cluster, 2, changed_at)  # the new directory is watched
        self.assertEqual(get(cluster.port, "/config"), (200, "again"))
        code, err = cluster.stop()
        self.assertEqual(code, 0, err)


if __name__ == "__main__":
    unittest.main()
