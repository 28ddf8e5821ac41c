import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../plugins/sdk/keys.js';
import { createConsumerLimits } from '../plugins/consumer-limits/index.js';
import { definePlugin, z } from '../plugins/sdk/index.js';
import { msg, testRuntime } from '../test/harness/hostile-messages.js';
import { ExternalProcessorClient, type ProcessingRequest, type ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { createLogger } from './logger.js';
import { startExtProcServer, type ExtProcServer } from './server.js';
import type { StreamAbortReason } from './pipeline/observer.js';
import { selectTransport } from './transport/select.js';

// The findings of issue 13, played by a hostile client straight on the gRPC port: messages in
// orders Envoy never sends must end the stream with FAILED_PRECONDITION before any hook runs
// out of order, and leave nothing behind (consumer-limits slots, end hooks run once).

let store: { totalInflight(): number } | undefined;
const limits = createConsumerLimits({ type: 'test/order-limits', onStore: (s) => (store = s) });
const calls: string[] = [];
const pluginErrors: string[] = [];
const aborted: StreamAbortReason[] = [];
/** Records every hook call as `<request id>:<hook>`; `end` included. */
const recorder = definePlugin({
  type: 'test/order-recorder',
  options: z.object({}),
  setup: () => {
    const rec = (hook: string) => (ctx: { request: { id: string } }) => void calls.push(`${ctx.request.id}:${hook}`);
    return {
      // GETs carry no body the chain wants: the answer to their headers switches the body off.
      needs: { requestBody: (request) => request.method !== 'GET' },
      requestHeaders: rec('requestHeaders'), requestBody: rec('requestBody'), responseHeaders: rec('responseHeaders'), responseChunk: rec('responseChunk'), end: rec('end') };
  },
});

/** Holds requests carrying `x-slow` at request headers until the test opens the gate. */
let openGate: () => void = () => {};
let atGate: () => void = () => {};
const slow = definePlugin({
  type: 'test/order-slow',
  options: z.object({}),
  setup: () => ({
    requestHeaders: (ctx) => {
      if (!ctx.request.headers.has('x-slow')) return;
      atGate();
      return new Promise<void>((r) => (openGate = r));
    },
  }),
});

let server: ExtProcServer;
let client: ExternalProcessorClient;

beforeAll(async () => {
  const runtime = await testRuntime(
    {
      plugins: [
        { type: 'api-key-auth', options: { consumers: [{ id: 'alice', keys: [hashKey('alice-key')] }] } },
        { type: 'model-router' },
        { type: 'test/order-slow', timeoutMs: 5_000 },
        { type: 'test/order-limits', options: { default: { maxConcurrent: 2 }, waitForSlotMs: 0 } },
        { type: 'test/order-recorder' },
      ],
      models: { sentiment: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:1'] } } } },
    },
    { plugins: [limits, recorder, slow] },
  );
  server = await startExtProcServer({
    listen: { host: '127.0.0.1', port: 0 },
    transport: selectTransport('h2'),
    maxMessageBytes: 1024 * 1024,
    log: createLogger('silent'),
    runtime: () => runtime,
    observer: { pluginError: (plugin, hook) => void pluginErrors.push(`${plugin}.${hook}`), streamAborted: (r) => void aborted.push(r) },
  });
  client = new ExternalProcessorClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(1000);
});

interface Played {
  /** The kind of each answer, in order. */
  answers: string[];
  /** The gRPC status the stream ended with, when it was an error. */
  error: grpc.status | undefined;
}

/** Writes the messages one at a time, each after the previous one's answer; stops at the first error. */
async function play(messages: ProcessingRequest[]): Promise<Played> {
  const call = client.process();
  const answers: string[] = [];
  let error: grpc.status | undefined;
  const events: ((e: ProcessingResponse | grpc.ServiceError | null) => void)[] = [];
  const next = () => new Promise<ProcessingResponse | grpc.ServiceError | null>((resolve) => events.push(resolve));
  const emit = (e: ProcessingResponse | grpc.ServiceError | null) => events.shift()?.(e);
  call.on('data', (r: ProcessingResponse) => emit(r));
  call.on('error', (e: grpc.ServiceError) => emit(e));
  call.on('end', () => emit(null));
  for (const m of messages) {
    const answered = next();
    call.write(m);
    const e = await answered;
    if (e === null) break;
    if (e instanceof Error) {
      error = e.code;
      break;
    }
    answers.push(e.response?.$case ?? 'none');
  }
  if (error === undefined) {
    const closed = new Promise<void>((resolve) => call.on('status', () => resolve()));
    call.end();
    await closed;
  }
  return { answers, error };
}

const alice = (id: string, eos = false) =>
  msg.requestHeaders({ ':method': 'POST', ':path': '/v2/models/sentiment/infer', 'x-api-key': 'alice-key', 'x-request-id': id }, eos);
const body = msg.requestBody(JSON.stringify({ inputs: [] }));
const ok = msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }, false);

/** Waits until the server has closed every stream (it runs `end` hooks after the client side closed). */
async function settled(): Promise<void> {
  for (let i = 0; i < 200 && server.inFlight() > 0; i++) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 10));
}

const hooksOf = (id: string) => calls.filter((c) => c.startsWith(`${id}:`)).map((c) => c.slice(id.length + 1));

describe('messages out of Envoy order end the stream with FAILED_PRECONDITION', () => {
  it('a second request_headers: refused, its hooks never run twice, the slot is not leaked', async () => {
    // Before: each repeat took a second concurrency slot and freed one, so two such streams
    // throttled alice (at most 2 at a time) until a restart.
    for (const id of ['twice-1', 'twice-2', 'twice-3']) {
      const played = await play([alice(id), alice(id)]);
      expect(played).toEqual({ answers: ['requestHeaders'], error: grpc.status.FAILED_PRECONDITION });
      await settled();
      expect(hooksOf(id)).toEqual(['requestHeaders', 'end']);
    }
    expect(store?.totalInflight()).toBe(0);
    // alice is not throttled: a normal exchange goes through.
    const normal = await play([alice('after-twice'), body, ok]);
    expect(normal).toEqual({ answers: ['requestHeaders', 'requestBody', 'responseHeaders'], error: undefined });
    await settled();
    expect(store?.totalInflight()).toBe(0);
    expect(aborted.filter((r) => r === 'out_of_order').length).toBeGreaterThanOrEqual(3);
  });

  it('a response body before response headers: refused, no plugin reads a response that is not there', async () => {
    const before = pluginErrors.length;
    const played = await play([alice('early-body'), body, msg.responseBody('{}', true)]);
    expect(played).toEqual({ answers: ['requestHeaders', 'requestBody'], error: grpc.status.FAILED_PRECONDITION });
    await settled();
    expect(hooksOf('early-body')).toEqual(['requestHeaders', 'requestBody', 'end']);
    // Before: consumer-limits.responseChunk read `response.streaming` of undefined on every such stream.
    expect(pluginErrors.slice(before)).toEqual([]);
    expect(store?.totalInflight()).toBe(0);
  });

  it('request headers after response headers: refused', async () => {
    const played = await play([alice('late-headers'), body, ok, alice('late-headers')]);
    expect(played).toEqual({ answers: ['requestHeaders', 'requestBody', 'responseHeaders'], error: grpc.status.FAILED_PRECONDITION });
    await settled();
    expect(hooksOf('late-headers')).toEqual(['requestHeaders', 'requestBody', 'responseHeaders', 'end']);
    expect(store?.totalInflight()).toBe(0);
  });

  it('a body the processor switched off (mode override NONE): refused', async () => {
    // A GET-like request with a body the chain did not ask for: the answer said request body NONE.
    const played = await play([
      msg.requestHeaders({ ':method': 'GET', ':path': '/v2/models/sentiment', 'x-api-key': 'alice-key', 'x-request-id': 'no-body' }, false),
      body,
    ]);
    expect(played).toEqual({ answers: ['requestHeaders'], error: grpc.status.FAILED_PRECONDITION });
    await settled();
    expect(hooksOf('no-body')).toEqual(['requestHeaders', 'end']);
    expect(store?.totalInflight()).toBe(0);
  });

  it('a stream cancelled while an earlier hook waits: no later hook runs after end, no slot is taken', async () => {
    // Before: end ran at once (nothing to free), then the waiting phase went on and the limits
    // admitted the request, taking a slot no end would give back.
    const reached = new Promise<void>((r) => (atGate = r));
    const call = client.process();
    call.on('error', () => {}); // CANCELLED, expected
    call.write(msg.requestHeaders({ ':method': 'POST', ':path': '/v2/models/sentiment/infer', 'x-api-key': 'alice-key', 'x-request-id': 'cut', 'x-slow': '1' }));
    await reached;
    call.cancel();
    await settled();
    openGate();
    await new Promise((r) => setTimeout(r, 50));
    expect(hooksOf('cut')).toEqual(['end']);
    expect(store?.totalInflight()).toBe(0);
  });
});
