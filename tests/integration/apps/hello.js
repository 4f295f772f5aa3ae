// hello.js: an unmodified Node HTTP app, as one would run it without cinit.
//
// Env: PORT (required)  port to listen on (no host: every address).
//      LOG_SIGNALS      comma-separated signal names (e.g. SIGUSR2) to catch
//                       and report; every other signal keeps Node's default.
//
// GET /            -> 200, JSON {"pid", "instance", "node"}: process.pid (the pid
//                     in the worker's PID namespace), $NODE_APP_INSTANCE, the
//                     Node version.
// GET /?delay=MS   -> the same, after MS milliseconds.
// stdout: "listening pid=P instance=K" once listening, and
//         "signal SIG pid=P instance=K" for each caught LOG_SIGNALS signal.
// Nothing in it knows about cluster mode: no process.send, no 'message'.
'use strict';
const http = require('http');

const instance = process.env.NODE_APP_INSTANCE;
const port = Number(process.env.PORT);
if (!port) {
  console.error('hello.js: PORT is not set');
  process.exit(2);
}

for (const name of (process.env.LOG_SIGNALS || '').split(',').filter(Boolean)) {
  process.on(name, () => console.log(`signal ${name} pid=${process.pid} instance=${instance}`));
}

const server = http.createServer((req, res) => {
  const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay') || 0);
  setTimeout(() => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({pid: process.pid, instance, node: process.version}) + '\n');
  }, delay);
});
server.listen(port, () => console.log(`listening pid=${process.pid} instance=${instance}`));
