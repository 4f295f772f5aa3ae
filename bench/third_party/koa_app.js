// koa_app.js: bench/third_party.sh's koa row, run as `node koa_app.js`.
// Env: PORT, TP_GEN_FILE (read once: this process's generation), TP_EVENTS (log).
// GET / -> "ok pid=P gen=G end\n".
'use strict';
const fs = require('fs');
const Koa = require('koa');

const gen = fs.readFileSync(process.env.TP_GEN_FILE, 'utf8').trim();
fs.appendFileSync(process.env.TP_EVENTS, `start pid=${process.pid} gen=${gen}\n`);
const app = new Koa();
app.use((ctx) => {
  ctx.type = 'text/plain';
  ctx.body = `ok pid=${process.pid} gen=${gen} end\n`;
});
app.listen(Number(process.env.PORT));
