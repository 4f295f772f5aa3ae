// Node's own cluster module as the primary, for bench/cluster.sh.
//   node primary.js N
// Forks N workers running app.js next to this file. The scheduling policy is
// Node's own: round-robin by default on Linux, shared handle with
// NODE_CLUSTER_SCHED_POLICY=none (Node reads that variable itself).
// On SIGTERM/SIGINT it stops the workers and exits once they have gone.
'use strict';
const cluster = require('cluster');
const path = require('path');
const n = Number(process.argv[2] || 2);
cluster.setupPrimary({ exec: path.join(__dirname, 'app.js') });
for (let i = 0; i < n; i++) cluster.fork();
let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
  setTimeout(() => process.exit(1), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
cluster.on('exit', () => {
  if (stopping && Object.keys(cluster.workers).length === 0) process.exit(0);
});
