#!/usr/bin/env python3
"""Turns bench/out/cluster-raw/ into the markdown report of bench/cluster.sh.

    report.py RAW_DIR "CANDIDATES"

Reads wrk-CAND-REP.txt, ab-CAND-REP.txt, shares.tsv, rss.tsv, versions.tsv.
Medians over repetitions; ratios are median/median. Stdlib only.
"""
import json
import os
import re
import statistics
import sys

LABEL = {
    "node": "node app.js (one process)",
    "cinit": "cinit -i W node app.js (PID 1)",
    "cinit-rp": "cinit -i W --balance reuseport (PID 1)",
    "pm2": "pm2 start app.js -i W",
    "pm2-runtime": "pm2-runtime start app.js -i W",
    "node-rr": "Node cluster, SCHED_RR",
    "node-none": "Node cluster, SCHED_NONE",
}
SUPERVISOR = {
    "cinit": "cinit (PID 1)",
    "pm2": "pm2 God daemon",
    "pm2-runtime": "pm2-runtime (in-process God)",
    "node-rr": "Node cluster primary",
}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        return None
    v = float(m.group(1))
    return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def parse_wrk(path):
    t = open(path, errors="replace").read()
    r = {}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", t, re.M)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", t, re.M)
    if m:
        r["p99"] = to_ms(m.group(1))
    err = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    if m:
        err += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    if m:
        err += int(m.group(1))
    r["err"] = err
    m = re.search(r"^\s*(\d+) requests in", t, re.M)
    if m:
        r["n"] = int(m.group(1))
    return r


def parse_ab(path):
    t = open(path, errors="replace").read()
    r = {}
    m = re.search(r"^Requests per second:\s+([\d.]+)", t, re.M)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"^\s+99%\s+(\d+)", t, re.M)
    if m:
        r["p99"] = float(m.group(1))
    err = 0
    m = re.search(r"^Failed requests:\s+(\d+)", t, re.M)
    if m:
        err += int(m.group(1))
    m = re.search(r"^Non-2xx responses:\s+(\d+)", t, re.M)
    if m:
        err += int(m.group(1))
    m = re.search(r"^Complete requests:\s+(\d+)", t, re.M)
    r["complete"] = int(m.group(1)) if m else 0
    r["err"] = err if m else None
    return r


def rep_files(raw, prefix, cand, ext):
    """PREFIX-CAND-REP.EXT for exactly CAND (node must not match node-rr), by REP."""
    pat = re.compile(rf"^{re.escape(prefix)}-{re.escape(cand)}-(\d+)\.{ext}$")
    found = []
    for f in os.listdir(raw):
        mm = pat.match(f)
        if mm:
            found.append((int(mm.group(1)), os.path.join(raw, f)))
    return [f for _, f in sorted(found)]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    return f"{v:,.{nd}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}×"


def main():
    raw, cands = sys.argv[1], sys.argv[2].split()
    versions = {}
    vpath = os.path.join(raw, "versions.tsv")
    if os.path.exists(vpath):
        for line in open(vpath):
            k, _, v = line.rstrip("\n").partition("\t")
            versions[k] = v
    params = dict(p.split("=", 1) for p in re.findall(r"\b(\w+=\S+)", versions.get("params", "")))
    W = params.get("workers", "2")

    data = {}  # (load, cand) -> list of dicts
    for load, parse in (("wrk", parse_wrk), ("ab", parse_ab)):
        for c in cands:
            data[(load, c)] = [parse(f) for f in rep_files(raw, load, c, "txt")]

    def m(load, c, key):
        return med([d.get(key) for d in data.get((load, c), [])])

    out = []
    out.append("## cinit cluster mode: results")
    out.append("")
    vs = [f"{k} {versions[k]}" for k in ("node", "pm2", "cinit", "wrk", "ab") if k in versions]
    out.append("Versions: " + "; ".join(vs) + ".  ")
    out.append(f"Machine: kernel {versions.get('kernel', '?')}, {versions.get('cpus', '?')} CPUs, "
               f"load average at start {versions.get('load', '?')}.  ")
    out.append(f"Parameters: {versions.get('params', '?')}.")
    out.append("")
    out.append(f"### Throughput, {W} workers (median of the repetitions)")
    out.append("")
    out.append("| candidate | keep-alive req/s | ÷ node | ÷ pm2 | keep-alive p99 ms "
               "| new-conn req/s | ÷ node | ÷ pm2 | new-conn p99 ms | errors (wrk / ab failed) |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_w, base_a = m("wrk", "node", "rps"), m("ab", "node", "rps")
    pm2_w, pm2_a = m("wrk", "pm2", "rps"), m("ab", "pm2", "rps")
    for c in cands:
        wr, ar = m("wrk", c, "rps"), m("ab", c, "rps")
        werr = sum(d.get("err") or 0 for d in data[("wrk", c)])
        aerrs = [d.get("err") for d in data[("ab", c)]]
        aerr = "n/a" if not aerrs or None in aerrs else str(sum(aerrs))
        out.append(
            f"| {LABEL.get(c, c).replace('W', W)} | {fmt(wr)} | {ratio(wr, base_w)} | {ratio(wr, pm2_w)} "
            f"| {fmt(m('wrk', c, 'p99'), 2)} | {fmt(ar)} | {ratio(ar, base_a)} | {ratio(ar, pm2_a)} "
            f"| {fmt(m('ab', c, 'p99'), 0)} | {werr} / {aerr} |")
    out.append("")
    out.append("Errors are summed over all repetitions (wrk: socket errors + non-2xx; "
               "ab: failed + non-2xx).")
    out.append("")
    out.append("Every sample (req/s, repetition 1 / 2 / …):")
    out.append("")
    out.append("| candidate | keep-alive req/s | ÷ node, same rep | new-conn req/s | ÷ node, same rep |")
    out.append("|---|---|---|---|---|")

    def per_rep(load, c):
        base = [d.get("rps") for d in data.get((load, "node"), [])]
        mine = [d.get("rps") for d in data.get((load, c), [])]
        rs = [a / b for a, b in zip(mine, base) if a and b]
        if not rs:
            return "n/a"
        return " / ".join(f"{r:.2f}" for r in rs) + f" (median {statistics.median(rs):.2f})"

    for c in cands:
        w = " / ".join(fmt(d.get("rps")) for d in data[("wrk", c)]) or "n/a"
        a = " / ".join(fmt(d.get("rps")) for d in data[("ab", c)]) or "n/a"
        out.append(f"| {c} | {w} | {per_rep('wrk', c)} | {a} | {per_rep('ab', c)} |")
    out.append("")
    out.append("\"Same rep\": each candidate against the single node of the same repetition "
               "(run within a few minutes of it), which cancels slow drifts of the machine's load.")

    # Supervisor CPU during the loads, and keep-alive connections per process.
    clk = float(versions.get("clk_tck", "100") or 100)
    mw = re.search(r"-d(\d+)s", versions.get("params", ""))
    wrk_s = float(mw.group(1)) if mw else 10.0
    ma = re.search(r"ab=-n (\d+)", versions.get("params", ""))
    ab_n = float(ma.group(1)) if ma else 20000.0
    mc = re.search(r"wrk=-t1 -c(\d+)", versions.get("params", ""))
    conns = mc.group(1) if mc else "?"
    sup = {}  # cand -> list of (rep, main_pid, sup_wrk, sup_ab, tree_wrk, tree_ab) in ticks
    cpath = os.path.join(raw, "supcpu.tsv")
    if os.path.exists(cpath):
        for line in open(cpath):
            f = line.rstrip("\n").split("\t")
            if len(f) == 7:
                sup.setdefault(f[0], []).append((int(f[1]), f[2], *map(int, f[3:])))
    cl = list(cands)
    if cl:
        out.append("")
        out.append(f"### Where the CPU goes, {W} workers")
        out.append("")
        out.append("Server CPU per request: utime+stime of every process of the server (supervisor "
                   "and workers) during the measured load, divided by the requests served (median "
                   "of the repetitions; clock ticks of 10 ms, so ±1 %). Much less sensitive to "
                   "other load on the machine than req/s. Supervisor CPU: the supervisor process "
                   "alone (cinit, pm2's God, the Node primary), as % of one CPU over the load's "
                   "duration. Keep-alive connections: how wrk's "
                   f"{conns} "
                   "connections were spread over the processes halfway through each wrk run "
                   "(per repetition, largest first).")
        out.append("")
        out.append("| candidate | server CPU µs/req, keep-alive | ÷ node | server CPU µs/req, new-conn | ÷ node "
                   "| supervisor CPU, keep-alive | supervisor CPU, new-conn | keep-alive connections per process |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---|")

        def cpu_per_req(c):
            rows_c = sup.get(c, [])
            wn = {i + 1: d.get("n") for i, d in enumerate(data[("wrk", c)])}
            an = {i + 1: d.get("complete") for i, d in enumerate(data[("ab", c)])}
            w = med([1e6 * tw / clk / wn[r] for r, _, _, _, tw, _ in rows_c if wn.get(r)])
            a = med([1e6 * ta / clk / an[r] for r, _, _, _, _, ta in rows_c if an.get(r)])
            return w, a

        nw, na = cpu_per_req("node")
        for c in cl:
            rows_c = sup.get(c, [])
            abr = {i + 1: d.get("rps") for i, d in enumerate(data[("ab", c)])}
            cw, ca = cpu_per_req(c)
            if c == "node":
                wp = ap = None
            else:
                wp = med([100.0 * t / clk / wrk_s for _, _, t, _, _, _ in rows_c])
                ap = med([100.0 * t / clk / (ab_n / abr[r]) for r, _, _, t, _, _ in rows_c if abr.get(r)])
            dist = []
            for f in rep_files(raw, "conns", c, "tsv"):
                counts = sorted((int(x.split("\t")[1]) for x in open(f) if "\t" in x), reverse=True)
                dist.append("+".join(str(n) for n in counts) or "none")
            sw = "—" if wp is None else f"{fmt(wp, 1)} %"
            sa = "—" if ap is None else f"{fmt(ap, 1)} %"
            out.append(f"| {c} | {fmt(cw, 1)} | {ratio(cw, nw)} | {fmt(ca, 1)} | {ratio(ca, na)} "
                       f"| {sw} | {sa} | {', '.join(dist) or 'n/a'} |")

    spath = os.path.join(raw, "shares.tsv")
    rows = []
    if os.path.exists(spath):
        for line in open(spath):
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3 and parts[2].strip():
                try:
                    rows.append((parts[0], parts[1], json.loads(parts[2])))
                except ValueError:
                    pass
    if rows:
        out.append("")
        out.append(f"### Per-worker share, {W} workers (new connection per request)")
        out.append("")
        out.append("| candidate | server | requests ok / errors | share per worker (pid: %) | max ÷ min |")
        out.append("|---|---|---:|---|---:|")
        for c, mode, r in rows:
            counts = sorted(r.get("counts", {}).items(), key=lambda kv: -kv[1])
            ok = r.get("ok", 0) or 1
            shares = ", ".join(f"{pid}: {100.0 * n / ok:.1f}" for pid, n in counts)
            workers = int(W) if W.isdigit() else len(counts)
            if len(counts) < workers:
                mm = "∞ (a worker got nothing)"
            else:
                mm = f"{counts[0][1] / counts[-1][1]:.2f}"
            srv = "idle" if mode == "idle" else "under ab load"
            out.append(f"| {c} | {srv} | {r.get('ok')} / {r.get('errors')} | {shares} | {mm} |")
        out.append("")
        out.append("cinit's pids are those of its PID namespace; the others are host pids.")

    rpath = os.path.join(raw, "rss.tsv")
    if os.path.exists(rpath) and os.path.getsize(rpath):
        rw = params.get("rss_workers", "16")
        out.append("")
        out.append(f"### Idle memory of the supervisor with {rw} workers")
        out.append("")
        out.append("| supervisor | workers seen | VmRSS kB | RssAnon kB | Pss kB | up after |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for line in open(rpath):
            c, n, vals, up = line.rstrip("\n").split("\t")
            v = (vals.split() + ["?", "?", "?"])[:3]
            out.append(f"| {SUPERVISOR.get(c, c)} | {n} | {v[0]} | {v[1]} | {v[2]} | {int(up) / 1000:.1f} s |")

        out.append("")
        out.append("\"Up after\": from the start command to the moment it answers HTTP with every "
                   "worker process present; for cinit (shared handle) also every worker holding "
                   "the listening socket. Round-robin primaries hold the socket alone, so for "
                   "them it cannot be seen when the last worker listens.")

    # targets
    out.append("")
    out.append("### Targets")
    out.append("")
    for load, name in (("wrk", "keep-alive"), ("ab", "new connection per request")):
        c, b = m(load, "cinit", "rps"), m(load, "node", "rps")
        if c is not None and b is not None:
            verdict = "met" if c >= b else f"missed by {100 * (1 - c / b):.1f} %"
            out.append(f"- cinit ≥ 1.0× single node, {name}: {c / b:.2f}× — {verdict} "
                       f"(same-rep ratios: {per_rep(load, 'cinit')})")
    if os.path.exists(rpath):
        for line in open(rpath):
            c, n, vals, _ = line.rstrip("\n").split("\t")
            if c == "cinit" and vals.split():
                kb = int(vals.split()[0])
                verdict = "met" if kb < 2048 else "missed"
                out.append(f"- cinit VmRSS with {n} workers < 2 MB: {kb} kB — {verdict}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
