// fastify_app.js: bench/third_party.sh's fastify row, run as `node fastify_app.js`.
// Env: PORT, TP_GEN_FILE (read once: this process's generation), TP_EVENTS (log).
// GET / -> "ok pid=P gen=G end\n". Nothing about signals: under `node` cinit's
// shutdown + disconnect closes the server.
'use strict';
const fs = require('fs');
const fastify = require('fastify')();

const gen = fs.readFileSync(process.env.TP_GEN_FILE, 'utf8').trim();
fs.appendFileSync(process.env.TP_EVENTS, `start pid=${process.pid} gen=${gen}\n`);
fastify.get('/', async (req, reply) => {
  reply.type('text/plain');
  return `ok pid=${process.pid} gen=${gen} end\n`;
});
fastify.listen({port: Number(process.env.PORT), host: '127.0.0.1'});
