// pm2_graceful.js: an HTTP app written for pm2's graceful shutdown.
//
// Env: PORT (required).
// Serves like hello.js (GET /?delay=MS delays the answer, and prints
// "request delay=MS pid=P instance=K" when the request arrives); once
// listening it sends 'ready' to its parent (process.send) and prints
// "listening pid=P instance=K". On the message 'shutdown' it prints
// "shutdown pid=P instance=K", stops accepting (server.close) and, once the
// requests in flight are answered, prints "closed pid=P instance=K" and
// exits 0.
'use strict';
const http = require('http');

const instance = process.env.NODE_APP_INSTANCE;
const port = Number(process.env.PORT);
const me = () => `pid=${process.pid} instance=${instance}`;

const server = http.createServer((req, res) => {
  const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay') || 0);
  console.log(`request delay=${delay} ${me()}`);
  setTimeout(() => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({pid: process.pid, instance, node: process.version}) + '\n');
  }, delay);
});

server.listen(port, () => {
  console.log(`listening ${me()}`);
  if (process.send) process.send('ready');
});

process.on('message', (msg) => {
  if (msg !== 'shutdown') return;
  console.log(`shutdown ${me()}`);
  if (!server.listening) return;  // cluster disconnect closed it already
  server.close(() => {
    console.log(`closed ${me()}`);
    process.exit(0);
  });
});
