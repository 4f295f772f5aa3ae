"""bench/share_seccomp.py: the driver of bench/share_seccomp.sh (bench/README.md,
"Seccomp bind interception"). One run, figures and ratios:

  1. the cost of the filter per system call: a getppid() loop (bench/syscall_loop)
     as a `cinit -i 1` worker with `--share seccomp` vs `--share none`;
  2. a static Go net/http server (tests/integration/apps/go_server) under
     `cinit -i 2`, sharing the port through the filter vs taking the socket from
     `--listen` (LISTEN_FDS, no filter): requests/s keep-alive (wrk) and one
     connection per request (ab), REPS rounds alternating, medians;
  3. 3 rolling reloads under load (tests/integration/third_party_support.py):
     the Go server, which drains with http.Server.Shutdown, and
     helpers/shareserve, a static C server that dies on SIGTERM.

    CINIT_BIN=build/cinit CINIT_HELPERS=DIR python3 bench/share_seccomp.py OUT.md RAW_DIR
Knobs: REPS=3 WRK_SECONDS=8 WRK_CONNS=64 AB_N=20000 AB_CONC=32 LOOP_CALLS=20000000.
"""
import os
import re
import signal
import statistics
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tests", "integration"))

import third_party_support as tp  # noqa: E402
from harness import DEADLINE, PID1, helper, start_cinit, wait_for  # noqa: E402
from test_cluster import free_port, try_get  # noqa: E402
from test_share_seccomp import go_server  # noqa: E402
from third_party import Owner  # noqa: E402 (bench/third_party.py: a TestCase's cleanups)

REPS = int(os.environ.get("REPS", "3"))
WRK_SECONDS = int(os.environ.get("WRK_SECONDS", "8"))
WRK_CONNS = int(os.environ.get("WRK_CONNS", "64"))
AB_N = int(os.environ.get("AB_N", "20000"))
AB_CONC = int(os.environ.get("AB_CONC", "32"))
LOOP_CALLS = int(os.environ.get("LOOP_CALLS", "20000000"))


def syscall_cost(loop_exe: str, share: str) -> float:
    owner = Owner()
    try:
        run = start_cinit(owner, ["-i", "1", "--control", "none", "--share", share, loop_exe,
                                  str(LOOP_CALLS)], PID1)
        text = run.out.wait_contains("ns_per_call=", timeout=120)
        run.signal(signal.SIGTERM)
        run.finish(DEADLINE)
        return float(re.search(r"ns_per_call=([\d.]+)", text)[1])
    finally:
        owner.done()


def throughput(exe: str, listen: bool, raw) -> tuple[float, float]:
    owner = Owner()
    port = free_port()
    args = ["-i", "2", "--control", "none"]
    if listen:
        args += ["--listen", f"127.0.0.1:{port}"]
    try:
        run = start_cinit(owner, args + [exe, f"127.0.0.1:{port}"], PID1)
        wait_for(lambda: run.out.text().count("listening ") >= 2, DEADLINE, "2 workers")
        wait_for(lambda: try_get(port), DEADLINE, "an answer")
        url = f"http://127.0.0.1:{port}/"
        wrk = subprocess.run(["wrk", "-t2", f"-c{WRK_CONNS}", f"-d{WRK_SECONDS}s", url],
                             capture_output=True, text=True, timeout=WRK_SECONDS + 60).stdout
        ab = subprocess.run(["ab", "-q", "-n", str(AB_N), "-c", str(AB_CONC), url],
                            capture_output=True, text=True, timeout=300).stdout
        raw.write(f"--- {'listen' if listen else 'filter'}\n{wrk}\n{ab}\n")
        keepalive = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk)[1])
        fresh = float(re.search(r"Requests per second:\s+([\d.]+)", ab)[1])
        failed = int(re.search(r"Failed requests:\s+(\d+)", ab)[1])
        if failed:
            print(f"ab: {failed} failed requests", file=sys.stderr)
        run.signal(signal.SIGTERM)
        run.finish(DEADLINE)
        return keepalive, fresh
    finally:
        owner.done()


def main() -> int:
    out_path, raw_dir = sys.argv[1], sys.argv[2]
    os.makedirs(raw_dir, exist_ok=True)
    loop_exe = os.environ["SYSCALL_LOOP"]
    exe = go_server()
    lines = ["# Seccomp bind interception", "",
             f"One run on {os.cpu_count()} CPUs; medians of {REPS} alternating rounds.", ""]

    costs = {"none": [], "seccomp": []}
    for _ in range(REPS):
        for share in costs:
            costs[share].append(syscall_cost(loop_exe, share))
    none, filt = statistics.median(costs["none"]), statistics.median(costs["seccomp"])
    lines += ["| getppid() per call | `--share none` | `--share seccomp` | difference |",
              "|---|---|---|---|",
              f"| ns | {none:.1f} | {filt:.1f} | {filt - none:+.1f} ns ({filt / none:.2f}×) |", ""]

    results = {False: [], True: []}
    with open(os.path.join(raw_dir, "load.txt"), "w") as raw:
        for _ in range(REPS):
            for listen in (True, False):
                results[listen].append(throughput(exe, listen, raw))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
           for k, v in results.items()}
    lines += ["| Go server, `cinit -i 2` | `--listen` (LISTEN_FDS) | through the filter | ratio |",
              "|---|---|---|---|",
              f"| keep-alive req/s (wrk -c{WRK_CONNS}) | {med[True][0]:.0f} | {med[False][0]:.0f} "
              f"| {med[False][0] / med[True][0]:.3f} |",
              f"| new connection req/s (ab -c{AB_CONC}) | {med[True][1]:.0f} | {med[False][1]:.0f} "
              f"| {med[False][1] / med[True][1]:.3f} |", ""]

    specs = [tp.Spec("Go net/http (drains with Shutdown)", lambda c: [exe, f"127.0.0.1:{c.port}"]),
             tp.Spec("static C server, dies on SIGTERM",
                     lambda c: [helper("shareserve"), "127.0.0.1", str(c.port)], drains=False)]
    lines += ["| 3 reloads under load | failed / requests | stale | leftovers |", "|---|---|---|---|"]
    for spec in specs:
        owner = Owner()
        try:
            out = tp.run_reloads(owner, spec)
        finally:
            owner.done()
        with open(os.path.join(raw_dir, "reloads.txt"), "a") as raw:
            raw.write(tp.describe(out) + "\n")
        lines.append(f"| {spec.name} | {out.failures} / {out.total()} | {len(out.stale)} "
                     f"| {out.leftover_count()} |")
    text = "\n".join(lines) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
