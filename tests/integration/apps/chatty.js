// chatty.js: writes known lines to stdout and stderr, then (CHATTY_FLOOD=1) floods
// stdout until stopped, or idles until SIGTERM. For test_log_prefix.py.
'use strict';
const k = process.env.NODE_APP_INSTANCE;
for (let i = 0; i < 3; i++) console.log(`line ${i} from ${k}`);
console.error(`err from ${k}`);
process.stdout.write('x'.repeat(20000) + '\n');
process.on('SIGTERM', () => process.exit(0));
if (process.env.CHATTY_FLOOD === '1') {
  const chunk = `flood from ${k} ` + 'y'.repeat(200) + '\n';
  const flood = () => { while (process.stdout.write(chunk)) {} process.stdout.once('drain', flood); };
  flood();
} else {
  setInterval(() => {}, 1000);
}
