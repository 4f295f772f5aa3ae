// stubborn.js: an app that does not stop when asked to.
//
// Env: PORT (required); IGNORE_SIGTERM=1 to catch and ignore SIGTERM too.
// Listens on PORT, sends 'ready' (process.send) and prints
// "listening pid=P instance=K"; prints "message M pid=P instance=K" for every
// IPC message (e.g. 'shutdown') and ignores it; keeps its event loop busy
// with a timer, so that closing its servers does not end it either. With
// IGNORE_SIGTERM=1 it prints "signal SIGTERM pid=P instance=K" instead of
// dying from SIGTERM.
'use strict';
const http = require('http');

const instance = process.env.NODE_APP_INSTANCE;
const me = () => `pid=${process.pid} instance=${instance}`;

setInterval(() => {}, 50);
if (process.env.IGNORE_SIGTERM === '1') {
  process.on('SIGTERM', () => console.log(`signal SIGTERM ${me()}`));
}
process.on('message', (msg) => console.log(`message ${JSON.stringify(msg)} ${me()}`));

http.createServer((req, res) => res.end(`${me()}\n`)).listen(Number(process.env.PORT), () => {
  console.log(`listening ${me()}`);
  if (process.send) process.send('ready');
});
