// Soak run: the example gateway (real Envoy, ext-proc, demo models) under a steady mixed load
// for a few minutes, with faults injected now and then, reporting the ext-proc's memory at the
// start and at the end. A leak per request shows as a live heap that keeps rising.
//
//   npm run soak                          # 3 minutes, 8 clients
//   npm run soak -- --minutes 10 --concurrency 16 --no-faults
//
// "Live heap" is the lowest heap-used sample (one a second) in a 30 s window: garbage comes and
// goes between collections, what survives every collection is the floor. The verdict compares
// the floor of the last window with the floor of the first (after a warm-up).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, type Stack } from '../scripts/stack/index.js';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'examples/gateway.yaml' },
    minutes: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    'warmup-seconds': { type: 'string', default: '20' },
    'window-seconds': { type: 'string', default: '30' },
    /** Allowed growth of the live heap floor, in MiB, before the run is called a leak. */
    'max-growth-mib': { type: 'string', default: '8' },
    'no-faults': { type: 'boolean', default: false },
    /** Sent as `Authorization: Bearer …` (the example config's demo consumer). */
    'api-key': { type: 'string', default: 'demo-key' },
  },
});

const minutes = Number(values.minutes);
const concurrency = Number(values.concurrency);
const warmupMs = Number(values['warmup-seconds']) * 1000;
const windowMs = Number(values['window-seconds']) * 1000;
const SAMPLE_MS = 1_000;
const maxGrowthBytes = Number(values['max-growth-mib']) * 1024 * 1024;

interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
}

async function extProcMemory(stack: Stack): Promise<MemorySample> {
  const port = stack.extProcs[0]?.httpPort;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const metric = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').at(-1)) : Number.NaN;
  };
  return { at: Date.now(), rss: metric('gateway_ext_proc_process_resident_memory_bytes'), heapUsed: metric('gateway_ext_proc_nodejs_heap_size_used_bytes') };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** One request of the mix; each kind exercises a different ext-proc path. */
type Kind = 'v2' | 'tf' | 'chat' | 'stream' | 'stream-abort' | 'embeddings' | 'unknown-model' | 'bad-json' | 'no-key';
const KINDS: Kind[] = ['v2', 'v2', 'tf', 'chat', 'stream', 'stream-abort', 'embeddings', 'unknown-model', 'bad-json', 'no-key'];

async function send(stack: Stack, kind: Kind): Promise<number> {
  const post = (path: string, body: unknown, signal?: AbortSignal, key: string | undefined = values['api-key']) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-user-id': `user-${Math.floor(Math.random() * 100)}`,
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
  const chat = { model: 'tinylm', messages: [{ role: 'user', content: 'Tell me about the rabbit' }], max_tokens: 12 };
  let res: Response;
  switch (kind) {
    case 'v2':
      res = await post('/v2/models/sentiment/infer', { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['what a wonderful day'] }] });
      break;
    case 'tf':
      res = await post('/v1/models/iris:predict', { instances: [[5.1, 3.5, 1.4, 0.2]] });
      break;
    case 'chat':
      res = await post('/v1/chat/completions', chat);
      break;
    case 'stream':
      res = await post('/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } });
      break;
    case 'stream-abort': {
      // The client walks away mid-stream: the ext-proc must free that request's state.
      const abort = new AbortController();
      res = await post('/v1/chat/completions', { ...chat, max_tokens: 64, stream: true }, abort.signal);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      abort.abort();
      await reader.cancel().catch(() => {});
      return 499;
    }
    case 'embeddings':
      res = await post('/v1/embeddings', { model: 'tinylm', input: ['a rabbit', 'a queen'] });
      break;
    case 'unknown-model':
      res = await post('/v2/models/nope/infer', { inputs: [] });
      break;
    case 'bad-json':
      res = await post('/v1/chat/completions', '{"model": "tinylm", "messages": [');
      break;
    case 'no-key':
      res = await post('/v2/models/sentiment/infer', { inputs: [] }, undefined, '');
      break;
  }
  await res.arrayBuffer();
  return res.status;
}

/** Every 30 s, one model instance misbehaves for 5 s (errors, slowness, resets, not-ready). */
async function injectFaults(stack: Stack, until: number, log: (line: string) => void): Promise<void> {
  const modes = [
    { mode: 'error', status: 500 },
    { mode: 'slow', delayMs: 2_000 },
    { mode: 'reset' },
    { mode: 'notready' },
  ];
  const targets = [...stack.demos.values()].flat();
  for (let i = 0; Date.now() + 35_000 < until; i++) {
    await new Promise((r) => setTimeout(r, 30_000));
    const target = targets[i % targets.length];
    const fault = modes[i % modes.length];
    if (!target || !fault) continue;
    const set = (spec: unknown) =>
      fetch(`${target.url}/__demo/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(spec) });
    log(`fault: ${target.url} ${JSON.stringify(fault)} for 5 s`);
    await set(fault);
    await new Promise((r) => setTimeout(r, 5_000));
    await set({ mode: 'ok' });
  }
}

async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  log(`starting the stack from ${values.config} (free ports)`);
  const stack = await startStack({ config: resolve(values.config as string), ports: 'free', envoyLogLevel: 'error' });
  const statuses = new Map<number, number>();
  let requests = 0;
  let stopped = false;
  try {
    const startedAt = Date.now();
    const until = startedAt + warmupMs + minutes * 60_000;
    const workers = Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; !stopped; i++) {
        const kind = KINDS[i % KINDS.length] as Kind;
        let status: number;
        try {
          status = await send(stack, kind);
        } catch {
          status = 0;
        }
        requests++;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    });
    const faults = values['no-faults'] ? Promise.resolve() : injectFaults(stack, until, log);

    log(`warming up for ${warmupMs / 1000} s, then ${minutes} min at ${concurrency} clients`);
    await new Promise((r) => setTimeout(r, warmupMs));
    const windows: MemorySample[][] = [];
    const firstRequests = requests;
    const floor = (xs: MemorySample[]) => Math.min(...xs.map((x) => x.heapUsed));
    while (Date.now() < until) {
      const current: MemorySample[] = [];
      const windowEnd = Math.min(until, Date.now() + windowMs);
      while (Date.now() < windowEnd) {
        current.push(await extProcMemory(stack));
        await new Promise((r) => setTimeout(r, SAMPLE_MS));
      }
      windows.push(current);
      log(`${requests - firstRequests} requests · ext-proc rss ${mib(current.at(-1)?.rss ?? Number.NaN)} · live heap (window floor) ${mib(floor(current))}`);
    }
    stopped = true;
    await Promise.all(workers);
    await faults;

    // A short last window has too few samples to find the floor: judge by the last full one.
    const full = windows.filter((w) => w.length >= Math.floor(windowMs / SAMPLE_MS) - 1);
    const first = full[0] ?? windows[0] ?? [];
    const last = full.at(-1) ?? windows.at(-1) ?? [];
    const growth = floor(last) - floor(first);
    const seconds = (Date.now() - startedAt - warmupMs) / 1000;
    const total = requests - firstRequests;
    const report = {
      minutes,
      concurrency,
      requests: total,
      requestsPerSecond: Math.round(total / seconds),
      statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
      extProc: {
        rssStart: mib(first[0]?.rss ?? Number.NaN),
        rssEnd: mib(last.at(-1)?.rss ?? Number.NaN),
        liveHeapStart: mib(floor(first)),
        liveHeapEnd: mib(floor(last)),
        liveHeapGrowth: mib(growth),
        liveHeapPerWindow: windows.map((w) => mib(floor(w))),
      },
    };
    process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n`);
    const ok = growth <= maxGrowthBytes;
    log(ok ? `no memory growth beyond ${values['max-growth-mib']} MiB` : `live heap grew by ${mib(growth)}: look for a leak`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    stopped = true;
    await stack.stop();
  }
}

await main();
