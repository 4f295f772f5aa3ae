"""tp_app.py: one tiny app for the Python servers of test_third_party and
bench/third_party.sh: `wsgi` (gunicorn), `asgi` (uvicorn), `flask_app` (flask).

Env: TP_GEN_FILE  file whose content, read once at import, is the generation
     TP_EVENTS    file each importing process appends "start pid=P gen=G" to
GET / -> 200 "ok pid=P gen=G end\\n" (the body apps/reload_load.py expects),
with a content-length. Nothing here handles signals: each server's own
graceful stop is what is tested.
"""
import os

with open(os.environ["TP_GEN_FILE"]) as _f:
    GEN = _f.read().strip()
with open(os.environ["TP_EVENTS"], "a") as _f:
    _f.write(f"start pid={os.getpid()} gen={GEN}\n")


def body() -> bytes:
    return f"ok pid={os.getpid()} gen={GEN} end\n".encode()


def wsgi(environ, start_response):
    data = body()
    start_response("200 OK", [("content-type", "text/plain"),
                              ("content-length", str(len(data)))])
    return [data]


async def asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    data = body()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


def _flask():
    try:
        import flask
    except ImportError:  # only bench/third_party.sh's flask row needs it
        return None
    app = flask.Flask(__name__)

    @app.route("/")
    def index():
        return flask.Response(body(), content_type="text/plain")
    return app


flask_app = _flask()
