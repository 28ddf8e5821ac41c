// The ext-proc's own per-request work, without Envoy or gRPC transport: protobuf decode of the
// messages Envoy sends, the StreamProcessor with a chain, protobuf encode of the answers, the
// metrics and the access log. CPU time per request is steady even on a busy machine, so this
// is the number to compare before and after a hot-path change. `npm run bench:processor` runs it
// bundled as the ext-proc runs (bench/bundled.ts); `node --import tsx bench/processor.ts` runs the sources.
//   npm run bench:processor [-- --requests 20000 --mode full|headers|body]
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { decodeProcessingRequest } from '../ext-proc/envoy-decode.js';
import { encodeProcessingResponse } from '../ext-proc/envoy-encode.js';
import { ProcessingRequest, ProcessingResponse } from '../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import { createLogger } from '../ext-proc/logger.js';
import { createMetrics } from '../ext-proc/metrics.js';
import { accessLogger, combineObservers, metricsObserver } from '../ext-proc/observe.js';
import { StreamProcessor } from '../ext-proc/stream.js';
import type { GatewayConfigInput } from '../ext-proc/config/schema.js';
import { benchRuntime, msg } from './messages.js';
import { fullChainHeaders, UPSTREAM_BODY } from './configs.js';
import { gatewayConfig, targetList, type Target, type TargetKind } from './targets.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '20000' }, mode: { type: 'string', default: 'full' } } });
const n = Number(values.requests);
const mode = values.mode as string;

if (!['headers', 'body', 'full'].includes(mode)) throw new Error(`--mode is headers, body or full, not ${mode}`);
// The same configs and requests as `npm run bench`'s "ours" targets (body: router + openai-usage).
const config: GatewayConfigInput = await gatewayConfig(mode as TargetKind, 1);
const target = targetList([mode as TargetKind], [])[0] as Target;
const path = target.path;
const reqBody = target.body;

const sink = new Writable({ write: (_c, _e, cb) => cb() });
const log = createLogger('info', sink);
const runtime = await benchRuntime(config, log);
const metrics = createMetrics();
const observer = combineObservers(metricsObserver(metrics), { finished: accessLogger(log) });

const headers = {
  ':method': 'POST',
  ':path': path,
  ':authority': 'gateway',
  ':scheme': 'http',
  'content-type': 'application/json',
  'content-length': String(reqBody.length),
  'user-agent': 'h2load nghttp2/1.52.0',
  'x-forwarded-proto': 'http',
  'x-request-id': '6c5e2b1a-2f4e-4c3b-9f0e-1a2b3c4d5e6f',
  ...(mode === 'full' ? fullChainHeaders() : {}),
};
const wire = {
  // As the gateway's Envoy sends it: an OpenAI body's model comes with the headers.
  requestHeaders: ProcessingRequest.encode(msg.requestHeaders(headers, false, reqBody)).finish(),
  requestBody: ProcessingRequest.encode(msg.requestBody(reqBody)).finish(),
  responseHeaders: ProcessingRequest.encode(
    msg.responseHeaders({ ':status': '200', 'content-type': 'application/json', 'content-length': String(UPSTREAM_BODY.length), 'x-envoy-upstream-service-time': '1' }),
  ).finish(),
  responseBody: ProcessingRequest.encode(msg.responseBody(UPSTREAM_BODY)).finish(),
};

/** One request as Envoy drives it: each message decoded, handled, answered (encoded). */
async function one(): Promise<number> {
  const p = new StreamProcessor(runtime, log, observer);
  let messages = 0;
  for (const bytes of [wire.requestHeaders, wire.requestBody, wire.responseHeaders, wire.responseBody]) {
    const m = decodeProcessingRequest(bytes);
    // Skip phases the processor turned off, as Envoy would.
    if (m.request?.$case === 'requestBody' && skipRequestBody) continue;
    if (m.request?.$case === 'responseBody' && skipResponseBody) continue;
    const out = await p.handle(m);
    encodeProcessingResponse(out);
    messages++;
    if (out.response?.$case === 'immediateResponse') throw new Error('the bench request was refused: check BENCH_HEADERS');
    if (out.response?.$case === 'requestHeaders') skipRequestBody = out.modeOverride?.requestBodyMode === 0;
    if (out.response?.$case === 'responseHeaders') skipResponseBody = out.modeOverride === undefined;
  }
  await p.end(false);
  return messages;
}
let skipRequestBody = false;
let skipResponseBody = false;

for (let i = 0; i < 2000; i++) await one(); // warm-up (JIT)
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let messages = 0;
for (let i = 0; i < n; i++) messages += await one();
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${mode}: ${n} requests (${(messages / n).toFixed(0)} ext_proc messages each) in ${wall.toFixed(0)} ms: ` +
    `${(((cpu.user + cpu.system) / n)).toFixed(1)} µs CPU/request, ${Math.round((n / wall) * 1000)} requests/s on one core` +
    ` (heap ${((process.memoryUsage().heapUsed - heap0) / 2 ** 20).toFixed(1)} MB after)\n`,
);
