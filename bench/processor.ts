// The ext-proc's own per-request work, without Envoy or gRPC transport: protobuf decode of the
// messages Envoy sends, the StreamProcessor with a chain, protobuf encode of the answers, the
// metrics and the access log. CPU time per request is steady even on a busy machine, so this
// is the number to compare before and after a hot-path change. `npm run bench:processor` runs it
// bundled as the ext-proc runs (bench/bundled.ts); `node --import tsx bench/processor.ts` runs the sources.
//   npm run bench:processor [-- --requests 20000 --mode full|headers|body] [--gap-ms 5: the cold path, per phase and hook, and
//   each message's protobuf decode and its answer's encode]
import { parseArgs } from 'node:util';
import { idleGaps, processorSetup, replay } from './processor-setup.js';
import { percentile } from './stats.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '20000' }, mode: { type: 'string', default: 'full' }, 'gap-ms': { type: 'string', default: '0' } },
});
const n = Number(values.requests);
const mode = values.mode as string;
const gapMs = Number(values['gap-ms']);
// Mean time per phase and per plugin hook, over the measured requests (the cold path only).
const spent = new Map<string, { n: number; ms: number }>();
let timing = false;
const add = (key: string, ms: number) => {
  if (!timing) return;
  const e = spent.get(key) ?? { n: 0, ms: 0 };
  e.n += 1;
  e.ms += ms;
  spent.set(key, e);
};
const setup = await processorSetup(mode, gapMs > 0 ? { phase: (p, ms) => add(`phase ${p}`, ms), hook: (p, h, ms) => add(`  ${p}.${h}`, ms) } : {});

if (gapMs > 0) {
  // The cold path: each request after `gapMs` idle, its response one millisecond after it.
  for (let i = 0; i < 500; i++) await replay(setup); // warm-up (JIT)
  const perRequest: number[] = [];
  timing = true;
  for (let i = 0; i < n; i++) {
    const idle = idleGaps(gapMs, 1, (what, phase, ms) => add(`${what} ${phase}`, ms));
    await replay(setup, idle);
    perRequest.push(idle.busyMs * 1000);
  }
  perRequest.sort((a, b) => a - b);
  const at = (q: number) => percentile(perRequest, q).toFixed(0);
  process.stdout.write(`${mode}, ${gapMs} ms idle before each request: ${n} requests, time on messages per request p50 ${at(0.5)} µs (p25 ${at(0.25)}, p75 ${at(0.75)}, p90 ${at(0.9)})\n`);
  // Phases in Envoy's order, each followed by its hooks in chain order (the order first seen).
  for (const [key, { n: count, ms }] of spent) process.stdout.write(`  ${key}: ${((ms / count) * 1000).toFixed(1)} µs mean over ${count}\n`);
  process.exit(0);
}

for (let i = 0; i < 2000; i++) await replay(setup); // warm-up (JIT)
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let messages = 0;
for (let i = 0; i < n; i++) messages += (await replay(setup)).length;
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${mode}: ${n} requests (${(messages / n).toFixed(0)} ext_proc messages each) in ${wall.toFixed(0)} ms: ` +
    `${(((cpu.user + cpu.system) / n)).toFixed(1)} µs CPU/request, ${Math.round((n / wall) * 1000)} requests/s on one core` +
    ` (heap ${((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toFixed(1)} MB after)\n`,
);
