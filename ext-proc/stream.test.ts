import { describe, expect, it } from 'vitest';
import { definePlugin, PluginError, z, type EndContext, type PluginHooks } from '../plugins/sdk/index.js';
import { createTestGateway, exampleModels, type TestPlugin } from '../plugins/sdk/testing.js';
import { StreamProcessor } from './stream.js';
import { CLUSTER_HEADER } from '../plugins/sdk/wire.js';
import { PhaseOrderError } from './phase-order.js';
import { createLogger } from './logger.js';
import { parseConfigText } from './config/load.js';
import { createRegistry } from './registry.js';
import { buildRuntime } from './runtime.js';

/** A plugin whose hooks are given by the test; `type` must be unique per gateway. */
function hooks(type: string, h: PluginHooks) {
  return definePlugin({ type, options: z.object({}).strict(), setup: () => h });
}

const gateway = (plugins: TestPlugin[], modelPlugins: Record<string, TestPlugin[]> = {}) =>
  createTestGateway({
    plugins: ['model-router', ...plugins],
    models: Object.fromEntries(Object.entries(exampleModels).map(([name, m]) => [name, { ...m, plugins: modelPlugins[name] ?? [] }])),
  });

const v2 = { path: '/v2/models/sentiment/versions/v1/infer', json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['ok'] }] } };
const chat = (extra: Record<string, unknown> = {}) => ({
  path: '/v1/chat/completions',
  json: { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], ...extra },
});

describe('every message gets the answer of its own kind', () => {
  it('for headers, buffered bodies and streamed bodies', async () => {
    const gw = await gateway([
      hooks('touch-all', {
        requestBody() {},
        responseBody() {},
        responseChunk() {},
      }),
    ]);
    const buffered = await gw.request(chat(), { upstream: { json: { ok: true } } });
    expect(buffered.phases).toEqual(['requestHeaders', 'requestBody', 'responseHeaders', 'responseBody']);
    for (const m of buffered.messages) expect(m.answer).toBe(m.phase);

    const streamed = await gw.request(chat({ stream: true }), { upstream: { sse: [{ n: 1 }, { n: 2 }, '[DONE]'] } });
    expect(streamed.phases).toEqual(['requestHeaders', 'requestBody', 'responseHeaders', 'responseBody', 'responseBody', 'responseBody', 'responseBody']);
    for (const m of streamed.messages) expect(m.answer).toBe(m.phase);
    expect(streamed.modes.responseBody).toBe('STREAMED');
  });

  it('refuses trailers the filter does not send (trailer mode SKIP) and a message without a phase', async () => {
    const processor = new StreamProcessor(await emptyRuntime(), createLogger('silent'));
    const trailers = { request: { $case: 'requestTrailers' as const, value: { trailers: { headers: [] } } }, attributes: {}, observabilityMode: false };
    await expect(processor.handle(trailers)).rejects.toThrow(PhaseOrderError);
    await expect(processor.handle({ request: undefined, attributes: {}, observabilityMode: false })).rejects.toThrow(/phase/);
  });
});

async function emptyRuntime() {
  const config = parseConfigText('models: {}');
  return buildRuntime({ config, hash: 'x', path: '/tmp/gateway.yaml' }, await createRegistry([]), createLogger('silent'));
}

describe('immediate responses', () => {
  it('a plugin stopping at request headers answers the client; no model server sees the request', async () => {
    const gw = await gateway([hooks('deny', { requestHeaders: (ctx) => ctx.respond({ status: 418, json: { teapot: true }, headers: { 'x-why': 'tea' } }) })]);
    const res = await gw.request(v2);
    expect(res.status).toBe(418);
    expect(res.json()).toEqual({ teapot: true });
    expect(res.headers['x-why']).toBe('tea');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.upstream).toBeUndefined();
    expect(res.phases).toEqual(['requestHeaders']);
    expect(res.outcome).toMatchObject({ status: 418, answeredBy: 'deny', cancelled: false });
  });

  it('ctx.fail speaks the client protocol: OpenAI error object vs V2 error string', async () => {
    const gw = await gateway([hooks('reject', { requestBody: (ctx) => ctx.fail(422, 'nope', { code: 'bad_thing', param: 'messages' }) })]);
    const openai = await gw.request(chat());
    expect(openai.status).toBe(422);
    expect(openai.json()).toEqual({ error: { message: 'nope', type: 'invalid_request_error', param: 'messages', code: 'bad_thing' } });
    const kserve = await gw.request({ ...v2, headers: { 'x-request-id': 'req-422' } });
    expect(kserve.status).toBe(422);
    expect(kserve.json()).toEqual({ error: 'nope', code: 'bad_thing', param: 'messages' });
    // The error reply carries the request's own id, so a client can quote it.
    expect(kserve.headers['x-request-id']).toBe('req-422');
  });

  it('a plugin can stop at response headers and at a buffered response body', async () => {
    const gw = await gateway([
      hooks('guard', {
        responseHeaders: (ctx) => (ctx.response.status === 503 ? ctx.fail(502, 'model unavailable') : undefined),
        responseBody: (ctx) => (ctx.json<{ secret?: string }>().secret ? ctx.fail(500, 'leak stopped', { code: 'leak' }) : undefined),
      }),
    ]);
    const down = await gw.request(v2, { upstream: { status: 503, json: { error: 'x' } } });
    expect(down.status).toBe(502);
    expect(down.json()).toEqual({ error: 'model unavailable' });
    expect(down.upstream).toBeDefined();
    const leak = await gw.request(v2, { upstream: { json: { secret: 's3cr3t' } } });
    expect(leak.status).toBe(500);
    expect(leak.text).not.toContain('s3cr3t');
    const fine = await gw.request(v2, { upstream: { json: { outputs: [] } } });
    expect(fine.status).toBe(200);
    expect(fine.json()).toEqual({ outputs: [] });
  });

  it('a PluginError with a client status is shown; anything else is a 500 with an error id, logged with plugin, hook and request id', async () => {
    const gw = await gateway([
      hooks('strict', {
        requestHeaders(ctx) {
          if (ctx.request.headers.get('x-mode') === 'quota') throw new PluginError(429, 'quota_exceeded', 'slow down', { headers: { 'retry-after': '3' } });
          if (ctx.request.headers.get('x-mode') === 'bug') throw new TypeError('cannot read x of undefined');
        },
      }),
    ]);
    const quota = await gw.request({ ...v2, headers: { 'x-mode': 'quota' } });
    expect(quota.status).toBe(429);
    expect(quota.headers['retry-after']).toBe('3');
    expect(quota.json()).toEqual({ error: 'slow down', code: 'quota_exceeded' });

    const bug = await gw.request({ ...v2, headers: { 'x-mode': 'bug', 'x-request-id': 'req-123' } });
    expect(bug.status).toBe(500);
    const errorId = bug.headers['x-gateway-error-id'] as string;
    expect(errorId).toMatch(/^[0-9a-f]{12}$/);
    expect(bug.json<{ error: string }>().error).toContain(errorId);
    expect(bug.text).not.toContain('cannot read');
    const line = bug.logs.find((l) => l.errorId === errorId);
    expect(line).toMatchObject({ plugin: 'strict', hook: 'requestHeaders', reqId: 'req-123', code: 'plugin_error' });
    expect(bug.outcome).toMatchObject({ answeredBy: 'strict', errorCode: 'plugin_error' });
  });

  it('a hook over its time budget answers 500 plugin_timeout, or is skipped when fail-open', async () => {
    const slow = hooks('slow', { requestHeaders: () => new Promise<void>(() => {}) });
    const closed = await gateway([{ plugin: slow, timeoutMs: 20 }]);
    const res = await closed.request(v2);
    expect(res.status).toBe(500);
    expect(res.json()).toMatchObject({ code: 'plugin_timeout' });
    expect(res.logs.find((l) => l.code === 'plugin_timeout')).toMatchObject({ plugin: 'slow', hook: 'requestHeaders', failOpen: false });

    const open = await gateway([{ plugin: slow, timeoutMs: 20, failOpen: true }]);
    const passed = await open.request(v2, { upstream: { json: { ok: 1 } } });
    expect(passed.status).toBe(200);
    expect(passed.upstream?.cluster).toBe('sentiment@v1');
    expect(passed.logs.find((l) => l.code === 'plugin_timeout')).toMatchObject({ plugin: 'slow', failOpen: true });
  });

  it('a fail-open plugin that throws is skipped and the rest of the chain still runs', async () => {
    const gw = await gateway([
      { plugin: hooks('flaky', { requestHeaders: () => { throw new Error('boom'); } }), failOpen: true },
      hooks('after', { requestHeaders: (ctx) => ctx.headers.set('x-after', 'ran') }),
    ]);
    const res = await gw.request(v2);
    expect(res.status).toBe(200);
    expect(res.upstream?.headers['x-after']).toBe('ran');
  });

  it('an unknown model or version named by a plugin is the client 404, never a fall-through', async () => {
    const gw = await createTestGateway({
      plugins: [hooks('pin', { requestHeaders: (ctx) => ctx.setRoute({ model: ctx.request.headers.get('x-model') ?? 'sentiment', version: ctx.request.headers.get('x-version') }) })],
      models: exampleModels,
    });
    expect((await gw.request({ ...v2, headers: { 'x-model': 'nope' } })).status).toBe(404);
    const badVersion = await gw.request({ ...v2, headers: { 'x-version': 'v9' } });
    expect(badVersion.status).toBe(404);
    expect(badVersion.json()).toMatchObject({ code: 'version_not_found' });
    const alias = await gw.request({ ...v2, headers: { 'x-version': 'canary' } });
    expect(alias.upstream?.cluster).toBe('sentiment@v2');
    expect(alias.route).toMatchObject({ model: 'sentiment', version: 'v2', reason: 'alias:canary' });
  });

  it('a client-sent cluster header never reaches routing', async () => {
    const gw = await gateway([]);
    const res = await gw.request({ ...v2, headers: { [CLUSTER_HEADER]: 'sentiment@v2' } });
    expect(res.upstream?.cluster).toBe('sentiment@v1');
  });
});

describe('mode overrides: Envoy is asked only for the phases the chain needs', () => {
  it('no body hooks: both bodies switched off at request headers', async () => {
    const gw = await gateway([hooks('headers-only', { requestHeaders: (ctx) => ctx.headers.set('x-seen', '1') })]);
    const res = await gw.request(v2, { upstream: { json: { outputs: [] } } });
    expect(res.phases).toEqual(['requestHeaders', 'responseHeaders']);
    expect(res.messages[0]?.modeOverride).toEqual({ requestBody: 'NONE', responseBody: 'NONE' });
    expect(res.json()).toEqual({ outputs: [] });
  });

  it('OpenAI needs the request body for its model name unless Envoy read it; the router does not ask for it when the path names the model', async () => {
    const gw = await gateway([]);
    expect((await gw.request(chat(), { envoyReadsBodyModel: false })).phases).toEqual(['requestHeaders', 'requestBody', 'responseHeaders']);
    expect((await gw.request(chat())).phases).toEqual(['requestHeaders', 'responseHeaders']);
    expect((await gw.request(v2)).phases).toEqual(['requestHeaders', 'responseHeaders']);
  });

  it('needs.requestBody decides per request, and a plugin that said no is not called', async () => {
    const calls: string[] = [];
    const gw = await gateway([
      definePlugin({
        type: 'picky',
        options: z.object({}),
        setup: () => ({
          needs: { requestBody: (request) => request.headers.get('x-inspect') === 'yes' },
          requestBody: (ctx) => void calls.push(ctx.request.id),
        }),
      }),
    ]);
    const skipped = await gw.request(v2);
    expect(skipped.phases).not.toContain('requestBody');
    const inspected = await gw.request({ ...v2, headers: { 'x-inspect': 'yes', 'x-request-id': 'inspect-me' } });
    expect(inspected.phases).toContain('requestBody');
    // On OpenAI the body is buffered for the router anyway: the picky plugin still is not called.
    await gw.request(chat(), { envoyReadsBodyModel: false });
    expect(calls).toEqual(['inspect-me']);
  });

  it('a response-body hook buffers non-streaming responses, and leaves SSE streams alone', async () => {
    const gw = await gateway([hooks('whole-body', { responseBody: (ctx) => ctx.replaceJson({ wrapped: ctx.json() }) })]);
    const json = await gw.request(v2, { upstream: { json: { a: 1 } } });
    expect(json.messages.find((m) => m.phase === 'responseHeaders')?.modeOverride?.responseBody).toBe('BUFFERED');
    expect(json.json()).toEqual({ wrapped: { a: 1 } });
    expect(json.headers['content-length']).toBe(String(json.body.length));

    const sse = await gw.request(chat({ stream: true }), { upstream: { sse: [{ a: 1 }, '[DONE]'] } });
    expect(sse.modes.responseBody).toBe('NONE');
    expect(sse.phases).not.toContain('responseBody');
  });

  it('SSE with an event hook is STREAMED; an event hook alone does not touch JSON responses', async () => {
    const gw = await gateway([hooks('events', { responseEvent() {} })]);
    const sse = await gw.request(chat({ stream: true }), { upstream: { sse: [{ a: 1 }, { a: 2 }, '[DONE]'] } });
    expect(sse.modes.responseBody).toBe('STREAMED');
    expect(sse.chunks.length).toBe(3);
    const json = await gw.request(chat(), { upstream: { json: { a: 1 } } });
    expect(json.modes.responseBody).toBe('NONE');
    expect(json.phases).not.toContain('responseBody');
  });

  it('needs.responseBody can keep the body phase off per response', async () => {
    const seen: number[] = [];
    const gw = await gateway([
      definePlugin({
        type: 'ok-only',
        options: z.object({}),
        setup: () => ({ needs: { responseBody: (response) => response.status === 200 }, responseBody: (ctx) => void seen.push(ctx.response.status) }),
      }),
    ]);
    const err = await gw.request(v2, { upstream: { status: 400, json: { error: 'bad' } } });
    expect(err.phases).not.toContain('responseBody');
    const ok = await gw.request(v2, { upstream: { json: {} } });
    expect(ok.phases).toContain('responseBody');
    expect(seen).toEqual([200]);
  });

  it('a chunk hook sees the whole body once when another plugin made it BUFFERED', async () => {
    const sizes: number[] = [];
    const gw = await gateway([
      hooks('upper', { responseBody: (ctx) => ctx.replaceBody(ctx.body.toString().toUpperCase()) }),
      hooks('count', { responseChunk: (ctx) => void sizes.push(ctx.chunk.length) }),
    ]);
    const res = await gw.request(v2, { upstream: { json: { label: 'ok' } } });
    expect(res.text).toBe('{"LABEL":"OK"}');
    expect(sizes).toEqual([res.body.length]);
  });
});

describe('the model chain joins once the model is known', () => {
  it('late: resolved from the OpenAI body, its requestHeaders hook still runs before its requestBody hook', async () => {
    const order: string[] = [];
    const modelPlugin = hooks('tiny-only', {
      requestHeaders: (ctx) => {
        order.push(`headers:${ctx.route.model}`);
        ctx.headers.set('x-tiny', 'yes');
      },
      requestBody: (ctx) => void order.push(`body:${(ctx.json() as { model: string }).model}`),
      responseHeaders: (ctx) => ctx.headers.set('x-tiny-response', 'yes'),
      end: (ctx) => void order.push(`end:${ctx.outcome.status}`),
    });
    const gw = await gateway([], { tinylm: [modelPlugin] });
    const res = await gw.request(chat());
    expect(order).toEqual(['headers:tinylm', 'body:tinylm', 'end:200']);
    expect(res.upstream?.headers['x-tiny']).toBe('yes');
    expect(res.headers['x-tiny-response']).toBe('yes');
    // Other models' requests never meet it.
    order.length = 0;
    await gw.request(v2);
    expect(order).toEqual([]);
  });

  it('early: resolved from the path, its requestBody hook makes Envoy send the body', async () => {
    const gw = await gateway([], { sentiment: [hooks('needs-body', { requestBody: (ctx) => ctx.replaceJson({ ...(ctx.json() as object), id: 'x' }) })] });
    const res = await gw.request(v2);
    expect(res.phases).toContain('requestBody');
    expect(res.upstream?.json()).toMatchObject({ id: 'x' });
    expect(res.upstream?.headers['content-length']).toBe(String(res.upstream?.body.length));
  });
});

describe('end hooks', () => {
  const recorder = () => {
    const ends: { ctx: EndContext; aborted: boolean }[] = [];
    const plugin = hooks('recorder', { end: (ctx) => void ends.push({ ctx, aborted: ctx.signal.aborted }) });
    return { ends, plugin };
  };

  it('run once after a normal exchange, with the outcome', async () => {
    const { ends, plugin } = recorder();
    const gw = await gateway([plugin]);
    await gw.request(v2, { upstream: { status: 201, json: {} } });
    expect(ends).toHaveLength(1);
    expect(ends[0]?.ctx.outcome).toEqual({ status: 201, cancelled: false });
    expect(ends[0]?.ctx.response?.status).toBe(201);
  });

  it('run after the client went away, with cancelled set and the signal aborted', async () => {
    const { ends, plugin } = recorder();
    const gw = await gateway([plugin]);
    const res = await gw.request(v2, { cancelAfter: 'requestHeaders' });
    expect(res.upstream).toBeUndefined();
    expect(ends).toHaveLength(1);
    expect(ends[0]?.ctx.outcome.cancelled).toBe(true);
    expect(ends[0]?.aborted).toBe(true);
  });

  it('run after a plugin failure, and a failing end hook does not stop the others', async () => {
    const { ends, plugin } = recorder();
    const gw = await gateway([
      hooks('crash', { requestHeaders: () => { throw new Error('x'); }, end: () => { throw new Error('end broke'); } }),
      plugin,
    ]);
    const res = await gw.request(v2);
    expect(res.status).toBe(500);
    expect(ends[0]?.ctx.outcome).toMatchObject({ status: 500, answeredBy: 'crash', errorCode: 'plugin_error', cancelled: false });
    expect(res.logs.find((l) => l.msg === 'end hook failed')).toMatchObject({ plugin: 'crash', hook: 'end' });
  });
});

describe('streamed SSE responses', () => {
  const split = ['data: {"choices":[{"delta":{"content":"Hel', 'lo"}}]}\n\ndata: {"choices":[{"delta"', ':{"content":" world"}}]}\n\n', 'data: [DONE]\n\n'];

  it('events split across chunks are reassembled before the hook sees them; untouched streams pass byte for byte', async () => {
    const seen: string[] = [];
    const gw = await gateway([hooks('watch', { responseEvent: (ctx) => void seen.push(ctx.done ? '[DONE]' : ctx.json<{ choices: { delta: { content: string } }[] }>()?.choices[0]?.delta.content ?? '?') })]);
    const res = await gw.request(chat({ stream: true }), { upstream: { chunks: split, headers: { 'content-type': 'text/event-stream' } } });
    expect(seen).toEqual(['Hello', ' world', '[DONE]']);
    expect(res.text).toBe(split.join(''));
    // Whole events leave together: the first chunk (half an event) is held back.
    expect(res.chunks[0]).toBe('data: {"choices":[{"delta":{"content":"Hello"}}]}\n\n');
  });

  it('events can be replaced or dropped; a throwing hook leaves the event alone and the next plugin still runs', async () => {
    const gw = await gateway([
      hooks('shout', {
        responseEvent(ctx) {
          const chunk = ctx.json<{ choices: { delta: { content: string } }[] }>();
          if (!chunk) return;
          const content = chunk.choices[0]?.delta.content ?? '';
          if (content.includes('world')) throw new Error('hook bug');
          ctx.replaceEvent({ data: JSON.stringify({ choices: [{ delta: { content: content.toUpperCase() } }] }) });
        },
      }),
      hooks('drop-done', { responseEvent: (ctx) => (ctx.done ? ctx.replaceEvent(null) : undefined) }),
    ]);
    const res = await gw.request(chat({ stream: true }), { upstream: { chunks: split, headers: { 'content-type': 'text/event-stream' } } });
    expect(res.events.map((e) => e.data)).toEqual(['{"choices":[{"delta":{"content":"HELLO"}}]}', '{"choices":[{"delta":{"content":" world"}}]}']);
    expect(res.status).toBe(200);
    expect(res.logs.some((l) => l.plugin === 'shout' && l.hook === 'responseEvent')).toBe(true);
  });

  it('works whether the end of stream comes with the last chunk or after it', async () => {
    const gw = await gateway([hooks('noop-events', { responseEvent() {} })]);
    for (const streamEnd of ['separate', 'last-chunk'] as const) {
      const res = await gw.request(chat({ stream: true }), { upstream: { chunks: [...split, 'data: unterminated'], headers: { 'content-type': 'text/event-stream' } }, streamEnd });
      expect(res.text).toBe([...split, 'data: unterminated'].join(''));
    }
  });
});

describe('harness routing', () => {
  it('routes to the fallback pair cluster Envoy has for a version with a fallback', async () => {
    const gw = await createTestGateway({
      plugins: ['model-router'],
      models: { sentiment: { protocol: 'kserve-v2', versions: ['v1', 'v2'], traffic: { weights: { v1: 0, v2: 1 }, fallback: 'v1' } } },
    });
    const res = await gw.request({ path: '/v2/models/sentiment/infer', json: {} });
    expect(res.upstream?.cluster).toBe('sentiment@v2~v1');
    expect(res.status).toBe(200);
  });

  it('routes with no plugin at all: routing is the core\'s', async () => {
    const gw = await createTestGateway({ models: exampleModels });
    const res = await gw.request({ path: '/v2/models/sentiment/infer', json: {} });
    expect(res.status).toBe(200);
    expect(res.upstream?.cluster).toBe('sentiment@v1');
  });

  it('answers 404 like Envoy when no model was picked', async () => {
    // An OpenAI request without a body names no model: nothing is routed, Envoy's last route answers.
    const gw = await createTestGateway({ models: exampleModels });
    const res = await gw.request({ method: 'POST', path: '/v1/chat/completions' });
    expect(res.status).toBe(404);
    expect(res.upstream).toBeUndefined();
    expect(res.phases).toEqual(['requestHeaders', 'responseHeaders']);
  });
});
