"""examples/kubernetes/deployment.yaml: parses as YAML and says what cinit expects.

No API server runs here, so this is an offline check: the documents parse, have the
kinds and required fields of their schema, and agree with cinit (probe paths and port,
the health flag in the container's command or the image's entrypoint, a grace period
that covers cinit's stop, --reload-on-change on the mounted ConfigMap, which holds the
config.json the example app reads).
"""

import json
import os
import re
import unittest

try:
    import yaml
except ImportError:  # python3-yaml from Debian, installed by scripts/install-deps.sh
    yaml = None

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MANIFEST = os.path.join(ROOT, "examples", "kubernetes", "deployment.yaml")
DOCKERFILE = os.path.join(ROOT, "docker", "Dockerfile")
EXAMPLE_CONFIG = os.path.join(ROOT, "examples", "node-pm2", "config", "config.json")


def cinit_options(words: list[str]) -> list[str]:
    """cinit's own words of a command line: after /cinit, up to "--"."""
    words = words[1:]
    return words[:words.index("--")] if "--" in words else words


def option_values(words: list[str], flag: str) -> list[str]:
    values = []
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            values.append(words[i + 1])
        elif word.startswith(flag + "="):
            values.append(word.split("=", 1)[1])
    return values


@unittest.skipIf(yaml is None, "python3-yaml is not installed")
class ManifestTest(unittest.TestCase):
    def setUp(self):
        with open(MANIFEST) as f:
            self.docs = [d for d in yaml.safe_load_all(f) if d]
        self.kinds = {d["kind"]: d for d in self.docs}

    def test_documents_have_their_required_fields(self):
        self.assertEqual(set(self.kinds), {"ConfigMap", "Deployment"})
        for doc in self.docs:
            self.assertIn("apiVersion", doc)
            self.assertIn("name", doc["metadata"])
        deployment = self.kinds["Deployment"]
        self.assertEqual(deployment["apiVersion"], "apps/v1")
        spec = deployment["spec"]
        self.assertEqual(spec["selector"]["matchLabels"], spec["template"]["metadata"]["labels"])
        containers = spec["template"]["spec"]["containers"]
        self.assertEqual(len(containers), 1)
        for key in ("name", "image"):
            self.assertIn(key, containers[0])

    def test_probes_point_at_cinits_health_endpoint(self):
        pod = self.kinds["Deployment"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        with open(DOCKERFILE) as f:
            dockerfile = f.read()
        stage = dockerfile[dockerfile.index("AS node-example"):]
        health = re.search(r'"--health", "0\.0\.0\.0:(\d+)"', stage)
        self.assertIsNotNone(health, "the image's entrypoint serves --health")
        self.assertEqual(ports["health"], int(health.group(1)))
        if "command" in container:  # it replaces the entrypoint: the same --health
            self.assertEqual(container["command"][0], "/cinit")
            self.assertEqual(option_values(cinit_options(container["command"]), "--health"),
                             [f"0.0.0.0:{ports['health']}"])
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/livez")
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            self.assertEqual(container[probe]["httpGet"]["port"], "health")

    def test_grace_period_covers_cinits_stop(self):
        pod = self.kinds["Deployment"]["spec"]["template"]["spec"]
        env = {e["name"]: e["value"] for e in pod["containers"][0]["env"]}
        graceful_ms = int(env.get("PM2_GRACEFUL_TIMEOUT", "8000"))
        drain_delay_ms = int(env.get("CINIT_DRAIN_DELAY", "0"))
        kill_ms, drain_kill_ms, kill_wait_ms = 1600, 1600, 2000
        needed_s = (drain_delay_ms + graceful_ms + kill_ms + drain_kill_ms +
                    kill_wait_ms) / 1000
        self.assertGreaterEqual(pod["terminationGracePeriodSeconds"], needed_s)
        # On Kubernetes the lame duck is wanted: the endpoint removal runs concurrently
        # with the SIGTERM (README, "On Kubernetes, set --drain-delay").
        self.assertGreaterEqual(drain_delay_ms, 1000)

    def test_reload_on_change_watches_the_mounted_config_map(self):
        pod = self.kinds["Deployment"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        self.assertIn("command", container, "cinit's flags are in the container's command")
        options = cinit_options(container["command"])
        self.assertEqual(option_values(options, "-i"), ["0"])
        watched = option_values(options, "--reload-on-change")
        self.assertEqual(len(watched), 1, options)
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        # The mount's directory itself, where the kubelet swaps "..data" (a file
        # of it would be seen too, through its directory).
        mount = next((p for p in mounts if watched[0] in (p, p.rstrip("/"))
                      or os.path.dirname(watched[0]) == p.rstrip("/")), None)
        self.assertIsNotNone(mount, f"--reload-on-change {watched[0]} is not a mount: {mounts}")
        volumes = {v["name"]: v for v in pod["volumes"]}
        config_map = volumes[mounts[mount]]["configMap"]["name"]
        self.assertEqual(self.kinds["ConfigMap"]["metadata"]["name"], config_map)
        # The app reads config.json from that directory (CONFIG_DIR), a key of the
        # ConfigMap, and the repository's example config has the same fields.
        env = {e["name"]: e["value"] for e in container["env"]}
        self.assertEqual(env.get("CONFIG_DIR", "/app/config"), mount.rstrip("/"))
        data = self.kinds["ConfigMap"]["data"]
        self.assertIn("config.json", data)
        with open(EXAMPLE_CONFIG) as f:
            example = json.load(f)
        self.assertEqual(set(json.loads(data["config.json"])), set(example))
        self.assertIn("greeting", example)

    def test_cpu_limit_is_what_minus_i_zero_counts(self):
        container = self.kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
        self.assertIn("limits", container["resources"])
        self.assertIn("cpu", container["resources"]["limits"])


if __name__ == "__main__":
    unittest.main()
