// A pm2-style app: it tells its supervisor when it is ready, and drains on 'shutdown'.
// Runs unchanged under pm2 and under cinit:
//   cinit -i 2 --reload-on-change "$PWD/examples/node-pm2/config" node examples/node-pm2/server.js
//
// It reads config.json at start from $CONFIG_DIR (default: ./config next to this
// file, which is /app/config in the image, where the Kubernetes example mounts its
// ConfigMap). A worker never re-reads it: a new config takes effect through a rolling
// reload, which cinit starts itself when the directory changes (--reload-on-change).
const fs = require('fs');
const http = require('http');
const path = require('path');

const port = Number(process.env.PORT || 3000);
const instance = process.env.NODE_APP_INSTANCE;
const configDir = process.env.CONFIG_DIR || path.join(__dirname, 'config');
const configPath = path.join(configDir, 'config.json');

function readConfig() {
  try {
    return JSON.parse(fs.readFileSync(configPath, 'utf8'));
  } catch (err) {
    // A missing or broken file is not a reason to stay down: defaults, and say so.
    console.error(`instance ${instance}: ${configPath}: ${err.message}; using defaults`);
    return {};
  }
}
const config = readConfig();
const greeting = typeof config.greeting === 'string' ? config.greeting : 'hello';
const version = config.version === undefined ? 'none' : String(config.version);

const server = http.createServer((req, res) => {
  // A slow endpoint, to watch in-flight requests complete during a graceful stop.
  const delay = req.url === '/slow' ? 2000 : 0;
  setTimeout(() => res.end(`${greeting} from pid ${process.pid}, instance ${instance}, ` +
                           `config version ${version}\n`), delay);
});

// Pretend start-up work (cache warm-up, DB connections) before serving.
setTimeout(() => {
  server.listen(port, () => {
    console.log(`instance ${instance}: listening on ${port} (config version ${version})`);
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
