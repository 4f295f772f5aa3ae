// A pm2-style app: it tells its supervisor when it is ready, and drains on 'shutdown'.
// Runs unchanged under pm2 and under cinit:
//   cinit -i 2 node examples/node-pm2/server.js
const http = require('http');

const port = Number(process.env.PORT || 3000);
const instance = process.env.NODE_APP_INSTANCE;

const server = http.createServer((req, res) => {
  // A slow endpoint, to watch in-flight requests complete during a graceful stop.
  const delay = req.url === '/slow' ? 2000 : 0;
  setTimeout(() => res.end(`pid ${process.pid}, instance ${instance}\n`), delay);
});

// Pretend start-up work (cache warm-up, DB connections) before serving.
setTimeout(() => {
  server.listen(port, () => {
    console.log(`instance ${instance}: listening on ${port}`);
    if (process.send) process.send('ready'); // pm2's wait_ready protocol
  });
}, 300);

function shutdown() {
  console.log(`instance ${instance}: draining`);
  server.close(() => {
    console.log(`instance ${instance}: drained, exiting`);
    process.exit(0);
  });
}
process.on('message', (message) => {
  if (message === 'shutdown') shutdown(); // pm2's graceful-stop message
});
process.on('SIGINT', shutdown); // what pm2 sends when the message is not used
