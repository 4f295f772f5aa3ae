// pm2-style app for bench/reload.sh. PORT from the environment.
// Answers GET / with a small fixed-length body "ok pid=PID\n"; says process.send('ready')
// once listening; on the 'shutdown' message (cinit, pm2 shutdown_with_message) or
// SIGINT (pm2's default kill signal) it stops accepting and exits once its open
// requests are answered: server.close(() => process.exit(0)).
// With EVENTS=1 it prints one line per life event on stdout:
//   "app <realtime ns> pid=<pid> instance=<k> <event>" (listening, shutdown, sigint, closed).
'use strict';
const http = require('http');
const { performance } = require('perf_hooks');

const port = Number(process.env.PORT || 3000);
const instance = process.env.NODE_APP_INSTANCE;
const events = process.env.EVENTS === '1';
const body = `ok pid=${process.pid}\n`;

function event(what) {
  if (!events) return;
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
  process.stdout.write(`app ${ns} pid=${process.pid} instance=${instance} ${what}\n`);
}

const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
});

server.listen(port, '127.0.0.1', () => {
  event('listening');
  if (process.send) process.send('ready');
});

let closing = false;
function shutdown(why) {
  event(why);
  if (closing) return;
  closing = true;
  server.close(() => {
    event('closed');
    process.exit(0);
  });
}
process.on('message', (m) => { if (m === 'shutdown') shutdown('shutdown'); });
process.on('SIGINT', () => shutdown('sigint'));
