"""examples/kubernetes/deployment.yaml run as a real pod: `podman kube play` (podman 4.3, runc).

test_k8s_manifest checks the manifest offline; this test runs it. The image is made like
docker/Dockerfile's node-example stage, FROM scratch (no base image can be pulled here):
the stage's own files (its COPY lines, /cinit from this build), ENTRYPOINT, CMD and
WORKDIR, plus the host's node with the libraries and loader `ldd` names, at their paths.
The manifest is read as it is, then copied with only what podman 4.3 needs to run it
next to other tests on one host (see _playable); command, args, env, probes, resources,
the ConfigMap and the grace period are the manifest's.

Then: the pod starts and /readyz answers 200 within the startupProbe's budget, /livez 200,
the app answers on its port, /status counts the workers `-i 0` derives from the CPU
limit; `podman exec <container> /cinit ctl reload` under load fails no request; the
stop (SIGTERM, then SIGKILL after terminationGracePeriodSeconds, as the kubelet does) is
graceful: exit code 0, every worker drained, no SIGKILL, well within the grace period;
`podman kube down` then removes the pod. (podman 4.3's kube down alone SIGKILLs at once:
see the test's stop.)

Skipped, with the reason printed, when podman, runc or catatonit (podman builds its pause
image from it) is missing, or when podman cannot start any container on this machine.
Everything the test makes (pod, containers, ConfigMap volume, image; the pause image and
kube network when they were not there before) is removed by name, on failure too.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

try:
    import yaml
except ImportError:  # python3-yaml from Debian, installed by scripts/install-deps.sh
    yaml = None

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MANIFEST = os.path.join(ROOT, "examples", "kubernetes", "deployment.yaml")
DOCKERFILE = os.path.join(ROOT, "docker", "Dockerfile")
CINIT = os.path.abspath(os.environ.get("CINIT_BIN", os.path.join(ROOT, "build", "cinit")))
NODE = shutil.which("node")

# podman kube play has no --ulimit: its default rlimits (nofile 1048576) exceed this
# machine's hard limits and runc refuses to start ("error setting rlimit type 7:
# operation not permitted"), so a containers.conf of the test's own sets the same
# limits test_podman_scratch passes with --ulimit.
ULIMITS = ["nofile=1024:1024", "nproc=1024:1024"]
PAUSE_IMAGE = "localhost/podman-pause"
KUBE_NETWORK = "podman-default-kube-network"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("", 0))
        return sock.getsockname()[1]


def cpu_quantity(text) -> float:
    text = str(text)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def memory_quantity(text) -> int:
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "K": 10**3, "M": 10**6, "G": 10**9}
    match = re.fullmatch(r"(\d+)([KMG]i?)?", str(text))
    return int(match.group(1)) * units.get(match.group(2) or "", 1)


def http_get(host: str, port: int, path: str, timeout: float = 2.0):
    """(status, body) or (None, error text)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


def node_example_stage() -> dict:
    """docker/Dockerfile's node-example stage: its COPY lines, ENTRYPOINT, CMD, WORKDIR."""
    with open(DOCKERFILE) as f:
        text = f.read()
    stage = re.split(r"(?m)^FROM ", text[text.index(" AS node-example"):])[0]
    out = {"copy": [], "lines": []}
    for line in stage.splitlines():
        words = line.split()
        if not words or words[0] not in ("COPY", "ENTRYPOINT", "CMD", "WORKDIR", "ENV"):
            continue
        if words[0] == "COPY":
            out["copy"].append(words[1:])  # [--from=build] src dst
        else:
            out["lines"].append(line)
    return out


class Load:
    """GET / on new connections (Connection: close) from a few threads until stopped or a
    bounded time passed; a request that is refused, reset, times out or gets anything but
    a complete 200 with the app's body counts as failed."""

    def __init__(self, host: str, port: int, threads: int = 4, max_seconds: float = 90):
        self.host, self.port = host, port
        self.deadline = time.monotonic() + max_seconds
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.good = 0
        self.failures = []
        self.pids = {}
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def one(self):
        request = f"GET / HTTP/1.1\r\nhost: {self.host}\r\nconnection: close\r\n\r\n".encode()
        with socket.create_connection((self.host, self.port), timeout=10) as sock:
            sock.sendall(request)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise ValueError(f"response {data[:80]!r}")
        # examples/node-pm2/server.js: "<greeting> from pid P, instance K, config version V"
        match = re.fullmatch(rb".* from pid (\d+), instance \S+, config version \S+\n", body)
        if not match:
            raise ValueError(f"body {body[:80]!r}")
        return int(match.group(1))

    def loop(self):
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            try:
                pid = self.one()
            except (OSError, ValueError) as e:
                with self.lock:
                    self.failures.append(f"{type(e).__name__}: {e}")
                continue
            with self.lock:
                self.good += 1
                self.pids[pid] = self.pids.get(pid, 0) + 1

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)


@unittest.skipIf(yaml is None, "python3-yaml is not installed")
@unittest.skipUnless(shutil.which("podman") and shutil.which("runc"), "podman/runc not installed")
@unittest.skipUnless(shutil.which("catatonit"),
                     "catatonit is not installed: podman kube play builds its pause image "
                     "from it (scripts/install-deps.sh installs it)")
@unittest.skipUnless(NODE, "node is not installed")
class KubePodTest(unittest.TestCase):
    def setUp(self):
        self.id = uuid.uuid4().hex[:8]
        self.dir = tempfile.mkdtemp(prefix="cinit-k8s-pod-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.env = dict(os.environ, CONTAINERS_CONF=self.containers_conf())
        with open(MANIFEST) as f:
            self.docs = [d for d in yaml.safe_load_all(f) if d]
        self.deployment = next(d for d in self.docs if d["kind"] == "Deployment")
        self.pod_spec = self.deployment["spec"]["template"]["spec"]
        self.container = self.pod_spec["containers"][0]
        self.had_pause = self.podman("image", "exists", self.pause_tag()).returncode == 0
        self.had_network = self.podman("network", "exists", KUBE_NETWORK).returncode == 0
        self.addCleanup(self.remove_shared)

    # -- podman -----------------------------------------------------------------------

    def podman(self, *args, timeout=120):
        return subprocess.run(["podman", "--runtime", "runc", *args], capture_output=True,
                              text=True, timeout=timeout, env=self.env)

    def containers_conf(self) -> str:
        source = "/etc/containers/containers.conf"
        if not os.path.exists(source):
            source = "/usr/share/containers/containers.conf"
        text = ""
        if os.path.exists(source):
            with open(source) as f:
                text = f.read()
        line = "default_ulimits = [" + ", ".join(f'"{u}"' for u in ULIMITS) + "]"
        if re.search(r"(?m)^\[containers\]", text):
            text = re.sub(r"(?m)^\[containers\]$", "[containers]\n" + line, text, count=1)
        else:
            text = "[containers]\n" + line + "\n" + text
        path = os.path.join(self.dir, "containers.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def pause_tag(self) -> str:
        version = subprocess.run(["podman", "version", "--format", "{{.Client.Version}}"],
                                 capture_output=True, text=True, timeout=60).stdout.strip()
        return f"{PAUSE_IMAGE}:{version}-0"

    def remove_shared(self):
        # Made by podman for any kube pod: removed only when this test made them, and
        # without -f, so that another pod using them keeps them.
        if not self.had_pause:
            self.podman("rmi", self.pause_tag())
        if not self.had_network:
            self.podman("network", "rm", KUBE_NETWORK)

    def build_image(self, tag: str):
        """docker/Dockerfile's node-example stage, FROM scratch, from local files."""
        ctx = os.path.join(self.dir, "rootfs")
        os.makedirs(ctx)

        def put(src, dst):
            target = os.path.join(ctx, dst.lstrip("/"))
            if dst.endswith("/"):
                target = os.path.join(target, os.path.basename(src))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(src):  # COPY of a directory copies its contents
                shutil.copytree(src, target, dirs_exist_ok=True)
            else:
                shutil.copy(src, target)

        stage = node_example_stage()
        for words in stage["copy"]:
            src, dst = words[-2], words[-1]
            if words[0].startswith("--from="):
                self.assertTrue(src.endswith("/cinit"), f"unknown COPY {words}")
                put(CINIT, dst)
            else:
                put(os.path.join(ROOT, src), dst)
        # The node:20-bookworm-slim base, reduced to node: the binary, the libraries and the
        # dynamic loader it names, at their paths.
        node = os.path.realpath(NODE)
        put(node, "/usr/bin/node")
        ldd = subprocess.run(["ldd", node], capture_output=True, text=True, check=True,
                             timeout=60).stdout
        for lib in re.findall(r"(?m)(?:=> )?(/\S+) \(0x", ldd):
            put(os.path.realpath(lib), lib)
        containerfile = os.path.join(self.dir, "Containerfile")
        with open(containerfile, "w") as f:
            f.write("FROM scratch\nCOPY rootfs/ /\n" + "\n".join(stage["lines"]) + "\n")
        result = self.podman("build", "-q", "-t", tag, "-f", containerfile, self.dir,
                             timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.addCleanup(self.podman, "rmi", "-f", tag)

    def probe_podman(self, tag: str):
        """Can podman start a container here at all? (Else the machine, not cinit, is at
        fault.) The image's own /cinit runs `true`-like: cinit --version."""
        result = self.podman("run", "--rm", "--network", "none", "--entrypoint", "/cinit",
                             *[f"--ulimit={u}" for u in ULIMITS], tag, "--version")
        if result.returncode != 0:
            raise unittest.SkipTest(
                f"podman cannot start any container on this machine: {result.stderr.strip()}")

    # -- the manifest -------------------------------------------------------------------

    def playable(self, image: str) -> tuple[str, dict]:
        """The manifest, with only what podman 4.3 needs to run it next to other tests:
          - names made unique (Deployment, ConfigMap and the volumes naming it, image tag),
            so that it neither meets nor removes anyone else's pod, volume or image;
          - replicas 1: podman 4.3 plays every replica, but publishes each containerPort
            on the host (there is no --publish to change that), so a second replica fails
            with "cannot listen on the TCP port: listen tcp4 :3000: bind: address already
            in use";
          - a free hostPort for each port, for that same publishing: host ports 3000 and
            8081 belong to whatever else runs here. The test talks to the pod's IP, as a
            Service and the kubelet's probes do, on the manifest's containerPorts.
        Returns the path of the copy and the host ports by port name."""
        docs = json.loads(json.dumps(self.docs))  # deep copy
        renamed = {}
        for doc in docs:
            if doc["kind"] == "ConfigMap":
                old = doc["metadata"]["name"]
                renamed[old] = doc["metadata"]["name"] = f"{old}-{self.id}"
        host_ports = {}
        for doc in docs:
            if doc["kind"] != "Deployment":
                continue
            doc["metadata"]["name"] = f"{doc['metadata']['name']}-{self.id}"
            doc["spec"]["replicas"] = 1
            spec = doc["spec"]["template"]["spec"]
            for volume in spec.get("volumes", []):
                if "configMap" in volume:
                    volume["configMap"]["name"] = renamed[volume["configMap"]["name"]]
            container = spec["containers"][0]
            container["image"] = image
            for port in container.get("ports", []):
                port["hostPort"] = free_port()
                host_ports[port.get("name", port["containerPort"])] = port["hostPort"]
        path = os.path.join(self.dir, "deployment.yaml")
        with open(path, "w") as f:
            yaml.safe_dump_all(docs, f)
        self.renamed_configmaps = renamed
        return path, host_ports

    def port(self, name_or_number) -> int:
        for port in self.container["ports"]:
            if name_or_number in (port.get("name"), port["containerPort"]):
                return port["containerPort"]
        return int(name_or_number)

    # -- the test -----------------------------------------------------------------------

    def test_deployment_runs_as_a_pod(self):
        name, _, tag = self.container["image"].partition(":")
        self.assertNotIn("/", name, "an unqualified image name, found in local storage")
        # Unqualified, as in the manifest: podman resolves it to localhost/NAME:TAG, the
        # image built here (imagePullPolicy IfNotPresent: no pull).
        image = f"{name}:{tag or 'latest'}-{self.id}"
        local = f"localhost/{image}"
        self.build_image(local)
        self.probe_podman(local)
        manifest, host_ports = self.playable(image)
        deployment = f"{self.deployment['metadata']['name']}-{self.id}"
        pod = f"{deployment}-pod-0"
        self.addCleanup(self.podman, "pod", "rm", "-f", "-t", "0", pod)
        for cm in self.renamed_configmaps.values():
            self.addCleanup(self.podman, "volume", "rm", "-f", cm)
        log = os.path.join(self.dir, "container.log")

        started = time.monotonic()
        play = self.podman("kube", "play", "--log-opt", f"path={log}", manifest, timeout=180)
        self.assertEqual(play.returncode, 0, f"podman kube play: {play.stderr}")
        info = json.loads(self.podman("pod", "inspect", pod).stdout)
        ctr = next(c for c in info["Containers"] if c["Id"] != info["InfraContainerID"])["Id"]
        inspect = json.loads(self.podman("inspect", ctr).stdout)[0]
        ip = next(iter(inspect["NetworkSettings"]["Networks"].values()))["IPAddress"]
        self.assertTrue(ip, "the pod has an IP on the kube network")

        health = self.port(self.container["readinessProbe"]["httpGet"]["port"])
        # The app's port: the one the probes do not use (named "http" in the manifest).
        app = next(p["containerPort"] for p in self.container["ports"]
                   if p["containerPort"] != health)
        startup = self.container.get("startupProbe", self.container["readinessProbe"])
        budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
        readyz = self.container["readinessProbe"]["httpGet"]["path"]
        deadline = started + budget
        while http_get(ip, health, readyz, timeout=1)[0] != 200:
            self.assertLess(time.monotonic(), deadline,
                            f"{readyz} not 200 within the startupProbe's {budget} s: "
                            f"{http_get(ip, health, readyz)}; logs: {self.read(log)}")
            time.sleep(0.1)
        ready_s = time.monotonic() - started
        status, body = http_get(ip, app, "/")
        self.assertEqual(status, 200, body)
        app_name = next(p.get("name", app) for p in self.container["ports"]
                        if p["containerPort"] == app)
        self.assertEqual(http_get("127.0.0.1", host_ports[app_name], "/")[0], 200,
                         "the app through podman's hostPort")
        livez = self.container["livenessProbe"]["httpGet"]["path"]
        self.assertEqual(http_get(ip, health, livez)[0], 200)

        # Resources: podman applies the limits (cgroup v1 here: CFS quota, memory limit).
        limits = self.container["resources"]["limits"]
        host = inspect["HostConfig"]
        self.assertEqual(host["CpuQuota"] / host["CpuPeriod"], cpu_quantity(limits["cpu"]))
        self.assertEqual(host["Memory"], memory_quantity(limits["memory"]))

        # -i 0 (the image's ENTRYPOINT): one worker per usable CPU, the smaller of the
        # affinity mask (the host's CPUs: podman sets no cpuset) and the quota rounded down
        # (at least 1). Here the machine has 2 CPUs and the limit is 2, so both say 2.
        st = json.loads(http_get(ip, health, "/status")[1])
        expected = min(len(os.sched_getaffinity(0)), max(1, int(cpu_quantity(limits["cpu"]))))
        self.assertEqual(st["cpus"]["usable"], expected, st["cpus"])
        self.assertIn("quota", st["cpus"]["how"], "cinit read the pod's CPU quota")
        self.assertEqual(st["workers_desired"], expected)
        wait_s = time.monotonic() + 30
        while st["workers_online"] != expected and time.monotonic() < wait_s:
            time.sleep(0.1)
            st = json.loads(http_get(ip, health, "/status")[1])
        self.assertEqual(st["workers_online"], expected, st)
        old = {w["pid"] for w in st["workers"]}

        # The ConfigMap in the same YAML: podman 4.3 makes it a named volume, mounted.
        for cm_doc in (d for d in self.docs if d["kind"] == "ConfigMap"):
            volume = self.renamed_configmaps[cm_doc["metadata"]["name"]]
            mountpoint = self.podman("volume", "inspect", volume, "--format",
                                     "{{.Mountpoint}}").stdout.strip()
            for key, value in cm_doc["data"].items():
                self.assertEqual(self.read(os.path.join(mountpoint, key)), value)
        mounts = {m["Destination"] for m in inspect["Mounts"]}
        for mount in self.container.get("volumeMounts", []):
            self.assertIn(mount["mountPath"], mounts)

        # Reload under load, through the control FIFO from `podman exec`.
        load = Load(ip, app)
        self.addCleanup(load.finish)
        wait_s = time.monotonic() + 30
        while load.good < 50 and time.monotonic() < wait_s:
            time.sleep(0.05)
        # podman 4.3 writes the ConfigMap's file once more just after the container
        # started (an IN_CLOSE_WRITE of config.json some 30 ms in), which
        # --reload-on-change rightly takes as a change: let that reload, if any, end
        # (the 500 ms debounce has passed and nothing is rolling) before the one under test.
        wait_s = time.monotonic() + 60
        while True:
            st = json.loads(http_get(ip, health, "/status")[1])
            if st["uptime"] >= 1.5 and st["reload"]["state"] == "idle":
                break
            self.assertLess(time.monotonic(), wait_s, f"cinit never settled: {st['reload']}")
            time.sleep(0.05)
        generation = st["reload"]["generation"]
        reload_started = time.monotonic()
        result = self.podman("exec", ctr, "/cinit", "ctl", "reload", timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        wait_s = time.monotonic() + 60
        while True:
            st = json.loads(http_get(ip, health, "/status")[1])
            rl = st["reload"]
            if rl["state"] == "idle" and rl["generation"] == generation + 1:
                break
            self.assertLess(time.monotonic(), wait_s,
                            f"reload did not finish: {rl}; logs: {self.read(log)}")
            self.assertEqual(http_get(ip, health, readyz)[0], 200, "/readyz during reload")
            time.sleep(0.05)
        reload_s = time.monotonic() - reload_started
        self.assertEqual(rl["last_result"], "succeeded", rl)
        new = {w["pid"] for w in st["workers"]}
        self.assertFalse(old & new, st["workers"])
        served_new = load.good
        wait_s = time.monotonic() + 30
        while load.good < served_new + 50 and time.monotonic() < wait_s:
            time.sleep(0.05)
        load.finish()
        self.assertEqual(load.failures, [], f"{len(load.failures)} failed of "
                         f"{load.good + len(load.failures)}")
        self.assertTrue(new <= set(load.pids), f"new workers {new} served: {load.pids}")

        # The stop, as the kubelet does it: SIGTERM, terminationGracePeriodSeconds, SIGKILL.
        # Not `podman kube down` alone: podman 4.3's kube down stops the pod with a timeout
        # of 0 (PodStopOptions{}), a SIGKILL right after the SIGTERM: cinit exits 137 and no
        # worker drains (podman issues 19135, 21767, 22397; fixed in podman 5.1 by PR
        # 22398, which uses each container's stop timeout). Nor would that timeout be the
        # grace period: podman 4.3 ignores terminationGracePeriodSeconds (StopTimeout 10).
        # So `podman pod stop -t GRACE` first (the workaround of 21767), then kube down
        # removes the pod.
        stop_timeout = inspect["Config"].get("StopTimeout")
        grace = self.pod_spec.get("terminationGracePeriodSeconds", 30)
        stopped = time.monotonic()
        stop = self.podman("pod", "stop", "-t", str(grace), pod, timeout=grace + 60)
        stop_s = time.monotonic() - stopped
        self.assertEqual(stop.returncode, 0, stop.stderr)
        state = json.loads(self.podman("inspect", ctr).stdout)[0]["State"]
        logs = self.read(log)
        self.assertEqual(state["ExitCode"], 0, f"exit code of cinit; logs: {logs}")
        self.assertLess(stop_s, grace, f"pod stop took {stop_s:.1f} s")
        self.assertNotIn("SIGKILL", logs)
        for worker in st["workers"]:
            self.assertIn(f"instance {worker['instance']}: drained, exiting", logs)
        down = self.podman("kube", "down", manifest, timeout=120)
        self.assertEqual(down.returncode, 0, down.stderr)
        self.assertNotEqual(self.podman("pod", "exists", pod).returncode, 0,
                            "kube down removed the pod")
        print(f"\nk8s pod: ready in {ready_s:.1f} s, reload {reload_s:.1f} s with "
              f"{load.good} requests and {len(load.failures)} failed, stop "
              f"{stop_s:.1f} s (pod stop -t {grace}, exit 0; podman's own stop timeout "
              f"{stop_timeout} s)")

    @staticmethod
    def read(path: str) -> str:
        try:
            with open(path) as f:
                return f.read()
        except OSError as e:
            return f"({e})"


if __name__ == "__main__":
    unittest.main()
