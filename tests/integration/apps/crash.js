// crash.js: prints "crash pid=P instance=K" and exits 1 at once.
'use strict';
console.log(`crash pid=${process.pid} instance=${process.env.NODE_APP_INSTANCE}`);
process.exit(1);
