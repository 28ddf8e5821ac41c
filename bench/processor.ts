// The ext-proc's own per-request work, without Envoy or gRPC transport: protobuf decode of the
// messages Envoy sends, the StreamProcessor with a chain, protobuf encode of the answers, the
// metrics and the access log. CPU time per request is steady even on a busy machine, so this
// is the number to compare before and after a hot-path change. `npm run bench:processor` runs it
// bundled as the ext-proc runs (bench/bundled.ts); `node --import tsx bench/processor.ts` runs the sources.
//   npm run bench:processor [-- --requests 20000 --mode full|headers|body]
import { parseArgs } from 'node:util';
import { processorSetup, replay } from './processor-setup.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, mode: { type: 'string', default: 'full' } } });
const n = Number(values.requests);
const mode = values.mode as string;
const setup = await processorSetup(mode);

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
