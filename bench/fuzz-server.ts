// The ext-proc side of `npm run fuzz`: the fuzzed chain on a gRPC server in its own process, so
// the RSS reported is the processor's alone. Talks to bench/fuzz.ts over the IPC channel.
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { createLogger } from '../ext-proc/logger.js';
import { startExtProcServer } from '../ext-proc/server.js';
import { FUZZ_MAX_MESSAGE_BYTES, FuzzState, fuzzConfig, fuzzPlugins } from '../test/harness/fuzz.js';
import { testRuntime } from '../test/harness/hostile-messages.js';
import { selectTransport } from '../ext-proc/transport/select.js';

export interface ServerStats {
  rss: number;
  heapUsed: number;
  /** V8's committed heap: what the live heap plus garbage and free pages hold. */
  heapTotal: number;
  /** Memory of Buffers and other objects outside the V8 heap. */
  external: number;
  /** Resident pages mapped from files (the node binary, libraries): not the process's doing. */
  rssFile: number;
  /** What V8 itself holds from malloc (compiler zones, tables), outside the heap. */
  v8Malloced: number;
  inFlight: number;
  /** Requests whose `end` has not run. */
  live: number;
  slots: number;
  violations: string[];
  pluginErrors: number;
  unhandled: number;
  aborted: Record<string, number>;
}

const state = new FuzzState();
let unhandled = 0;
process.on('unhandledRejection', () => void unhandled++);
const aborted: Record<string, number> = {};
const runtime = await testRuntime(fuzzConfig(), { plugins: fuzzPlugins(state) });
const server = await startExtProcServer({
  listen: { host: '127.0.0.1', port: 0 },
  transport: selectTransport('h2'),
  maxMessageBytes: FUZZ_MAX_MESSAGE_BYTES,
  log: createLogger('silent'),
  runtime: () => runtime,
  // Short, so streams a client abandons without a word (grpc-js reports no cancel for a stream
  // reset right after its headers) are reclaimed within the run; production keeps 300 s.
  limits: { streamIdleTimeoutMs: Number(process.env.FUZZ_IDLE_MS ?? 10_000) },
  observer: {
    pluginError: () => void state.pluginErrors++,
    streamAborted: (r) => void (aborted[r] = (aborted[r] ?? 0) + 1),
  },
});

process.on('message', (m: { type: 'stats' | 'gc' | 'stop' }) => {
  if (m.type === 'gc') (globalThis as { gc?: () => void }).gc?.();
  if (m.type === 'stop') {
    void server.shutdown(1000).then(() => process.exit(0));
    return;
  }
  const mem = process.memoryUsage();
  const stats: ServerStats = {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    rssFile: residentFileBytes(),
    v8Malloced: getHeapStatistics().malloced_memory,
    inFlight: server.inFlight(),
    live: state.live.size,
    slots: state.slotsInFlight(),
    violations: state.violations.slice(0, 20),
    pluginErrors: state.pluginErrors,
    unhandled,
    aborted,
  };
  process.send?.(stats);
});
/** RssFile of /proc/self/status, in bytes (0 where there is no /proc). */
function residentFileBytes(): number {
  try {
    const kb = /RssFile:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

// The run was stopped (Ctrl-C, a killed parent): don't outlive it.
process.on('disconnect', () => process.exit(0));
process.send?.({ port: server.port });
