// GET / -> "ok pid=P gen=G end\n": the generation is read once per process, at its
// first request (the module is also loaded by `next build`, where TP_GEN_FILE is unset).
import fs from 'node:fs';

export const dynamic = 'force-dynamic';
let gen = null;

export function GET() {
  if (gen === null) {
    gen = fs.readFileSync(process.env.TP_GEN_FILE, 'utf8').trim();
    fs.appendFileSync(process.env.TP_EVENTS, `start pid=${process.pid} gen=${gen}\n`);
  }
  const body = `ok pid=${process.pid} gen=${gen} end\n`;
  return new Response(body, {
    headers: {'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body))},
  });
}
