// The ext-proc's work per stream through a real transport, without Envoy: the ext_proc server
// in this process with the "ours" target's chain (as bench:processor), driven over loopback
// by a separate Node process (bench/server-client.ts) with the request's messages on N streams
// at once. Reports server CPU per stream and the GCs it ran: what bench:processor cannot see
// (the transport, the server loop, garbage that outlives a request because something long-lived
// holds it; docs/performance.md, "Session 6"). Bundled as the ext-proc runs (bench/bundled.ts).
//   npm run bench:server [-- --mode full|headers|body --streams 16 --seconds 4 --transport h2]
//   [--gap-ms 5 --streams 1: the cold path, each stream after an idle gap; event loop busy time per stream] [--socket]
//   V8 flags on top of the ext-proc's (e.g. --trace-gc-nvp, whose `promoted=` shows what outlived
//   its request): node <ext-proc/node-flags.ts flags> <flags> .tmp/bundled-server.mjs [args], once built.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants, performance as perf } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startExtProcServer, type TransportName } from '../ext-proc/server.js';
import { REPO_ROOT } from '../scripts/envoy-bin.js';
import { processorSetup, replay } from './processor-setup.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'full' },
    streams: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '4' },
    'warmup-seconds': { type: 'string', default: '1' },
    transport: { type: 'string', default: 'h2' },
    'gap-ms': { type: 'string', default: '0' },
    // A Unix socket instead of loopback TCP (extProc.socket, the sidecar shape).
    socket: { type: 'boolean', default: false },
  },
});
// The cold path (as bench:processor --gap-ms, with the transport): idle before each stream.
const gapMs = Number(values['gap-ms']);
const mode = values.mode as string;
const setup = await processorSetup(mode);
const phases = await replay(setup); // also the first request of the warm-up

let streams = 0;
const gcs = { minor: 0, major: 0, pauseMs: 0 };
const server = await startExtProcServer({
  listen: values.socket ? { path: join(tmpdir(), `bench-server-${process.pid}.sock`) } : { host: '127.0.0.1', port: 0 },
  transport: values.transport as TransportName,
  maxMessageBytes: 4 * 1024 * 1024,
  log: setup.log,
  runtime: () => setup.runtime,
  observer: setup.observer,
  onStream: () => streams++,
});
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major++;
    gcs.pauseMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

const warmupS = Number(values['warmup-seconds']);
const clientArgs = [values.socket ? join(tmpdir(), `bench-server-${process.pid}.sock`) : String(server.port), values.streams as string, String(Number(values.seconds) + warmupS), String(gapMs), String(phases.indexOf('responseHeaders'))];
const client = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench/server-client.ts'), ...clientArgs], {
  cwd: REPO_ROOT,
  stdio: ['pipe', 'pipe', 'inherit'],
});
client.stdin.end(JSON.stringify(phases.map((p) => Buffer.from(setup.wire[p]).toString('base64'))));
let out = '';
client.stdout.on('data', (c: Buffer) => (out += c.toString()));

// The client takes a moment to start: the measured window opens once it is sending.
await new Promise((r) => setTimeout(r, warmupS * 1000 + 500));
streams = 0;
Object.assign(gcs, { minor: 0, major: 0, pauseMs: 0 });
const cpu0 = process.cpuUsage();
const elu0 = perf.eventLoopUtilization();
const t0 = performance.now();
const code = await new Promise<number | null>((resolve) => client.on('exit', resolve));
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
// Time the event loop spent running callbacks (not waiting for I/O): with a gap, the cold cost of a stream.
const activeMs = perf.eventLoopUtilization(elu0).active;
const { failed } = JSON.parse(out || '{"failed":-1}') as { failed: number };
if (code !== 0 || failed !== 0) throw new Error(`the client failed (exit ${code}, ${failed} streams without grpc-status 0)`);
const per10k = (n: number) => ((n / Math.max(1, streams)) * 10_000).toFixed(1);
process.stdout.write(
  `${mode} over ${values.transport}${values.socket ? ' (Unix socket)' : ''}, ${values.streams} streams at once: ${streams} streams in ${wall.toFixed(0)} ms (${phases.length} messages each): ` +
    `${((cpu.user + cpu.system) / Math.max(1, streams)).toFixed(1)} µs server CPU/stream (${(cpu.system / Math.max(1, streams)).toFixed(1)} in the kernel), ${Math.round((streams / wall) * 1000)} streams/s` +
    `${gapMs > 0 ? ` (${gapMs} ms idle before each: event loop busy ${((activeMs * 1000) / Math.max(1, streams)).toFixed(1)} µs/stream)` : ''}; ` +
    `per 10,000 streams ${per10k(gcs.minor)} scavenges, ${per10k(gcs.major)} full GCs, ${((gcs.pauseMs / Math.max(1, streams)) * 10_000).toFixed(0)} ms in GC\n`,
);
await server.shutdown(0);
process.exit(0);
