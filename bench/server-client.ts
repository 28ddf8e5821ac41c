// bench:server's load: ext_proc streams over one HTTP/2 connection, as Envoy opens them, each
// sending the request's messages one at a time and waiting for each answer. A separate process,
// so its own work and garbage stay out of the server's figures.
//   node --import tsx bench/server-client.ts <port or socket path> <streams at once> <seconds> [<gap ms> <index of the response's first message>]
//   (messages: JSON on stdin)
import http2 from 'node:http2';
import net from 'node:net';
import { text } from 'node:stream/consumers';
import { PROCESS_PATH } from '../ext-proc/transport/types.js';
import { encodeFrame } from '../ext-proc/transport/frames.js';

const [where, ...rest] = process.argv.slice(2);
const [concurrent, seconds, gapMs = 0, responseStarts = -1] = rest.map(Number);
// With a gap (the cold path): `gapMs` idle before each stream and 1 ms before the response's
// first message (message `responseStarts`: the model's time), as at a low request rate.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const messages = (JSON.parse(await text(process.stdin)) as string[]).map((m) => encodeFrame(Buffer.from(m, 'base64')));
// A port, or a Unix socket's path.
const session = /^\d+$/.test(where as string)
  ? http2.connect(`http://127.0.0.1:${where}`)
  : http2.connect('http://localhost', { createConnection: () => net.connect(where as string) });
session.on('error', (err) => {
  process.stderr.write(`bench:server client: ${err.message}\n`);
  process.exit(1);
});
const until = Date.now() + (seconds as number) * 1000;
let streams = 0;
let failed = 0;

/** One ext_proc stream: a message, its answer (one DATA frame each here), the next, then the end. */
function stream(): Promise<void> {
  return new Promise((resolve) => {
    const s = session.request({ ':method': 'POST', ':path': PROCESS_PATH, 'content-type': 'application/grpc', te: 'trailers' });
    let next = 1;
    s.on('data', () => {
      if (next >= messages.length) s.end();
      else if (gapMs > 0 && next === responseStarts) void sleep(1).then(() => s.write(messages[next++]));
      else s.write(messages[next++]);
    });
    s.on('trailers', (t) => {
      if (t['grpc-status'] !== '0') failed++;
    });
    s.on('error', () => failed++);
    s.on('close', () => {
      streams++;
      resolve();
    });
    s.write(messages[0]);
  });
}

await Promise.all(Array.from({ length: concurrent as number }, async () => {
  while (Date.now() < until) {
    if (gapMs > 0) await sleep(gapMs);
    await stream();
  }
}));
session.close();
process.stdout.write(`${JSON.stringify({ streams, failed })}\n`);
