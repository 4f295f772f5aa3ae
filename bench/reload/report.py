#!/usr/bin/env python3
"""Turns bench/out/reload-raw/ into the markdown report of bench/reload.sh.

    report.py RAW_DIR LOG_DIR

Reads versions.tsv; p1-CAND-VARIANT.json (load.py summaries), p1-CAND-VARIANT-reloads.tsv
(reload index, start ns, end ns, rc) and -workers.txt; rollout.tsv (cand, round,
start ns, end ns, rc); windows.tsv (cand, round, steady start/end ns, reload
start/end ns, rc); p23-CAND-ROUND.json (open-loop samples); pm2-ping.tsv; and, to
place failed requests among cinit's reload steps, LOG_DIR/cinit-TAG-try*.log (one
"<realtime ns> <line>" per line). Stdlib only.
"""
import glob
import json
import os
import statistics
import sys

LABEL = {
    "cinit": "cinit (SIGHUP)",
    "pm2": "pm2 (default)",
    "pm2-ready": "pm2 (wait_ready, shutdown msg)",
}
VARIANT = {"close": "new connection per request", "keepalive": "keep-alive"}


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    v = sorted(values)
    k = max(1, -(-len(v) * p // 100))
    return v[int(k) - 1]


def ms(ns):
    return "n/a" if ns is None else f"{ns / 1e6:.1f}"


def secs(ns):
    return "n/a" if ns is None else f"{ns / 1e9:.2f}"


def main():
    raw, logd = sys.argv[1], sys.argv[2]
    versions = dict((r[0], r[1]) for r in read_tsv(os.path.join(raw, "versions.tsv")) if len(r) > 1)
    cands = versions.get("candidates", "cinit pm2 pm2-ready").split()
    params = dict(kv.split("=", 1) for kv in versions.get("params", "").split())
    out = []
    w = out.append

    w("# Rolling reload: cinit vs pm2")
    w("")
    w(f"node {versions.get('node', '?')}, pm2 {versions.get('pm2', '?')}, "
      f"cinit {versions.get('cinit', '?')}; python {versions.get('python', '?')}, "
      f"kernel {versions.get('kernel', '?')}, {versions.get('cpus', '?')} CPUs, "
      f"load average {versions.get('load', '?')} at start, {versions.get('load_end', '?')} at end; "
      f"run took {versions.get('elapsed', '?')} s.")
    w("")
    w("Candidates: **cinit** `cinit -v -i N node app.js` as PID 1 of a new PID namespace, "
      "reload = SIGHUP to cinit, done = its `reload done` log line; "
      "**pm2 (default)** `pm2 start app.js -i N`, reload = `pm2 reload app` "
      "(new worker online at cluster `listening`, old one gets SIGINT, SIGKILL after "
      "kill_timeout 1600 ms); **pm2 (wait_ready, shutdown msg)** the same from an ecosystem "
      "file with `wait_ready: true, listen_timeout: 3000, kill_timeout: 8000, "
      "shutdown_with_message: true` (online at `process.send('ready')`; the outgoing worker "
      "still gets SIGINT, not the `shutdown` message: `pm2 reload` renames it `_old_K` and "
      "pm2's killProcess only sends the message to numeric ids; the app's event counts "
      "below show it). The app drains the same way on `shutdown` and on SIGINT. "
      "pm2's times are the wall time of the "
      "`pm2 reload app` CLI, which includes starting the CLI (see `pm2 ping` below). "
      "pm2 reloads up to 2 workers at a time when N > 2 (its `CONCURRENT_ACTIONS`); cinit "
      "one at a time (`--reload-batch 1`).")
    w("")

    # ------------------------------------------------------------ part 1
    p1 = {}
    for c in cands:
        for v in VARIANT:
            d = load_json(os.path.join(raw, f"p1-{c}-{v}.json"))
            rel = read_tsv(os.path.join(raw, f"p1-{c}-{v}-reloads.tsv"))
            wk = None
            try:
                wk = open(os.path.join(raw, f"p1-{c}-{v}-workers.txt")).read().strip()
            except OSError:
                pass
            p1[(c, v)] = (d, [(int(a), int(b), int(x), int(rc)) for a, b, x, rc in rel], wk)

    def p1_cell(c, v):
        d, rel, _ = p1[(c, v)]
        if d is None:
            return "n/a"
        return f"{d['failures']} / {d['good'] + d['failures']}"

    # ------------------------------------------------------------ part 2
    roll = {}
    for c, rep, a, b, rc in read_tsv(os.path.join(raw, "rollout.tsv")):
        if rc == "0":
            roll.setdefault(c, []).append(int(b) - int(a))

    # ------------------------------------------------------------ part 3
    lat = {}
    for c, rep, s0, s1, r0, r1, rc in read_tsv(os.path.join(raw, "windows.tsv")):
        d = load_json(os.path.join(raw, f"p23-{c}-{rep}.json"))
        if d is None:
            continue
        e = lat.setdefault(c, dict(steady=[], steady_fail=0, roll=[], roll_fail=0,
                                   rounds=0, roll_ns=[]))
        e["rounds"] += 1
        e["roll_ns"].append(int(r1) - int(r0))
        s0, s1, r0, r1 = int(s0), int(s1), int(r0), int(r1)
        for t, latency, ok in d["samples"]:
            key = "steady" if s0 <= t < s1 else "roll" if r0 <= t <= r1 else None
            if key and ok:
                e[key].append(latency)
            elif key:
                e[key + "_fail"] += 1

    # ------------------------------------------------------------ summary table
    n1 = params.get("load_workers", "2")
    n2 = params.get("roll_workers", "4")
    w(f"| | {' | '.join(LABEL.get(c, c) for c in cands)} |")
    w(f"|---|{'---|' * len(cands)}")
    for v in VARIANT:
        w(f"| 1. failed / total requests, {params.get('reloads', '10')} reloads under load, "
          f"N={n1}, {VARIANT[v]} | {' | '.join(p1_cell(c, v) for c in cands)} |")
    cells = []
    for c in cands:
        s = roll.get(c, [])
        cells.append(f"{secs(statistics.median(s))} s" if s else "n/a")
    w(f"| 2. full rollout of N={n2}, no load (median of {max([len(roll.get(c, [])) for c in cands] + [0])}) "
      f"| {' | '.join(cells)} |")
    for key, name in (("steady", f"steady, {params.get('steady', '5')} s per round"),
                      ("roll", "during the rollouts")):
        cells = []
        for c in cands:
            e = lat.get(c)
            cells.append("n/a" if not e or not e[key] else f"{ms(pct(e[key], 99))} ms")
        w(f"| 3. p99 latency at {params.get('rate', '200')} req/s (new connection each), "
          f"N={n2}, {name} | {' | '.join(cells)} |")
    w("")

    def told(c, v):
        """How the outgoing workers were asked to leave: the app's shutdown/sigint
        events up to 1 s after the last reload (not the final stop)."""
        rel = p1[(c, v)][1]
        end = rel[-1][2] + 1_000_000_000 if rel else 0
        pat = (f"cinit-p1-{c}-{v}-try*.log" if c == "cinit"
               else f"{c}-p1-{c}-{v}-try*/app-out-*.log")
        n = {"shutdown": 0, "sigint": 0}
        for path in glob.glob(os.path.join(logd, pat)):
            for line in open(path, errors="replace"):
                words = line.split()
                if "app" in words and words[-1] in n:
                    t = words[words.index("app") + 1]
                    if t.isdigit() and int(t) <= end:
                        n[words[-1]] += 1
        return ", ".join(f"{k} ×{x}" for k, x in n.items() if x) or "n/a"

    # ------------------------------------------------------------ part 1 detail
    w(f"## 1. Failed requests during {params.get('reloads', '10')} reloads under load (N={n1})")
    w("")
    w(f"Closed-loop client, {params.get('load_threads', '8')} threads (`bench/reload/load.py`), "
      "running from 1 s before the first reload to 1 s after the last; the reloads back to "
      "back (cinit: the next SIGHUP once `reload done` is logged; pm2: the next "
      "`pm2 reload app` once the previous one returned). A failure is a refused, reset or "
      "timed-out (5 s) connection, an EOF or reset before the full response, a status other "
      "than 200, or a body that is not the expected one. Keep-alive: a connection the server "
      "closed while idle (seen before sending: *idle closed*; or the request got no byte of "
      "answer: *retried* once on a new connection) and a response with `connection: close` "
      "are what HTTP clients handle by reconnecting and are **not** failures; a retry that "
      "fails is.")
    w("")
    w("| candidate | variant | failed | requests | answered during reloads | idle closed | "
      "retried | conn: close | connections | reload time median (min–max) | reloads ok | "
      "workers after | old workers told by |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in cands:
        for v in VARIANT:
            d, rel, wk = p1[(c, v)]
            if d is None:
                w(f"| {LABEL.get(c, c)} | {VARIANT[v]} | n/a |||||||||")
                continue
            durs = [b - a for _, a, b, rc in rel if rc == 0]
            during = sum(g for t, g, f in d["per_100ms"]
                         if any(a <= t + 50_000_000 <= b for _, a, b, _ in rel))
            rt = (f"{secs(statistics.median(durs))} s ({secs(min(durs))}–{secs(max(durs))})"
                  if durs else "n/a")
            w(f"| {LABEL.get(c, c)} | {VARIANT[v]} | {d['failures']} | {d['good'] + d['failures']} "
              f"| {during} | {d['idle_closed']} | {d['retried']} | {d['server_closed']} "
              f"| {d['connections']} | {rt} | {sum(1 for r in rel if r[3] == 0)}/{len(rel)} "
              f"| {wk} | {told(c, v)} |")
    w("")

    # ------------------------------------------------------------ part 2 detail
    w(f"## 2. Time for a full rollout of N={n2} workers, no load")
    w("")
    w("cinit: from just before `kill -HUP` to the timestamp of its `reload done` line; "
      "pm2: wall time of `pm2 reload app`. One rollout per candidate and round, rounds "
      "interleaved, each on a fresh start.")
    w("")
    w("| candidate | median | samples (s) |")
    w("|---|---|---|")
    for c in cands:
        s = roll.get(c, [])
        w(f"| {LABEL.get(c, c)} | {secs(statistics.median(s)) if s else 'n/a'} s | "
          f"{', '.join(secs(x) for x in s)} |")
    pings = [int(r[2]) for r in read_tsv(os.path.join(raw, "pm2-ping.tsv"))]
    if pings:
        w("")
        w(f"`pm2 ping` wall time (the CLI alone: start node, connect to the daemon, one round "
          f"trip): median {secs(statistics.median(pings))} s over {len(pings)}; subtract it from "
          f"pm2's rollout time for the daemon-side duration.")
    w("")

    # ------------------------------------------------------------ part 3 detail
    w(f"## 3. Latency at a fixed {params.get('rate', '200')} req/s, new connection per request (N={n2})")
    w("")
    w("Open-loop client (requests scheduled every 1/rate s, 32-thread pool; latency from "
      "the scheduled time to the end of the response). Per round: 1 s warm-up, then the "
      f"steady window ({params.get('steady', '5')} s), then one rollout (window = its start "
      "to its end as in part 2); requests are assigned by scheduled time, rounds pooled. "
      "Percentiles over successful requests (nearest rank); failures counted apart.")
    w("")
    w("| candidate | window | requests | p50 ms | p99 ms | max ms | failed |")
    w("|---|---|---|---|---|---|---|")
    for c in cands:
        e = lat.get(c)
        if not e:
            w(f"| {LABEL.get(c, c)} | n/a ||||||")
            continue
        for key, name in (("steady", f"steady ({e['rounds']} × {params.get('steady', '5')} s)"),
                          ("roll", f"rollouts ({e['rounds']}: "
                                   f"{', '.join(secs(x) for x in e['roll_ns'])} s)")):
            v = e[key]
            w(f"| {LABEL.get(c, c)} | {name} | {len(v) + e[key + '_fail']} | {ms(pct(v, 50))} "
              f"| {ms(pct(v, 99))} | {ms(max(v) if v else None)} | {e[key + '_fail']} |")
    w("")

    # ------------------------------------------------------------ failures, placed in time
    def log_events(pattern):
        """(ns, text) of every event line in the logs matching pattern: cinit's log
        ("<stamp.py ns> cinit: ..." and "<stamp.py ns> app <ns> ...") and pm2's
        app-out-K.log ("app <ns> ..."). App event lines carry the app's own
        timestamp, which is used instead of stamp.py's."""
        events = []
        for path in sorted(glob.glob(os.path.join(logd, pattern))):
            for line in open(path, errors="replace"):
                line = line.rstrip("\n")
                if line.startswith("app "):
                    line = "0 " + line
                ts, _, text = line.partition(" ")
                if text.startswith("app "):
                    parts = text.split(" ", 2)
                    if len(parts) == 3:
                        ts, text = parts[1], "app " + parts[2]
                if ts.isdigit():
                    events.append((int(ts), text))
        return sorted(events)

    def place(t, rel):
        """Where t (ns) falls among the reloads rel [(index, start, end, rc)]."""
        for r, a, b, rc in rel:
            if a <= t <= b:
                return f"during reload {r}, {(t - a) / 1e6:.1f} ms after its trigger (it took {(b - a) / 1e6:.0f} ms)"
        done = [(b, r) for r, a, b, rc in rel if b < t]
        if done:
            b, r = max(done)
            return f"{(t - b) / 1e6:.1f} ms after reload {r} ended (no reload running)"
        return "before the first reload"

    def list_failures(title, d, rel, events, detailed=5):
        lines.append(f"**{title}**: {d['failures']} failed"
                     + (f" (first {len(d['failure_samples'])} listed)" if d["failures"] > len(d["failure_samples"]) else "")
                     + ".")
        lines.append("")
        for i, s in enumerate(d["failure_samples"]):
            t = s["t_start"]
            lines.append(f"- sent {place(t, rel)}; failed {(s['t_end'] - t) / 1e6:.1f} ms later "
                         f"on a {s['conn']} connection (attempt {s['attempt']}): `{s['error']}`")
            if events and i < detailed:
                near = [e for e in events if e[0] <= t][-4:] + [e for e in events if e[0] > t][:4]
                for et, text in near:
                    lines.append(f"  - {(et - t) / 1e6:+.1f} ms: `{text}`")
        lines.append("")

    lines = []
    for c in cands:
        for v in VARIANT:
            d, rel, _ = p1[(c, v)]
            if d and d["failures"]:
                ev = log_events(f"cinit-p1-{c}-{v}-try*.log" if c == "cinit"
                                else f"{c}-p1-{c}-{v}-try*/app-out-*.log")
                list_failures(f"{LABEL.get(c, c)}, part 1, {VARIANT[v]}", d, rel, ev)
    for c, rep, s0, s1, r0, r1, rc in read_tsv(os.path.join(raw, "windows.tsv")):
        d = load_json(os.path.join(raw, f"p23-{c}-{rep}.json"))
        if d and d["failures"]:
            ev = log_events(f"cinit-p23-{c}-{rep}-try*.log" if c == "cinit"
                            else f"{c}-p23-{c}-{rep}-try*/app-out-*.log")
            list_failures(f"{LABEL.get(c, c)}, part 3, round {rep}", d,
                          [(1, int(r0), int(r1), int(rc))], ev)
    w("## Failed requests")
    w("")
    if lines:
        w("Each failed request is placed among the reloads, and (for the first 5 of each "
          "group) among the nearest log events: cinit's log lines, stamped on arrival by "
          "`stamp.py`, and the app's own event lines (`listening`, `shutdown`/`sigint` "
          "received, `closed`), stamped by the app. All times are CLOCK_REALTIME; offsets "
          "are relative to the failed request's send time. pm2's own actions are not "
          "logged with sub-second times; the app's events show them.")
        w("")
        out.extend(lines)
    else:
        w("None, for any candidate.")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
