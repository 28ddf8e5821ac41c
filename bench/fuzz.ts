// The long fuzz run of issue 13: generated ext_proc exchanges (faithful and hostile, see
// test/harness/fuzz.ts) from concurrent clients against the ext-proc's gRPC server in its own
// process, until at least --messages messages went out. Prints the server's RSS over time, the
// answers, stream errors, hangs, invariant violations, leaked limit slots, and RSS after the load.
//
//   npm run fuzz                                   # 1,000,000 messages, 48 streams at once
//   npm run fuzz -- --messages 50000 --concurrency 16 --seed 7 --distinct 5000
import { fork, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { EXT_PROC_NODE_FLAGS } from '../ext-proc/node-flags.js';
import { exchangeArb, fuzzClient, play, type Exchange, type Played } from '../test/harness/fuzz.js';
import type { ServerStats } from './fuzz-server.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '48' },
    seed: { type: 'string', default: '13' },
    'hang-ms': { type: 'string', default: '15000' },
    distinct: { type: 'string', default: '20000' },
    /** Stop after this long even if --messages were not sent (0: no limit); the summary says so. */
    'max-minutes': { type: 'string', default: '0' },
    'report-seconds': { type: 'string', default: '10' },
    /** After the load: how long the server is left idle (V8 shrinks its heap after a few idle seconds) before RSS is read. */
    'settle-seconds': { type: 'string', default: '60' },
    /** "Back near idle": RSS after settling at most this much above idle, MiB. */
    'near-idle-mib': { type: 'string', default: '25' },
    /** Extra node flags for the server, after the ext-proc's own (so they win), e.g. "--heap-growing-percent=0". */
    'node-args': { type: 'string', default: '' },
  },
});
const target = Number(values.messages);
const concurrency = Number(values.concurrency);
const seed = Number(values.seed);
const hangMs = Number(values['hang-ms']);

const child: ChildProcess = fork(new URL('./fuzz-server.ts', import.meta.url).pathname, [], {
  execArgv: [...EXT_PROC_NODE_FLAGS, ...values['node-args'].split(' ').filter(Boolean), '--import', 'tsx', '--expose-gc'],
});
const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
const stats = (type: 'stats' | 'gc' = 'stats') =>
  new Promise<ServerStats>((resolve) => {
    child.once('message', (m: ServerStats) => resolve(m));
    child.send({ type });
  });

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
/** RSS split: V8's committed heap (of which live), Buffers, V8's own malloc, the rest (nghttp2, allocator free lists, freed heap pages not yet returned), file-mapped code. */
const memoryLine = (label: string, s: ServerStats) =>
  `${`${label}:`.padEnd(11)} heap ${mib(s.heapTotal)} (used ${mib(s.heapUsed)}), external ${mib(s.external)}, V8 malloc ${mib(s.v8Malloced)}, other native ${mib(Math.max(0, s.rss - s.heapTotal - s.rssFile - s.external - s.v8Malloced))}, file-mapped ${mib(s.rssFile)}`;
const idle = await stats('gc');
console.log(`fuzz: ${target.toLocaleString('en')} messages, ${concurrency} streams at once, seed ${seed}; ext-proc RSS idle ${mib(idle.rss)}; node flags ${child.spawnargs.filter((a) => a.startsWith('--') && !['--import', '--expose-gc'].includes(a)).join(' ')}`);

const client = fuzzClient(`127.0.0.1:${port}`);
const tally = { streams: 0, pipelined: 0, sent: 0, answers: 0, immediate: 0, cancelled: 0, hangs: 0, errors: {} as Record<string, number>, violations: 0 };
const firstViolations: { exchange: Exchange; played: Played }[] = [];

// Exchanges come from fast-check's generator in seeded batches (the run is reproducible) until
// --distinct of them exist; after that they are replayed in a seeded random order, since
// generating costs the client about as much as the server spends on an exchange.
const distinct = Number(values.distinct);
let batch = 0;
const pool: Exchange[] = [];
const rng = fc.sample(fc.nat(), { seed, numRuns: 1 })[0] ?? 1;
let replay = rng;
const nextExchange = (): Exchange => {
  if (pool.length < distinct) {
    const fresh = fc.sample(exchangeArb, { seed: seed + batch++, numRuns: 1 })[0] as Exchange;
    pool.push(fresh);
    return fresh;
  }
  replay = (replay * 1103515245 + 12345) % 2147483648;
  return pool[replay % pool.length] as Exchange;
};

const started = Date.now();
let rssPeak = idle.rss;
const report = setInterval(() => {
  void stats().then((s) => {
    rssPeak = Math.max(rssPeak, s.rss);
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    console.log(`  ${secs.padStart(4)} s  RSS ${mib(s.rss).padStart(10)}  heap ${mib(s.heapUsed).padStart(9)}  messages ${tally.sent.toLocaleString('en').padStart(9)}  streams in flight ${s.inFlight}`);
  });
}, Number(values['report-seconds']) * 1000);

// Ctrl-C or --max-minutes: stop sending, finish the streams in flight, print the summary.
let stopped = false;
process.once('SIGINT', () => (stopped = true));
const maxMs = Number(values['max-minutes']) * 60_000;
if (maxMs > 0) setTimeout(() => (stopped = true), maxMs).unref();

/** Pipelined streams that stall and go quiet, waiting for the server's idle cut: played aside, so they don't idle a worker. */
const quiet: Promise<void>[] = [];
async function worker(): Promise<void> {
  while (tally.sent < target && !stopped) {
    const exchange = nextExchange();
    const playing = play(client, exchange, { hangMs }).then((played) => count(exchange, played));
    if (exchange.pipelined?.stall?.then === 'quiet' && exchange.hostility.kind === 'none') quiet.push(playing);
    else await playing;
  }
}
function count(exchange: Exchange, played: Played): void {
  tally.streams++;
  if (exchange.pipelined) tally.pipelined++;
  tally.sent += played.sent;
  tally.answers += played.answers;
  if (played.immediate) tally.immediate++;
  if (played.cancelled) tally.cancelled++;
  if (played.hang) tally.hangs++;
  if (played.error !== undefined) {
    const name = grpc.status[played.error] ?? String(played.error);
    tally.errors[name] = (tally.errors[name] ?? 0) + 1;
  }
  if (played.violations.length > 0) {
    tally.violations++;
    if (firstViolations.length < 5) firstViolations.push({ exchange, played });
  }
}

await Promise.all(Array.from({ length: concurrency }, worker));
await Promise.all(quiet);
clearInterval(report);
const elapsed = (Date.now() - started) / 1000;

// Let the server close the last streams and run their `end` hooks.
let after = await stats();
for (let i = 0; i < 100 && (after.inFlight > 0 || after.live > 0); i++) {
  await new Promise((r) => setTimeout(r, 50));
  after = await stats();
}
rssPeak = Math.max(rssPeak, after.rss);
const loaded = after;
// Settling: the load is over and nothing happens; V8's memory reducer runs its shrinking GCs
// after some idle seconds, and freed pages go back to the OS (or stay with the allocator).
const settleMs = Number(values['settle-seconds']) * 1000;
const settleStart = Date.now();
while (Date.now() - settleStart < settleMs) {
  await new Promise((r) => setTimeout(r, Math.min(10_000, settleMs)));
  after = await stats();
  console.log(`  settling ${((Date.now() - settleStart) / 1000).toFixed(0).padStart(3)} s  RSS ${mib(after.rss).padStart(10)}  heap ${mib(after.heapUsed).padStart(9)} of ${mib(after.heapTotal)}`);
}
after = await stats('gc');
const nearIdleBytes = Number(values['near-idle-mib']) * 2 ** 20;
const backNearIdle = after.rss - idle.rss <= nearIdleBytes;

const violations = tally.violations + after.violations.length;
console.log(`
summary (${elapsed.toFixed(0)} s, ${Math.round(tally.sent / elapsed).toLocaleString('en')} messages/s${stopped ? `; stopped before the target of ${target.toLocaleString('en')}` : ''})
  streams            ${tally.streams.toLocaleString('en')} (pipelined: ${tally.pipelined.toLocaleString('en')})
  messages sent      ${tally.sent.toLocaleString('en')}
  answers            ${tally.answers.toLocaleString('en')} (immediate responses: ${tally.immediate.toLocaleString('en')})
  streams cancelled  ${tally.cancelled.toLocaleString('en')} (by the fuzzer)
  stream errors      ${JSON.stringify(tally.errors)} (server's reasons: ${JSON.stringify(after.aborted)})
  hangs              ${tally.hangs}
  violations         ${violations} (client side ${tally.violations}, server side ${after.violations.length})
  plugin errors      ${after.pluginErrors}
  unhandled rejections ${after.unhandled}
  requests without end ${after.live}
  leaked limit slots ${after.slots}
  ext-proc RSS       idle ${mib(idle.rss)}, peak ${mib(rssPeak)}, at the end of the load ${mib(loaded.rss)}, after settling ${settleMs / 1000} s (GC) ${mib(after.rss)}
  back near idle     ${backNearIdle ? 'yes' : 'NO'}: ${mib(after.rss - idle.rss)} above idle (bound ${mib(nearIdleBytes)}, --near-idle-mib)
  where RSS is       ${memoryLine('idle', idle)}
                     ${memoryLine('peak load', loaded)}
                     ${memoryLine('settled', after)}`);
for (const v of firstViolations) console.log('violation:', JSON.stringify(v.played.violations), JSON.stringify({ ...v.exchange, headers: v.exchange.headers.slice(0, 5).map(([k, b]) => [k, b.toString('latin1').slice(0, 40)]), body: v.exchange.body?.toString('latin1').slice(0, 80), chunks: v.exchange.chunks.map((c) => c.toString('latin1').slice(0, 40)), responseHeaders: undefined }));
for (const v of after.violations) console.log('server violation:', v);

client.close();
child.send({ type: 'stop' });
const failed = violations > 0 || tally.hangs > 0 || after.slots > 0 || after.live > 0 || after.unhandled > 0 || !backNearIdle;
process.exitCode = failed ? 1 : 0;
