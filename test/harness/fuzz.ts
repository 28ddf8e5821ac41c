// The processor fuzzer's model (issue 13), shared by the property test (ext-proc/fuzz.test.ts,
// short, in `npm test`) and the long run (bench/fuzz.ts): generated exchanges, a gateway chain
// that touches every phase, a probe that checks `end` and hook order, and a mini-Envoy that
// plays each exchange over gRPC, either as Envoy would (adapting to the mode overrides) or as
// a hostile peer (messages duplicated, dropped, swapped, inserted; streams cancelled).
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { hashKey } from '../../plugins/sdk/keys.js';
import { createConsumerLimits } from '../../plugins/consumer-limits/index.js';
import { definePlugin, z, type RequestVars } from '../../plugins/sdk/index.js';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { BodyMode } from '../../ext-proc/envoy-messages.js';
import { ProcessingMode_HeaderSendMode as HeaderMode } from '../../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import type { ExternalProcessorClient } from '../../ext-proc/gen/envoy/service/ext_proc/v3/external_processor.js';
import { bytes, closeAfterLast, eventsOf, message, mutate, type Hostility, type Sent, type WirePhase } from './fuzz-wire.js';
import { pipelinedArb, playPipelined, type Pipelined } from './fuzz-pipelined.js';

export { fuzzClient } from './fuzz-wire.js';
export { FUZZ_MAX_MESSAGE_BYTES } from './fuzz-pipelined.js';
export type { Hostility };

// ---- the gateway under test ----------------------------------------------------------------

/** What the probe and the limits saw; the invariants read this. */
export class FuzzState {
  readonly violations: string[] = [];
  /** Requests whose first hook ran and whose `end` has not yet. */
  readonly live = new Set<object>();
  stores: { totalInflight(): number }[] = [];
  pluginErrors = 0;

  slotsInFlight(): number {
    return this.stores.reduce((n, s) => n + s.totalInflight(), 0);
  }
}

/** Plugin types for the fuzzed chain: consumer-limits reporting its store, and the probe. */
export function fuzzPlugins(state: FuzzState) {
  const limits = createConsumerLimits({ type: 'fuzz/limits', onStore: (s) => void state.stores.push(s) });
  const seen = new WeakMap<RequestVars, { ended: boolean }>();
  const hook = (name: string) => (ctx: { vars: RequestVars }) => {
    let s = seen.get(ctx.vars);
    if (s === undefined && name === 'requestHeaders') {
      s = { ended: false };
      seen.set(ctx.vars, s);
      state.live.add(s);
    }
    if (s === undefined) state.violations.push(`${name} before requestHeaders`);
    else if (s.ended) state.violations.push(`${name} after end`);
  };
  const probe = definePlugin({
    type: 'fuzz/probe',
    options: z.object({}),
    setup: () => ({
      requestHeaders: hook('requestHeaders'),
      requestBody: hook('requestBody'),
      responseHeaders: hook('responseHeaders'),
      responseChunk: hook('responseChunk'),
      end(ctx) {
        const s = seen.get(ctx.vars);
        if (s === undefined) return; // the chain stopped before the probe (it runs first: never)
        if (s.ended) state.violations.push('end twice');
        s.ended = true;
        state.live.delete(s);
      },
    }),
  });
  return [limits, probe];
}

const V2_SIGNATURE = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }] };

/** The fuzzed chain: the probe first (it sees every request), then auth, routing, validation, usage, filtering, limits. */
export const FUZZ_CHAIN = [
  { type: 'fuzz/probe' },
  { type: 'api-key-auth', options: { consumers: [{ id: 'alice', keys: [hashKey('alice-key')] }], required: false } },
  { type: 'model-router' },
  { type: 'openai-validation', options: { maxBodyBytes: 64 * 1024 } },
  { type: 'kserve-v2-validation', options: { maxBodyBytes: 64 * 1024, signatures: { sentiment: V2_SIGNATURE } } },
  { type: 'openai-usage' },
  { type: 'sse-content-filter', options: { words: ['darn'] } },
  { type: 'fuzz/limits', options: { default: { maxConcurrent: 1_000 }, anonymous: { maxConcurrent: 1_000 }, waitForSlotMs: 0 } },
] as const;

export const FUZZ_MODELS = {
  sentiment: { protocol: 'kserve-v2', versions: ['v1', 'v2'] },
  tinylm: { protocol: 'openai', versions: ['v1'] },
  iris: { protocol: 'tfserving', versions: ['1'] },
} as const;

export function fuzzConfig(): GatewayConfigInput {
  const models = Object.fromEntries(
    Object.entries(FUZZ_MODELS).map(([name, m]) => [name, { protocol: m.protocol, versions: Object.fromEntries(m.versions.map((v) => [v, { endpoints: ['127.0.0.1:1'] }])) }]),
  );
  return { plugins: FUZZ_CHAIN.map((p) => ({ ...p })) as GatewayConfigInput['plugins'], models };
}

// ---- generated exchanges -------------------------------------------------------------------

export type Phase = 'requestHeaders' | 'requestBody' | 'responseHeaders' | 'responseBody';

export interface Exchange {
  method: string;
  path: string;
  headers: [string, Buffer][];
  /** Undefined: the request ends with its headers. */
  body: Buffer | undefined;
  status: string;
  responseHeaders: [string, Buffer][];
  /** Response body chunks; empty: the response ends with its headers. */
  chunks: Buffer[];
  /** How the peer departs from Envoy's order; `none` plays Envoy faithfully. */
  hostility: Hostility;
  /** Cancel the stream after this many answers (undefined: never). */
  cancelAfter: number | undefined;
  /** Played as Envoy's pipelined filter plays it (test/harness/fuzz-pipelined.ts); undefined: one answer awaited per message. */
  pipelined: Pipelined | undefined;
}

const text = fc.string({ maxLength: 40 });
const oddText = fc.string({ unit: 'binary', maxLength: 60 });
const chat = (extra: object = {}) => JSON.stringify({ model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], ...extra });

const pathArb = fc.oneof(
  fc.constantFrom(
    '/v1/chat/completions',
    '/v1/completions',
    '/v1/embeddings',
    '/v1/models',
    '/v1/models/tinylm',
    '/v1/models/%',
    '/v1/models/%zz:predict',
    '/v1/models/iris:predict',
    '/v1/models/iris/versions/1/metadata',
    '/v2/models/sentiment/infer',
    '/v2/models/sentiment/versions/v2/infer',
    '/v2/models/%C3%28/infer',
    '/v2/health/ready',
    '/',
    '',
  ),
  fc.tuple(fc.constantFrom('/v1/', '/v2/models/', '/v1/models/'), oddText).map(([a, b]) => a + b),
);

const headerName = fc.oneof(
  fc.constantFrom('x-api-key', 'authorization', 'content-type', 'content-length', 'x-request-id', 'x-model-version', 'x-gateway-cluster', 'accept', ':authority'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
);
const headerValue = fc.oneof(
  fc.constantFrom('alice-key', 'Bearer alice-key', 'Bearer nope', 'application/json', 'text/event-stream', '12', '-1', 'v2', 'stable', ''),
  oddText,
);
type HeaderList = [string, Buffer][];
const headersArb: fc.Arbitrary<HeaderList> = fc.oneof(
  { weight: 9, arbitrary: fc.array(fc.tuple(headerName, headerValue.map(bytes)), { maxLength: 8 }).map((l): HeaderList => l) },
  // Past the header bounds now and then: count or size.
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 200 }).map((n): HeaderList => Array.from({ length: n }, (_, i) => [`x-h${i}`, bytes('v')])) },
  { weight: 1, arbitrary: fc.constant(0).map((): HeaderList => [['x-big', Buffer.alloc(90 * 1024, 0x61)]]) },
);

const requestBodyArb = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(chat(), chat({ stream: true }), chat({ stream: true, stream_options: { include_usage: true } }), JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['ok'] }] }), '{"instances":[[1,2,3,4]]}', '', '{', '[]', '{"__proto__":{}}', '['.repeat(5000)).map(bytes),
  fc.json({ maxDepth: 4 }).map(bytes),
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
);

const sse = (o: unknown) => `data: ${typeof o === 'string' ? o : JSON.stringify(o)}\n\n`;
const chunkArb = fc.oneof(
  fc.constantFrom(
    sse({ choices: [{ index: 0, delta: { content: 'da' } }] }),
    sse({ choices: [{ index: 0, delta: { content: 'rn ok' }, finish_reason: 'stop' }] }),
    sse({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }),
    sse('[DONE]'),
    'data: {"choices":[{"index":7',
    '\n\n',
    '{"usage":{"prompt_tokens":1},"choices":[{"message":{"content":"darn"}}]}',
  ),
  oddText,
).map(bytes);

const hostilityArb: fc.Arbitrary<Hostility> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('duplicate' as const, 'drop' as const, 'swap' as const), at: fc.nat(6) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(6),
      phase: fc.constantFrom<WirePhase>('requestHeaders', 'requestBody', 'responseHeaders', 'responseBody', 'trailers', 'nophase'),
    }),
  },
);

const cancelArb = fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat(4) });
/** A third of the exchanges come on pipelined streams, as Envoy sends them on the routes that read both bodies. */
const pipelinedField = fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: pipelinedArb });
const responseHeadersArb = fc.array(fc.tuple(fc.constantFrom('content-type', 'x-model', 'content-length', 'x-gateway-upstream-version'), headerValue.map(bytes)), { maxLength: 3 });

/** Anything: odd methods, paths, headers and bodies in any combination. */
const randomExchange: fc.Arbitrary<Exchange> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'POST', 'PUT', 'DELETE', 'BREW'),
  path: pathArb,
  headers: headersArb,
  body: requestBodyArb,
  status: fc.constantFrom('200', '200', '400', '500', '503', 'abc', ''),
  responseHeaders: responseHeadersArb,
  chunks: fc.array(chunkArb, { maxLength: 5 }),
  hostility: hostilityArb,
  cancelAfter: cancelArb,
  pipelined: pipelinedField,
});

const json = (type: string): [string, Buffer] => ['content-type', bytes(type)];
const KEY: [string, Buffer] = ['x-api-key', bytes('alice-key')];
const V2_BODY = JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['ok'] }] });

/** Requests the chain lets through to a model, so the response phases run too. */
const realisticExchange: fc.Arbitrary<Exchange> = fc
  .record({
    kind: fc.constantFrom('chat', 'chat-stream', 'chat-stream', 'chat-stream', 'v2', 'tf', 'models'),
    withKey: fc.boolean(),
    extraHeaders: fc.array(fc.tuple(headerName, headerValue.map(bytes)), { maxLength: 3 }),
    status: fc.constantFrom('200', '200', '200', '500'),
    // Long answers: a stream costs more than a message, so these carry most of the messages.
    chunks: fc.array(chunkArb, { minLength: 1, maxLength: 40 }),
    hostility: hostilityArb,
    cancelAfter: cancelArb,
    pipelined: pipelinedField,
  })
  .map(({ kind, withKey, extraHeaders, status, chunks, hostility, cancelAfter, pipelined }): Exchange => {
    const base = { headers: [...(withKey ? [KEY] : []), json('application/json'), ...extraHeaders], status, chunks, hostility, cancelAfter, pipelined };
    switch (kind) {
      case 'chat':
        return { ...base, method: 'POST', path: '/v1/chat/completions', body: bytes(chat()), responseHeaders: [json('application/json')] };
      case 'chat-stream':
        return { ...base, method: 'POST', path: '/v1/chat/completions', body: bytes(chat({ stream: true })), responseHeaders: [json('text/event-stream')] };
      case 'v2':
        return { ...base, method: 'POST', path: '/v2/models/sentiment/infer', body: bytes(V2_BODY), responseHeaders: [json('application/json')] };
      case 'tf':
        return { ...base, method: 'POST', path: '/v1/models/iris:predict', body: bytes('{"instances":[[1,2,3,4]]}'), responseHeaders: [json('application/json')] };
      case 'models':
        return { ...base, method: 'GET', path: '/v1/models/tinylm', body: undefined, responseHeaders: [json('application/json')] };
    }
  });

/** Mostly realistic: those reach the response phases, where long streams carry most messages. */
export const exchangeArb: fc.Arbitrary<Exchange> = fc.oneof({ weight: 1, arbitrary: randomExchange }, { weight: 2, arbitrary: realisticExchange });

/** The same exchanges, all on pipelined streams. */
export const pipelinedExchangeArb: fc.Arbitrary<Exchange> = fc
  .tuple(exchangeArb, pipelinedArb)
  .map(([x, pipelined]) => ({ ...x, pipelined }));

// ---- playing one exchange over gRPC --------------------------------------------------------

/** The messages of an exchange when every phase is sent, before any hostility. */
function allMessages(x: Exchange): Sent[] {
  const out: Sent[] = [{ phase: 'requestHeaders', msg: message('requestHeaders', x, x.body === undefined) }];
  if (x.body !== undefined) out.push({ phase: 'requestBody', msg: message('requestBody', x, true) });
  out.push({ phase: 'responseHeaders', msg: message('responseHeaders', x, x.chunks.length === 0) });
  x.chunks.forEach((c, i) => out.push({ phase: 'responseBody', msg: message('responseBody', x, i === x.chunks.length - 1, c) }));
  return out;
}

export interface Played {
  sent: number;
  answers: number;
  immediate: boolean;
  /** The gRPC status code the stream ended with, when it was an error. */
  error: grpc.status | undefined;
  hang: boolean;
  cancelled: boolean;
  violations: string[];
}

/**
 * Plays one exchange. Faithful exchanges adapt like Envoy: a body only when the answer to the
 * headers asked for it, response headers only when asked for, chunks in the mode chosen.
 */
export async function play(client: ExternalProcessorClient, x: Exchange, opts: { hangMs: number }): Promise<Played> {
  if (x.pipelined) return playPipelined(client, x, x.pipelined, opts);
  const call = client.process();
  const r: Played = { sent: 0, answers: 0, immediate: false, error: undefined, hang: false, cancelled: false, violations: [] };
  const next = eventsOf(call, opts.hangMs);

  const faithful = x.hostility.kind === 'none';
  // The filter's modes until an answer overrides them (envoy/render.ts).
  const modes = { reqBody: BodyMode.BUFFERED as BodyMode, resHeaders: false, resBody: BodyMode.NONE as BodyMode };
  const list = mutate(allMessages(x), x.hostility, x);
  for (const { phase, msg } of list) {
    if (faithful) {
      if (phase === 'requestBody' && modes.reqBody === BodyMode.NONE) continue;
      if (phase === 'responseHeaders' && !modes.resHeaders) break;
      if (phase === 'responseBody' && modes.resBody === BodyMode.NONE) break;
      if (phase === 'responseBody' && modes.resBody === BodyMode.BUFFERED) {
        // Envoy buffers the whole body and sends it once.
        const whole = message('responseBody', x, true, Buffer.concat(x.chunks));
        call.write(whole);
        r.sent++;
        if (!(await answer('responseBody'))) break;
        break;
      }
    }
    if (x.cancelAfter !== undefined && r.answers >= x.cancelAfter) {
      r.cancelled = true;
      call.cancel();
      return r;
    }
    call.write(msg);
    r.sent++;
    if (!(await answer(phase))) break;
  }
  if (!r.cancelled && r.error === undefined && !r.hang) await closeAfterLast(call, next, r);
  if (r.hang) call.cancel();
  if (faithful && r.error !== undefined) r.violations.push(`Envoy's own order refused with gRPC status ${grpc.status[r.error]}`);
  if (r.error !== undefined && r.error !== grpc.status.FAILED_PRECONDITION && r.error !== grpc.status.RESOURCE_EXHAUSTED) {
    r.violations.push(`stream ended with gRPC status ${grpc.status[r.error] ?? r.error}`);
  }
  return r;

  /** Waits for the answer to one message; false when the exchange is over. */
  async function answer(phase: string): Promise<boolean> {
    const e = await next();
    if (e === 'hang') {
      r.hang = true;
      r.violations.push(`no answer to ${phase}`);
      return false;
    }
    if (e === 'end') {
      r.violations.push(`stream closed without answering ${phase}`);
      return false;
    }
    if (e instanceof Error) {
      r.error = (e as grpc.ServiceError).code;
      return false;
    }
    r.answers++;
    const kind = e.response?.$case;
    if (kind === 'immediateResponse') {
      r.immediate = true;
      return false;
    }
    const expected = phase === 'trailers' ? 'responseTrailers' : phase;
    if (kind !== expected) r.violations.push(`${phase} answered with ${kind ?? 'nothing'}`);
    const o = e.modeOverride;
    if (o && phase === 'requestHeaders') {
      modes.reqBody = o.requestBodyMode;
      modes.resHeaders = o.responseHeaderMode !== HeaderMode.SKIP;
    }
    if (o && (phase === 'requestHeaders' || phase === 'responseHeaders')) modes.resBody = o.responseBodyMode;
    return true;
  }
}

/** A fixed seed by default (CI reproducible); FUZZ_SEED picks another. */
export function fuzzSeed(): number {
  const env = process.env.FUZZ_SEED;
  return env === undefined ? 13 : Number(env);
}
