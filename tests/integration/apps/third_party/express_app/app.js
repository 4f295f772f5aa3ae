// app.js: an express app, what `npm start` (package.json) runs in test_third_party.
//
// Env: PORT         port to listen on (no host: every address)
//      TP_GEN_FILE  file whose content, read once at start, is this process's generation
//      TP_EVENTS    file this process appends "start|listening|stop|closed pid=P gen=G" to
//      NODE_PATH    where express is installed (tests/integration/.npm-third-party)
// GET / -> 200 "ok pid=P gen=G end\n" (the body apps/reload_load.py expects).
// SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.
'use strict';
const fs = require('fs');
const express = require('express');

const gen = fs.readFileSync(process.env.TP_GEN_FILE, 'utf8').trim();
const log = (name) =>
  fs.appendFileSync(process.env.TP_EVENTS, `${name} pid=${process.pid} gen=${gen}\n`);
log('start');

const app = express();
app.get('/', (req, res) => {
  res.type('text/plain').send(`ok pid=${process.pid} gen=${gen} end\n`);
});
const server = app.listen(Number(process.env.PORT), () => log('listening'));
for (const name of ['SIGTERM', 'SIGINT']) {
  process.on(name, () => {
    log('stop');
    // Node >= 19 also closes the idle keep-alive connections here.
    server.close(() => {
      log('closed');
      process.exit(0);
    });
  });
}
