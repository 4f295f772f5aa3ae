// ipc_garbage.js: writes junk to Node's IPC channel, then behaves.
//
// Env: PORT (required).
// Writes to its IPC channel (process.channel.fd; Node removes NODE_CHANNEL_FD
// from the environment at startup), in this order:
//   1. raw bytes, including NUL and invalid UTF-8, ending in "\n";
//   2. a line that is not JSON;
//   3. a 100 KiB line of 'x' (no JSON);
//   4. valid JSON that is too long: process.send() of a 200 KiB string;
//   5. valid JSON that is not a Node message: '{"cmd":42}', '[1,2]', 'null';
// then prints "junk sent pid=P instance=K", sends 'ready' and, once that is
// written, listens on PORT and serves like hello.js (prints "listening ...").
'use strict';
const fs = require('fs');
const http = require('http');

const instance = process.env.NODE_APP_INSTANCE;
const me = () => `pid=${process.pid} instance=${instance}`;

if (!process.channel) {
  console.error('ipc_garbage.js: no IPC channel');
  process.exit(2);
}
const fd = process.channel.fd;

// The channel is non-blocking: retry on EAGAIN until everything is written.
function writeAll(buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

writeAll(Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22, 0x0a]));  // ..{"\n
writeAll(Buffer.from('this is not json {{{\n'));
writeAll(Buffer.concat([Buffer.alloc(100 * 1024, 'x'), Buffer.from('\n')]));
const huge = 'y'.repeat(200 * 1024);
process.send(huge, () => {
  writeAll(Buffer.from('{"cmd":42}\n[1,2]\nnull\n'));
  console.log(`junk sent ${me()}`);
  process.send('ready', () => {
    http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({pid: process.pid, instance, node: process.version}) + '\n');
    }).listen(Number(process.env.PORT), () => console.log(`listening ${me()}`));
  });
});
