// Trivial HTTP app for bench/cluster.sh. PORT from the environment.
// BODY=pid puts the worker's pid in the body (for the per-worker share); otherwise
// the body is a fixed small JSON document.
'use strict';
const http = require('http');
const port = Number(process.env.PORT || 3000);
const withPid = process.env.BODY === 'pid';
const fixed = JSON.stringify({ ok: true, msg: 'hello' });
http.createServer((req, res) => {
  const body = withPid ? JSON.stringify({ pid: process.pid }) : fixed;
  res.setHeader('Content-Type', 'application/json');
  res.end(body);
}).listen(port, '127.0.0.1');
