// An ordinary Node HTTP server that knows nothing of cinit or pm2.
// Run under cinit:  cinit -i 0 node examples/node-plain/server.js
// Every worker listens on the same port: cinit hands each of them the one socket it owns.
const http = require('http');

const port = Number(process.env.PORT || 3000);
http
  .createServer((req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`hello from pid ${process.pid}, instance ${process.env.NODE_APP_INSTANCE}\n`);
  })
  .listen(port, () => console.log(`pid ${process.pid} listening on ${port}`));
