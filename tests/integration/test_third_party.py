"""Third-party servers as `cinit -i 2` workers (issue 10), real programs each:
npm 11 running an express app (`npm start`) and the same app behind
`sh -c 'node app.js'`, uvicorn --workers 2, gunicorn -w 2, Ruby's WEBrick
(`ruby -run -e httpd`), socat TCP-LISTEN,fork. For each: HTTP load
(apps/reload_load.py, a new connection per request) through three SIGHUP reloads,
the next once the previous one is done; third_party_support.py has the
machinery and the definitions (generation, stale answer, leftover).

Every server must:
  - leave no process of an old generation behind once a reload is done (the
    process tree of each worker is stopped, not only its first process);
  - answer only from the new generation after a reload is done, and from the
    last generation only after the last reload;
  - keep the port answering after every reload (the shared socket survives a
    worker's shutdown(SHUT_RDWR) of it), and /readyz must not say 200 while the
    port has been without a listening socket for a second or more.
A server that finishes its requests in flight on its stop signal (all here but
socat, whose forked children are not waited for) must also fail no request.

Nothing is skipped: a program that is missing is a failure naming the install
step (scripts/install-deps.sh, scripts/test.sh).
"""

import sys
import unittest

from third_party_support import RELOADS, SERVERS, describe, run_reloads


class ThirdPartyServerTest(unittest.TestCase):
    maxDiff = None

    def check(self, key: str) -> None:
        spec = SERVERS[key]
        out = run_reloads(self, spec)
        report = describe(out)
        print(f"\n{report}", file=sys.stderr)
        problems = []
        if out.leftovers:
            problems.append(f"processes of an old generation left after reloads: {out.leftovers}")
        if out.stale:
            problems.append(f"{len(out.stale)} answers from an old generation after a reload "
                            f"was done (reload, pid, gen): {out.stale[:5]}")
        if set(out.final_gens) != {RELOADS}:
            problems.append(f"answers after the last reload, by generation: {out.final_gens}")
        if out.port_down:
            problems.append(f"the port stopped answering after reloads {out.port_down}")
        if out.readyz_lies:
            problems.append(f"/readyz said 200 while the port had no listening socket for "
                            f"{out.readyz_lies} s")
        if spec.drains and out.failures:
            problems.append(f"{out.failures} of {out.total()} requests failed: "
                            f"{out.failure_samples}")
        if problems:
            self.fail(f"{spec.name}:\n  " + "\n  ".join(problems) + f"\n{report}\n"
                      f"cinit's log (end):\n{out.cinit_log[-3000:]}")

    def test_npm_start_express(self):
        self.check("npm-start")

    def test_sh_c_node_express(self):
        self.check("sh-c-node")

    def test_uvicorn_workers_2(self):
        self.check("uvicorn")

    def test_gunicorn_w_2(self):
        self.check("gunicorn")

    def test_webrick(self):
        self.check("webrick")

    def test_socat_fork(self):
        self.check("socat")


if __name__ == "__main__":
    unittest.main()
