"""A plain Python HTTP server: run N copies of it on one port under cinit.

    cinit -i 2 python3 examples/python/server.py

Python has no IPC channel with cinit; its bind() of the port is handed to cinit by the
preloaded bind shim, so every copy serves the one socket cinit owns.
"""
import http.server
import os

PORT = int(os.environ.get("PORT", "3000"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello from pid {os.getpid()}, instance {os.environ.get('NODE_APP_INSTANCE')}\n"
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
