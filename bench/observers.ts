// The per-request cost of the request observers alone: the metrics (a phase per ext_proc
// message, then the request's counters and histograms) and the access line, on summaries like
// the bench's (a few models and consumers, token usage). bench:processor holds them inside the
// whole request (with an in-memory log sink); this isolates them, so a change to either shows
// above the machine's noise, and writes the access lines as the ext-proc does: batched by the
// stdout destination, here to /dev/null, the event loop turning every 50 requests.
//   node --import tsx bench/bundled.ts bench/observers.ts [--requests 300000]
import { parseArgs } from 'node:util';
import { createLogger, stdoutDestination } from '../ext-proc/logger.js';
import { createMetrics } from '../ext-proc/metrics.js';
import { accessLogger, metricsObserver } from '../ext-proc/observe.js';
import type { RequestSummary } from '../ext-proc/pipeline/observer.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '300000' } } });
const n = Number(values.requests);

const metrics = metricsObserver(createMetrics());
const access = accessLogger(createLogger('info', stdoutDestination('/dev/null')));
const PHASES = ['requestHeaders', 'requestBody', 'responseHeaders', 'responseBody'] as const;
const MODELS = ['tinylm', 'sentiment'];

function summary(i: number): RequestSummary {
  return {
    request: { id: `6c5e2b1a-2f4e-4c3b-9f0e-${i}`, method: 'POST', pathname: '/v1/chat/completions', protocol: 'openai' },
    route: { model: MODELS[i & 1], version: 'v1', reason: 'default' },
    vars: { consumer: { id: `team-${i & 3}` }, usage: { prompt: 12, completion: 30 } },
    response: { streaming: false },
    outcome: { status: 200 },
    elapsedMs: 1.234 + (i % 7),
    responseHeadersMs: 1.1,
    firstChunkMs: undefined,
    processingMs: 0.123,
  } as unknown as RequestSummary;
}

async function run(what: string, one: (r: RequestSummary) => void): Promise<void> {
  const loop = async (count: number) => {
    for (let i = 0; i < count; i++) {
      one(summary(i));
      if (i % 50 === 49) await new Promise(setImmediate);
    }
  };
  await loop(20_000); // warm-up (JIT)
  const cpu0 = process.cpuUsage();
  await loop(n);
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${what}: ${((cpu.user + cpu.system) / n).toFixed(2)} µs CPU/request\n`);
}

await run('metrics (4 phases + request)', (r) => {
  for (const p of PHASES) metrics.phase(p, 0.03);
  metrics.finished(r);
});
await run('access line, written', access);
