"""The rolling reload with every Node major at hand: the default node
($CINIT_TEST_NODE, /usr/bin/node) and each other major that
tests/integration/node_majors.sh installed under tests/integration/.node/
(the mechanism test_cluster*.py use). One subTest per major; without other
majors, a subTest says so and is skipped.

Per major: the SIGHUP reload of test_reload (every pid replaced, the
replacement online before the old one gets 'shutdown', slot order) and the
no-failed-request load of test_reload_load (new connection per request)."""

import unittest

from test_reload import check_rolling_reload
from test_reload_load import reloads_under_load
from reload_support import NODE, Cluster, node_majors


class ReloadNodeMajorsTest(unittest.TestCase):
    maxDiff = None

    def for_each_major(self, body) -> None:
        majors = node_majors()
        if majors[0][0] is None:
            self.skipTest(f"no usable node at {NODE} (set CINIT_TEST_NODE)")
        for version, node in majors:
            with self.subTest(node=version):
                body(node)
        if len(majors) == 1:
            with self.subTest(node="other majors"):
                self.skipTest("no other Node major installed in tests/integration/.node: "
                              "run tests/integration/node_majors.sh")

    def test_sighup_reload(self):
        def body(node):
            cluster = Cluster(self, 2, node=node)
            cluster.wait_online()
            check_rolling_reload(self, cluster, cluster.sighup, "SIGHUP")
            code, err = cluster.stop()
            self.assertEqual(code, 0, err)
        self.for_each_major(body)

    def test_no_failed_request_under_load(self):
        self.for_each_major(lambda node: reloads_under_load(self, keepalive=False, node=node))


if __name__ == "__main__":
    unittest.main()
