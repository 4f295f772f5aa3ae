"""examples/kubernetes/deployment.yaml: parses as YAML and says what cinit expects.

No API server runs here, so this is an offline check: the documents parse, have the
kinds and required fields of their schema, and agree with cinit (probe paths and port,
the health flag in the image's entrypoint, a grace period that covers cinit's stop).
"""

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

    def test_cpu_limit_is_what_minus_i_zero_counts(self):
        container = self.kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]
        self.assertIn("limits", container["resources"])
        self.assertIn("cpu", container["resources"]["limits"])


if __name__ == "__main__":
    unittest.main()
