import { afterEach, describe, expect, it, vi } from 'vitest';
import { hashKey } from '../plugins/sdk/keys.js';
import { BODY_LENGTH_HEADER, CLUSTER_HEADER } from '../plugins/sdk/wire.js';
import { msg, testRuntime } from '../test/harness/hostile-messages.js';
import type { EnvoyRequest } from './envoy-decode.js';
import { BodyMode } from './envoy-messages.js';
import type { CommonResponse, ProcessingResponse } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { createLogger } from './logger.js';
import type { RequestSummary } from './pipeline/observer.js';
import { HeldBody, splitBodyAnswer } from './pipeline/pipelined.js';
import { DEFAULT_PROCESSOR_LIMITS, StreamProcessor } from './stream.js';

// A pipelined stream, as Envoy's pipelined filter sends it (send_body_without_waiting_for_header_response,
// STREAMED bodies): the headers and the body's chunks come back to back, and the processor answers
// the headers together with the body, once the body has ended.

const PIPELINED = { requestBodyMode: BodyMode.STREAMED, responseBodyMode: BodyMode.STREAMED, sendBodyWithoutWaitingForHeaderResponse: true };

const CHAIN = [
  { type: 'api-key-auth', options: { consumers: [{ id: 'alice', keys: [hashKey('alice-key')] }] } },
  { type: 'openai-validation' },
  { type: 'model-router' },
  { type: 'openai-usage', options: { forceStreamUsage: true } },
];

async function processor(maxHeldBodyBytes = DEFAULT_PROCESSOR_LIMITS.maxHeldBodyBytes, plugins = CHAIN, late?: (answers: readonly ProcessingResponse[]) => void) {
  const runtime = await testRuntime({
    envoy: { messageTimeoutMs: 1000 },
    plugins,
    models: { tinylm: { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:1'] } } } },
  });
  const finished: RequestSummary[] = [];
  const p = new StreamProcessor(runtime, createLogger('silent'), { finished: (s) => void finished.push(s) }, { ...DEFAULT_PROCESSOR_LIMITS, maxHeldBodyBytes }, late);
  return { p, finished };
}

const requestHeaders = (extra: Record<string, string> = {}): EnvoyRequest => ({
  ...msg.requestHeaders({ ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json', authorization: 'Bearer alice-key', ...extra }),
  protocolConfig: PIPELINED,
});
const chat = (extra: object = {}) => JSON.stringify({ model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], ...extra });
const completion = JSON.stringify({ id: 'c', object: 'chat.completion', model: 'tinylm', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });

const kinds = (answers: readonly ProcessingResponse[]) => answers.map((a) => a.response?.$case);
function commonOf(a: ProcessingResponse | undefined): CommonResponse | undefined {
  const r = a?.response;
  return r && r.$case !== 'immediateResponse' && 'response' in r.value ? r.value.response : undefined;
}
const setHeader = (a: ProcessingResponse | undefined, name: string) =>
  commonOf(a)?.headerMutation?.setHeaders.find((h) => h.header?.key === name)?.header?.rawValue?.toString('latin1');

describe('a pipelined stream', () => {
  it('answers the request headers with the body, routed, and the response headers with theirs', async () => {
    const { p, finished } = await processor();
    expect(await p.handle(requestHeaders())).toEqual([]);
    expect(await p.handle(msg.requestBody(chat(), false))).toEqual([]);
    const request = await p.handle(msg.requestBody('', true));
    expect(kinds(request)).toEqual(['requestHeaders', 'requestBody', 'requestBody']);
    // Routed from the body's model: the cluster header and a route recomputed, on the headers' answer.
    expect(setHeader(request[0], CLUSTER_HEADER)).toBe('tinylm@v1');
    expect(commonOf(request[0])?.clearRouteCache).toBe(true);
    // No mode_override: Envoy ignores it on a pipelined stream; the chunks leave untouched.
    expect(request[0]?.modeOverride).toBeUndefined();
    expect(commonOf(request[1])).toBeUndefined();
    expect(commonOf(request[2])).toBeUndefined();

    expect(await p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }))).toEqual([]);
    const response = await p.handle(msg.responseBody(completion, true));
    expect(kinds(response)).toEqual(['responseHeaders', 'responseBody']);
    // The whole body's length goes with the headers (Envoy makes it the content-length); never on the request side.
    expect(setHeader(response[0], BODY_LENGTH_HEADER)).toBe(String(Buffer.byteLength(completion)));
    expect(setHeader(request[0], BODY_LENGTH_HEADER)).toBeUndefined();
    expect(p.complete).toBe(true);
    await p.end(false);
    expect(finished[0]?.vars.usage).toMatchObject({ prompt: 7, completion: 3 });
  });

  it('puts a rewritten request body on the last chunk, clears the earlier ones and fixes content-length on the headers', async () => {
    const { p } = await processor();
    await p.handle(requestHeaders());
    await p.handle(msg.requestBody(chat({ stream: true }), false));
    const answers = await p.handle(msg.requestBody('', true));
    expect(kinds(answers)).toEqual(['requestHeaders', 'requestBody', 'requestBody']);
    expect(commonOf(answers[1])?.bodyMutation?.mutation).toEqual({ $case: 'clearBody', value: true });
    const last = commonOf(answers[2])?.bodyMutation?.mutation;
    expect(last?.$case).toBe('body');
    const sent = last?.$case === 'body' ? last.value : Buffer.alloc(0);
    // forceStreamUsage asked the stream for its usage chunk.
    expect(JSON.parse(sent.toString())).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(setHeader(answers[0], 'content-length')).toBe(String(sent.length));
  });

  it('names the length of a response body split over chunks, and of one a hook replaced', async () => {
    const { p } = await processor();
    await p.handle(requestHeaders());
    await p.handle(msg.requestBody(chat(), true));
    await p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }));
    expect(await p.handle(msg.responseBody(completion.slice(0, 10), false))).toEqual([]);
    const answers = await p.handle(msg.responseBody(completion.slice(10), true));
    expect(kinds(answers)).toEqual(['responseHeaders', 'responseBody', 'responseBody']);
    expect(setHeader(answers[0], BODY_LENGTH_HEADER)).toBe(String(Buffer.byteLength(completion)));

    const held = new HeldBody(1024);
    held.add(Buffer.from('twelve bytes'));
    const replaced: CommonResponse = { status: 0, headerMutation: undefined, bodyMutation: { mutation: { $case: 'body', value: Buffer.from('four') } }, clearRouteCache: false };
    const split = splitBodyAnswer('response', replaced, held);
    expect(setHeader(split[0], BODY_LENGTH_HEADER)).toBe('4');
    expect(setHeader(splitBodyAnswer('request', replaced, held)[0], BODY_LENGTH_HEADER)).toBeUndefined();
  });

  it('answers a refused request at once and drops the chunks Envoy had already sent', async () => {
    const { p } = await processor();
    const refused = await p.handle(requestHeaders({ authorization: 'Bearer wrong' }));
    expect(kinds(refused)).toEqual(['immediateResponse']);
    // Already on the wire when the refusal went out: no answer, and no protocol error.
    expect(await p.handle(msg.requestBody(chat(), true))).toEqual([]);
  });

  it('refuses an invalid body with the immediate response only: the held headers are never answered', async () => {
    const { p } = await processor();
    await p.handle(requestHeaders());
    const answers = await p.handle(msg.requestBody(JSON.stringify({ model: 'tinylm' }), true));
    expect(kinds(answers)).toEqual(['immediateResponse']);
    const r = answers[0]?.response;
    expect(r?.$case === 'immediateResponse' && r.value.status?.code).toBe(400);
  });

  it('answers 413 once a held body grows past the limit', async () => {
    const { p } = await processor(64);
    await p.handle(requestHeaders());
    const answers = await p.handle(msg.requestBody(chat({ pad: 'x'.repeat(100) }), false));
    expect(kinds(answers)).toEqual(['immediateResponse']);
    const r = answers[0]?.response;
    expect(r?.$case === 'immediateResponse' && r.value.status?.code).toBe(413);
  });

  it('answers streamed (SSE) response headers at once and every chunk as it comes', async () => {
    const { p } = await processor();
    await p.handle(requestHeaders());
    await p.handle(msg.requestBody(chat({ stream: true }), true));
    const headers = await p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }));
    expect(kinds(headers)).toEqual(['responseHeaders']);
    expect(kinds(await p.handle(msg.responseBody('data: {"choices":[]}\n\n', false)))).toEqual(['responseBody']);
    expect(kinds(await p.handle(msg.responseBody('data: [DONE]\n\n', true)))).toEqual(['responseBody']);
    expect(p.complete).toBe(true);
  });

  it('passes a body nobody reads straight through, one answer per chunk', async () => {
    // Without openai-usage nobody reads the response body, which comes all the same.
    const { p } = await processor(undefined, CHAIN.slice(0, 3));
    await p.handle(requestHeaders());
    await p.handle(msg.requestBody(chat(), true));
    expect(kinds(await p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' })))).toEqual(['responseHeaders']);
    expect(p.complete).toBe(false);
    const chunk = await p.handle(msg.responseBody(completion, true));
    expect(kinds(chunk)).toEqual(['responseBody']);
    expect(commonOf(chunk[0])).toBeUndefined();
    expect(p.complete).toBe(true);
  });

  it('refuses response headers while it holds the request: no response hook runs before the request body’s', async () => {
    const { p } = await processor();
    await p.handle(requestHeaders());
    await p.handle(msg.requestBody(chat(), false));
    await expect(p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }))).rejects.toThrow(/request headers are not answered yet/);
  });

  it('leaves a stream that is not pipelined as it was: one answer per message, with mode overrides', async () => {
    const { p } = await processor();
    const answers = await p.handle({ ...requestHeaders(), protocolConfig: { ...PIPELINED, sendBodyWithoutWaitingForHeaderResponse: false, requestBodyMode: BodyMode.BUFFERED, responseBodyMode: BodyMode.NONE } });
    expect(kinds(answers)).toEqual(['requestHeaders']);
    expect(answers[0]?.modeOverride?.requestBodyMode).toBe(BodyMode.BUFFERED);
    expect(kinds(await p.handle(msg.requestBody(chat(), true)))).toEqual(['requestBody']);
  });

  it('passes Envoy’s own reply to a request it never saw (the buffer filter’s 413) through untouched', async () => {
    const { p } = await processor();
    const headers = await p.handle({ ...msg.responseHeaders({ ':status': '413', 'content-type': 'application/json' }), protocolConfig: PIPELINED });
    expect(kinds(headers)).toEqual(['responseHeaders']);
    expect(commonOf(headers[0])).toBeUndefined();
    const body = await p.handle(msg.responseBody('{"error":{"message":"too large"}}', true));
    expect(kinds(body)).toEqual(['responseBody']);
    expect(commonOf(body[0])).toBeUndefined();
    expect(p.complete).toBe(true);
    // Its request is over: request headers after it are out of order (they ran the request's hooks, then a chunk found no response state: INTERNAL).
    await expect(p.handle(requestHeaders())).rejects.toThrow(/request headers after the response headers/);
    // Not on a stream that is not pipelined: there, response headers first are out of order.
    const { p: plain } = await processor();
    await expect(plain.handle(msg.responseHeaders({ ':status': '413' }))).rejects.toThrow(/no request headers yet/);
  });

  describe('a response body slower than half of the message timeout', () => {
    afterEach(() => void vi.useRealTimers());

    it('gets its headers answered without it, and then leaves as it came', async () => {
      vi.useFakeTimers();
      const late: (readonly ProcessingResponse[])[] = [];
      const { p, finished } = await processor(undefined, CHAIN, (answers) => void late.push(answers));
      await p.handle(requestHeaders());
      await p.handle(msg.requestBody(chat(), true));
      expect(await p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }))).toEqual([]);
      vi.advanceTimersByTime(499);
      expect(late).toEqual([]);
      // Envoy would give up on the headers at 1000 ms: they go at 500.
      vi.advanceTimersByTime(1);
      expect(late.map(kinds)).toEqual([['responseHeaders']]);
      // Its length is not known yet: the answer leaves chunked.
      expect(setHeader(late[0]?.[0], BODY_LENGTH_HEADER)).toBeUndefined();
      const rest = await p.handle(msg.responseBody(completion, true));
      expect(kinds(rest)).toEqual(['responseBody']);
      // Usage is still read from the body.
      await p.end(false);
      expect(finished[0]?.vars.usage).toMatchObject({ prompt: 7, completion: 3 });
    });

    it('is not answered early when the body ends in time', async () => {
      vi.useFakeTimers();
      const late: (readonly ProcessingResponse[])[] = [];
      const { p } = await processor(undefined, CHAIN, (answers) => void late.push(answers));
      await p.handle(requestHeaders());
      await p.handle(msg.requestBody(chat(), true));
      await p.handle(msg.responseHeaders({ ':status': '200', 'content-type': 'application/json' }));
      expect(kinds(await p.handle(msg.responseBody(completion, true)))).toEqual(['responseHeaders', 'responseBody']);
      vi.advanceTimersByTime(2000);
      expect(late).toEqual([]);
    });
  });
});
