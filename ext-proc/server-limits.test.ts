import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, z } from '../plugins/sdk/index.js';
import { msg, testRuntime } from '../test/harness/hostile-messages.js';
import { ExternalProcessorClient, type ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { createLogger } from './logger.js';
import { SseParser } from './pipeline/sse.js';
import { StreamLimitError } from './pipeline/request-guard.js';
import type { StreamAbortReason } from './pipeline/observer.js';
import { startExtProcServer, type ExtProcServer, type ServerLimits } from './server.js';
import { selectTransport } from './transport/select.js';

// The bounds of docs/security.md ("Bounds"): a stream that goes quiet is cut, an SSE event that
// never ends is cut, and the process takes at most maxStreams streams at once.

const ended: { id: string; cancelled: boolean }[] = [];
const recorder = definePlugin({
  type: 'test/limits-recorder',
  options: z.object({}),
  setup: () => ({ responseEvent: () => undefined, end: (ctx) => void ended.push({ id: ctx.request.id, cancelled: ctx.outcome.cancelled }) }),
});

const open: { server: ExtProcServer; client: ExternalProcessorClient }[] = [];
afterEach(async () => {
  for (const { server, client } of open.splice(0)) {
    client.close();
    await server.shutdown(100);
  }
});

async function start(limits: Partial<ServerLimits>) {
  const aborted: StreamAbortReason[] = [];
  const runtime = await testRuntime(
    { plugins: [{ type: 'model-router' }, { type: 'test/limits-recorder' }], models: { tinylm: { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:1'] } } } } },
    { plugins: [recorder] },
  );
  const server = await startExtProcServer({
    listen: { host: '127.0.0.1', port: 0 },
    transport: selectTransport('h2'),
    maxMessageBytes: 1024 * 1024,
    log: createLogger('silent'),
    runtime: () => runtime,
    limits,
    observer: { streamAborted: (r) => void aborted.push(r) },
  });
  const client = new ExternalProcessorClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
  open.push({ server, client });
  return { server, client, aborted };
}

const chat = (id: string) => msg.requestHeaders({ ':method': 'POST', ':path': '/v1/chat/completions', 'x-request-id': id, 'content-type': 'application/json' });
const chatBody = msg.requestBody(JSON.stringify({ model: 'tinylm', messages: [], stream: true }));

/** Opens a stream and returns a function giving its next answer or the error that ended it. */
function stream(client: ExternalProcessorClient) {
  const call = client.process();
  const queue: (ProcessingResponse | grpc.ServiceError)[] = [];
  const waiting: ((e: ProcessingResponse | grpc.ServiceError) => void)[] = [];
  const push = (e: ProcessingResponse | grpc.ServiceError) => (waiting.length > 0 ? waiting.shift()?.(e) : queue.push(e));
  call.on('data', push);
  call.on('error', push);
  const next = () => new Promise<ProcessingResponse | grpc.ServiceError>((resolve) => (queue.length > 0 ? resolve(queue.shift() as ProcessingResponse) : waiting.push(resolve)));
  return { call, next };
}

describe('stream bounds', () => {
  it('cuts a stream with no message for streamIdleTimeoutMs: DEADLINE_EXCEEDED, end hooks run as cancelled, counted', async () => {
    const { client, server, aborted } = await start({ streamIdleTimeoutMs: 50 });
    const s = stream(client);
    s.call.write(chat('quiet'));
    expect(((await s.next()) as ProcessingResponse).response?.$case).toBe('requestHeaders');
    // ...and then nothing: a peer that opened a stream and went quiet.
    const cut = (await s.next()) as grpc.ServiceError;
    expect(cut.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(aborted).toEqual(['idle_timeout']);
    for (let i = 0; i < 100 && !ended.some((e) => e.id === 'quiet'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(ended.find((e) => e.id === 'quiet')).toEqual({ id: 'quiet', cancelled: true });
    expect(server.inFlight()).toBe(0);
  });

  it('cuts a streamed SSE response whose event never ends past maxSseEventBytes: RESOURCE_EXHAUSTED', async () => {
    const { client, aborted } = await start({ maxSseEventBytes: 4096 });
    const s = stream(client);
    s.call.write(chat('endless-event'));
    await s.next();
    s.call.write(chatBody);
    await s.next();
    s.call.write(msg.responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }));
    expect(((await s.next()) as ProcessingResponse).modeOverride?.responseBodyMode).toBe(1); // STREAMED
    s.call.write(msg.responseBody(`data: ${'x'.repeat(3000)}`, false));
    expect(((await s.next()) as ProcessingResponse).response?.$case).toBe('responseBody');
    s.call.write(msg.responseBody('y'.repeat(3000), false));
    expect(((await s.next()) as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(aborted).toEqual(['limit']);
  });

  it('refuses streams beyond maxStreams with UNAVAILABLE (Envoy retries another replica), and takes new ones once they end', async () => {
    const { client, aborted } = await start({ maxStreams: 1 });
    const first = stream(client);
    first.call.write(chat('first'));
    await first.next();
    const second = stream(client);
    second.call.write(chat('second'));
    expect(((await second.next()) as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
    expect(aborted).toEqual(['overloaded']);
    first.call.end();
    await new Promise<void>((resolve) => first.call.on('status', () => resolve()));
    const third = stream(client);
    third.call.write(chat('third'));
    expect(((await third.next()) as ProcessingResponse).response?.$case).toBe('requestHeaders');
    third.call.end();
  });
});

describe('SSE parser', () => {
  it('finds events whose separator straddles one-byte chunks, and refuses an event past its bound', () => {
    const parser = new SseParser(64);
    const text = 'data: a\r\n\r\ndata: b\n\ndata: c\r\r';
    const events = [...Buffer.from(text)].flatMap((b) => parser.feed(Buffer.from([b])));
    expect(events.map((e) => e.event.data)).toEqual(['a', 'b', 'c']);
    expect(events.map((e) => e.raw).join('')).toBe(text);
    expect(() => parser.feed(Buffer.from(`data: ${'z'.repeat(100)}`))).toThrow(StreamLimitError);
  });
});
