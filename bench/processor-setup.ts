// What `bench:processor` and `bench:server` share: the "ours" target's config, runtime,
// observers (metrics and the access log into a sink) and the ext_proc messages of its request,
// as Envoy sends them (bytes on the wire).
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { decodeProcessingRequest } from '../ext-proc/envoy-decode.js';
import { encodeProcessingResponse } from '../ext-proc/envoy-encode.js';
import { ProcessingRequest } from '../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import { createLogger } from '../ext-proc/logger.js';
import { createMetrics } from '../ext-proc/metrics.js';
import { accessLogger, combineObservers, metricsObserver } from '../ext-proc/observe.js';
import type { RequestObserver } from '../ext-proc/pipeline/observer.js';
import type { Runtime } from '../ext-proc/runtime.js';
import { StreamProcessor } from '../ext-proc/stream.js';
import type { GatewayConfigInput } from '../ext-proc/config/schema.js';
import { benchRuntime, msg } from './messages.js';
import { fullChainHeaders, UPSTREAM_BODY } from './configs.js';
import { gatewayConfig, targetList, type Target, type TargetKind } from './targets.js';

export const PROCESSOR_MODES = ['headers', 'body', 'full'] as const;

/** The messages of one request, in the order Envoy sends them. */
export interface WireRequest {
  requestHeaders: Uint8Array;
  requestBody: Uint8Array;
  responseHeaders: Uint8Array;
  responseBody: Uint8Array;
}

export interface ProcessorSetup {
  log: Logger;
  runtime: Runtime;
  observer: RequestObserver;
  wire: WireRequest;
}

export async function processorSetup(mode: string, extra: RequestObserver = {}): Promise<ProcessorSetup> {
  if (!(PROCESSOR_MODES as readonly string[]).includes(mode)) throw new Error(`--mode is headers, body or full, not ${mode}`);
  // The same configs and requests as `npm run bench`'s "ours" targets (body: router + openai-usage).
  const config: GatewayConfigInput = await gatewayConfig(mode as TargetKind, 1);
  const target = targetList([mode as TargetKind], [])[0] as Target;
  const reqBody = target.body;

  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const log = createLogger('info', sink);
  const runtime = await benchRuntime(config, log);
  const metrics = createMetrics();
  const observer = combineObservers(metricsObserver(metrics), { finished: accessLogger(log) }, extra);

  const headers = {
    ':method': 'POST',
    ':path': target.path,
    ':authority': 'gateway',
    ':scheme': 'http',
    'content-type': 'application/json',
    'content-length': String(reqBody.length),
    'user-agent': 'h2load nghttp2/1.52.0',
    'x-forwarded-proto': 'http',
    'x-request-id': '6c5e2b1a-2f4e-4c3b-9f0e-1a2b3c4d5e6f',
    ...(mode === 'full' ? fullChainHeaders() : {}),
  };
  const wire: WireRequest = {
    // As the gateway's Envoy sends it: an OpenAI body's model comes with the headers.
    requestHeaders: ProcessingRequest.encode(msg.requestHeaders(headers, false, reqBody)).finish(),
    requestBody: ProcessingRequest.encode(msg.requestBody(reqBody)).finish(),
    responseHeaders: ProcessingRequest.encode(
      msg.responseHeaders({ ':status': '200', 'content-type': 'application/json', 'content-length': String(UPSTREAM_BODY.length), 'x-envoy-upstream-service-time': '1' }),
    ).finish(),
    responseBody: ProcessingRequest.encode(msg.responseBody(UPSTREAM_BODY)).finish(),
  };
  return { log, runtime, observer, wire };
}

export type Phase = keyof WireRequest;

/**
 * Idle time between a request's messages, as at a low request rate: the process sleeps before
 * the request's headers (until the next request) and before the response's (the model's time),
 * and `busyMs` adds up only the time spent on messages. After a few milliseconds asleep, the
 * CPU's caches no longer hold the process's code and data, and a message costs many times what
 * it does back to back: the cost that the p50 added at 200 req/s is made of.
 */
export interface Idle {
  betweenRequestsMs: number;
  upstreamMs: number;
  busyMs: number;
  wait(ms: number): Promise<void>;
  /** Each message's protobuf decode and its answer's encode (outside the processor's phase time). */
  codec?(what: 'decode' | 'encode', phase: Phase, ms: number): void;
}

export function idleGaps(betweenRequestsMs: number, upstreamMs: number, codec?: Idle['codec']): Idle {
  return { betweenRequestsMs, upstreamMs, busyMs: 0, wait: (ms) => new Promise((r) => setTimeout(r, ms)), codec };
}
const PHASES: readonly Phase[] = ['requestHeaders', 'requestBody', 'responseHeaders', 'responseBody'];

/**
 * One request through a StreamProcessor as Envoy drives it: each message decoded, handled and
 * its answer encoded; phases the processor turned off are skipped. Returns the phases sent.
 */
export async function replay({ runtime, log, observer, wire }: ProcessorSetup, idle?: Idle): Promise<Phase[]> {
  const p = new StreamProcessor(runtime, log, observer);
  const sent: Phase[] = [];
  let skipRequestBody = false;
  let skipResponseBody = false;
  for (const phase of PHASES) {
    if (phase === 'requestBody' && skipRequestBody) continue;
    if (phase === 'responseBody' && skipResponseBody) continue;
    if (idle && (phase === 'requestHeaders' || phase === 'responseHeaders')) await idle.wait(phase === 'requestHeaders' ? idle.betweenRequestsMs : idle.upstreamMs);
    const t0 = performance.now();
    const decoded = decodeProcessingRequest(wire[phase] as Buffer);
    const t1 = idle?.codec ? performance.now() : 0;
    const [out] = await p.handle(decoded);
    if (!out) throw new Error(`no answer to ${phase}`);
    const t2 = idle?.codec ? performance.now() : 0;
    encodeProcessingResponse(out);
    if (idle) {
      const t3 = performance.now();
      idle.busyMs += t3 - t0;
      idle.codec?.('decode', phase, t1 - t0);
      idle.codec?.('encode', phase, t3 - t2);
    }
    // As the server does once the answer is written (not in the answer's time).
    p.runDeferred();
    sent.push(phase);
    if (out.response?.$case === 'immediateResponse') throw new Error('the bench request was refused: check BENCH_HEADERS');
    if (out.response?.$case === 'requestHeaders') skipRequestBody = out.modeOverride?.requestBodyMode === 0;
    if (out.response?.$case === 'responseHeaders') skipResponseBody = out.modeOverride === undefined;
  }
  await p.end(false);
  return sent;
}
