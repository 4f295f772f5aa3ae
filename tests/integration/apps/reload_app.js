// reload_app.js: a pm2-style Node HTTP worker for cinit's rolling-reload tests
// (tests/integration/test_reload*.py). Runs under `cinit -i N node reload_app.js`.
//
// It listens on $PORT (127.0.0.1) through cinit, its cluster primary, and answers
// every request with 200 and a fixed-size body:
//     "ok pid=<pid> instance=<k>\n" + padding + "end\n"      (BODY_SIZE bytes)
// GET /busy?ms=N blocks the event loop N ms before answering (so that concurrent
// requests spread over the workers); GET /hog?mb=N keeps N MiB more (event "hog"). Once asked to leave ('shutdown' or the IPC
// channel's disconnect) it answers with "connection: close", as a graceful
// server does, so keep-alive clients move to the other workers.
//
// Every event is appended, one line each, to $RELOAD_LOG:
//     <t> <event> pid=<pid> instance=<k>
// t is CLOCK_MONOTONIC in nanoseconds (process.hrtime.bigint(); Python's
// time.monotonic_ns() reads the same clock). The line is written before the app
// acts on the event, so file order and t both follow the real order. Events:
//     start      the process runs
//     held       $RELOAD_HOLD_IF exists: waiting until it is removed
//     crash      $RELOAD_CRASH_IF exists: exiting 1 at once (never online)
//     silent     $RELOAD_SILENT_IF exists: never listens, never says ready
//     listening  the server listens (logged in the listen callback, which runs
//                before Node's cluster sends 'listening' to cinit)
//     ready      process.send('ready' or 'online') is about to be sent ($RELOAD_READY)
//     hog        GET /hog?mb=N arrived
//     shutdown   the 'shutdown' message from cinit arrived
//     disconnect the IPC channel to cinit closed (Node's cluster disconnect)
//     closed     the server closed (in-flight requests done)
//     sigterm    SIGTERM arrived (the app exits 0 on it, unless RELOAD_STUBBORN)
//     exit       the process exits
//
// Other variables:
//     RELOAD_START_DELAY_MS  start-up work before listening (default 150): makes
//                            "the old worker leaves only after its replacement is
//                            online" observable
//     RELOAD_READY           'listening' (default: Node's cluster 'listening' is
//                            the online mark), 'ready' or 'online' (also
//                            process.send() of that word, pm2's wait_ready)
//     RELOAD_LINGER          '1': after 'shutdown' keep the process alive (a
//                            leaked timer), so only the stop signal ends it
//     RELOAD_STUBBORN        '1': ignore SIGTERM too (only SIGKILL ends it)
const fs = require('fs');
const http = require('http');

const port = Number(process.env.PORT);
const instance = process.env.NODE_APP_INSTANCE;
const logPath = process.env.RELOAD_LOG;
const BODY_SIZE = 1024;

function log(event) {
  const line = `${process.hrtime.bigint()} ${event} pid=${process.pid} instance=${instance}\n`;
  if (logPath) fs.appendFileSync(logPath, line);
}

function exists(path) {
  return Boolean(path) && fs.existsSync(path);
}

log('start');
process.on('exit', () => log('exit'));
process.on('disconnect', () => {
  log('disconnect');
  leaving = true;
});
process.on('SIGTERM', () => {
  log('sigterm');
  if (process.env.RELOAD_STUBBORN !== '1') process.exit(0);
});

if (exists(process.env.RELOAD_CRASH_IF)) {
  log('crash');
  process.exit(1);
}

let server = null;
let lingering = null;
let leaving = false; // asked to leave: every response closes its connection

function body() {
  const head = `ok pid=${process.pid} instance=${instance}\n`;
  return head + '.'.repeat(BODY_SIZE - head.length - 4) + 'end\n';
}

const hogged = [];

function serve() {
  server = http.createServer((req, res) => {
    const busy = /^\/busy\?ms=(\d+)/.exec(req.url);
    if (busy) {
      const until = Date.now() + Number(busy[1]);
      while (Date.now() < until) {
        // Block the event loop: this worker accepts nothing meanwhile.
      }
    }
    const hog = /^\/hog\?mb=(\d+)/.exec(req.url);
    if (hog) {
      // Keep N MiB, touched so that they count (--max-memory tests).
      log('hog');
      hogged.push(Buffer.alloc(Number(hog[1]) << 20, 1));
    }
    const headers = { 'content-type': 'text/plain', 'content-length': BODY_SIZE };
    // A graceful server: once asked to leave, keep-alive clients are told to
    // reconnect (Node 20 keeps serving a busy keep-alive connection after
    // server.close(), which would keep this worker alive until the stop signal).
    if (leaving) headers.connection = 'close';
    res.writeHead(200, headers);
    res.end(body());
  });
  server.listen(port, '127.0.0.1', () => {
    log('listening');
    const ready = process.env.RELOAD_READY;
    if ((ready === 'ready' || ready === 'online') && process.send) {
      log('ready');
      process.send(ready);
    }
  });
}

function startUp() {
  if (exists(process.env.RELOAD_SILENT_IF)) {
    log('silent');
    lingering = setInterval(() => {}, 1 << 30);
    return;
  }
  setTimeout(serve, Number(process.env.RELOAD_START_DELAY_MS || 150));
}

if (exists(process.env.RELOAD_HOLD_IF)) {
  log('held');
  const poll = setInterval(() => {
    if (!exists(process.env.RELOAD_HOLD_IF)) {
      clearInterval(poll);
      startUp();
    }
  }, 10);
} else {
  startUp();
}

process.on('message', (message) => {
  if (message !== 'shutdown') return;
  log('shutdown');
  leaving = true;
  if (process.env.RELOAD_LINGER === '1') {
    lingering = lingering || setInterval(() => {}, 1 << 30);
    return;
  }
  if (lingering) clearInterval(lingering);
  if (!server) {
    process.exit(0); // still starting up: nothing to finish
  }
  // Stops accepting (Node's cluster disconnect may already have done that) and
  // calls back once the in-flight requests are done.
  server.close(() => {
    log('closed');
    process.exit(0);
  });
});
