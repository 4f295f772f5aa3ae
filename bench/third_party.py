"""bench/third_party.py: the driver of bench/third_party.sh (see bench/README.md,
"Third-party servers"). Runs each server under `cinit -i 2` as PID 1 through
3 reloads under load with tests/integration/third_party_support.py (the same
machinery as integration.third_party) and prints a markdown table.

    CINIT_BIN=build/cinit CINIT_TP_NPM=DIR CINIT_TP_NEXT=DIR \
        python3 bench/third_party.py OUT.md RAW_DIR [SERVER...]

CINIT_TP_NPM holds npm, express, fastify and koa (node_modules/); CINIT_TP_NEXT a
built Next app (empty: the next row is left out, with the reason given). Exits 0
once the table is written, whatever the figures.
"""
import os
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(BENCH), "tests", "integration"))

import third_party_support as tp  # noqa: E402
from third_party_support import SERVERS, Spec, describe, run_reloads  # noqa: E402

APPS = os.path.join(BENCH, "third_party")
NEXT_DIR = os.environ.get("CINIT_TP_NEXT", "")
NODE = tp.NODE or "node"


class Owner:
    """What run_reloads needs of a TestCase: cleanups, run after each server."""

    def __init__(self):
        self.cleanups = []

    def addCleanup(self, fn, *args):  # noqa: N802 (unittest's name)
        self.cleanups.append((fn, args))

    def done(self):
        while self.cleanups:
            fn, args = self.cleanups.pop()
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 -- a bench run goes on
                print(f"cleanup: {e}", file=sys.stderr)


def npm_need(pkg):
    return (os.path.join(tp.NODE_MODULES, pkg, "package.json"), "bench/third_party.sh installs it")


NGINX_SCRIPT = (
    'G=$(cat "$TP_GEN_FILE"); echo "start pid=$$ gen=$G" >>"$TP_EVENTS"; mkdir -p "$TP_DIR/nginx-tmp"; '
    f'sed -e "s|@PID@|$$|g" -e "s|@GEN@|$G|g" -e "s|@PORT@|$PORT|g" -e "s|@DIR@|$TP_DIR|g" '
    f'"{os.path.join(APPS, "nginx.conf.in")}" >"$TP_DIR/nginx-$$.conf"; '
    'exec nginx -c "$TP_DIR/nginx-$$.conf" -g "daemon off;"')

ROWS = {
    "express": Spec("express (`node app.js`)", lambda c: [NODE, "app.js"], cwd=tp.EXPRESS_DIR,
                    needs=[npm_need("express")]),
    "express-npm": SERVERS["npm-start"],
    "fastify": Spec("fastify (`node app.js`)",
                    lambda c: [NODE, os.path.join(APPS, "fastify_app.js")],
                    needs=[npm_need("fastify")]),
    "koa": Spec("koa (`node app.js`)", lambda c: [NODE, os.path.join(APPS, "koa_app.js")],
                needs=[npm_need("koa")]),
    "next": Spec("next (`next start`)", lambda c: [
        os.path.join(NEXT_DIR, "node_modules", ".bin", "next"), "start", "-p", str(c.port),
        "-H", "127.0.0.1"], cwd=NEXT_DIR or None,
        needs=[(os.path.join(NEXT_DIR, ".next", "BUILD_ID"), "bench/third_party.sh builds it")]),
    "flask": Spec("flask (`flask run`, its dev server)", lambda c: [
        tp.DEBIAN_PYTHON, "-m", "flask", "--app", "tp_app:flask_app", "run", "--host",
        "127.0.0.1", "--port", str(c.port)], cwd=tp.TP_APPS, drains=False,
        needs=[([tp.DEBIAN_PYTHON, "-c", "import flask"], "apt-get install python3-flask")]),
    "uvicorn": SERVERS["uvicorn"],
    "gunicorn": SERVERS["gunicorn"],
    "nginx": Spec("nginx (master + 1 worker)", lambda c: ["sh", "-c", NGINX_SCRIPT],
                  flags=["--stop-signal", "SIGQUIT"],
                  needs=[("/usr/sbin/nginx", "apt-get install nginx-light")]),
    "webrick": SERVERS["webrick"],
    "socat": SERVERS["socat"],
}


def row(key, spec, out=None, error=None):
    flags = " ".join(spec.flags) or "—"
    if error:
        return f"| {spec.name} | {flags} | {'yes' if spec.drains else 'no'} | {error} | | |"
    # The processes of older generations still alive after the last reload (each
    # reload's list also holds the earlier ones that never went).
    last = out.leftovers.get(max(out.leftovers)) if out.leftovers else []
    extra = []
    if out.port_down:
        extra.append(f"port refused after reload {out.port_down[0]}")
    if out.readyz_lies:
        extra.append("/readyz 200 while it was")
    failed = f"{out.failures} / {out.total()}" + (f" ({'; '.join(extra)})" if extra else "")
    names = sorted({" ".join(w.split()[1:3]) for w in last})
    return (f"| {spec.name} | {flags} | {'yes' if spec.drains else 'no'} | {failed} | "
            f"{len(out.stale)} | {len(last)}{f' ({chr(44).join(names)})' if last else ''} |")


def main():
    out_md, raw_dir, *only = sys.argv[1:]
    os.makedirs(raw_dir, exist_ok=True)
    lines = ["| server | cinit flags it needs | drains on its stop signal "
             "| failed / total requests, 3 reloads | stale answers after a reload "
             "| leftovers after the last reload |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for key, spec in ROWS.items():
        if only and key not in only:
            continue
        if key == "next" and not NEXT_DIR:
            lines.append(row(key, spec, error=os.environ.get("CINIT_TP_NEXT_WHY", "not built")))
            continue
        print(f"third_party: {spec.name}", file=sys.stderr, flush=True)
        owner = Owner()
        try:
            out = run_reloads(owner, spec)
        except AssertionError as e:
            lines.append(row(key, spec, error=f"not run: {str(e).splitlines()[0]}"))
            with open(os.path.join(raw_dir, f"{key}.txt"), "w") as f:
                f.write(str(e))
            continue
        finally:
            owner.done()
        lines.append(row(key, spec, out))
        with open(os.path.join(raw_dir, f"{key}.txt"), "w") as f:
            f.write(describe(out) + "\n\ncinit's log:\n" + out.cinit_log)
        print(describe(out), file=sys.stderr, flush=True)
    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
