// What the metrics and the access log report for requests driven through the real
// processor by the SDK's Envoy simulator: labels, rejections, plugin failures, tokens, secrets.
import { describe, expect, it } from 'vitest';
import type { LevelWithSilent } from 'pino';
import { createMetrics } from '../../ext-proc/metrics.js';
import { accessLogger, combineObservers, metricsObserver, rejectionReason } from '../../ext-proc/observe.js';
import { definePlugin, PluginError, z } from '../../plugins/sdk/index.js';
import { createTestGateway, type TestGatewayOptions } from '../../plugins/sdk/testing.js';

declare module '../../plugins/sdk/types.js' {
  interface RequestVars {
    consumer?: { id: string };
  }
}

/** Stands in for an auth plugin: the consumer comes from a header; `x-deny` rejects. */
const fakeAuth = definePlugin({
  type: 'fake-auth',
  options: z.object({}),
  setup: () => ({
    requestHeaders(ctx) {
      if (ctx.request.headers.has('x-deny')) return ctx.fail(401, 'bad key', { code: 'invalid_api_key' });
      const id = ctx.request.headers.get('x-consumer');
      if (id) ctx.vars.consumer = { id };
    },
  }),
});
const flaky = definePlugin({
  type: 'flaky',
  options: z.object({}),
  setup: () => ({
    async requestHeaders(ctx) {
      if (ctx.request.headers.has('x-throw')) throw new Error('boom');
      if (ctx.request.headers.has('x-hang')) await new Promise((r) => setTimeout(r, 200));
      if (ctx.request.headers.has('x-limit')) throw new PluginError(429, 'rate_limit_exceeded', 'slow down');
    },
  }),
});

const chain: TestGatewayOptions = {
  plugins: [fakeAuth, { plugin: 'model-router', name: 'router' }, { plugin: flaky, timeoutMs: 20 }, { plugin: 'openai-usage', name: 'usage' }],
  models: {
    sentiment: { protocol: 'kserve-v2', versions: ['v1', 'v2'], aliases: { canary: 'v2' } },
    tinylm: { protocol: 'openai', versions: ['v1'] },
  },
};

/** A gateway whose metrics and access log are those the ext-proc wires up; `lines` is its log. */
async function gateway(logLevel: LevelWithSilent = 'info') {
  const metrics = createMetrics();
  const gw = await createTestGateway({ ...chain, logLevel, observe: (log) => combineObservers(metricsObserver(metrics), { finished: accessLogger(log) }) });
  return { gw, metrics, lines: () => gw.logs.map((l) => JSON.stringify(l)) };
}

async function setup() {
  const { gw, metrics, lines } = await gateway();
  const send = (headers: Record<string, string>, body?: unknown, response?: { status: number; body?: unknown }) => {
    const { ':path': path, ...rest } = headers;
    return gw.request(
      { method: 'POST', path: path as string, headers: rest, ...(body !== undefined && { json: body }) },
      { upstream: { status: response?.status ?? 200, ...(response?.body !== undefined && { json: response.body }) } },
    );
  };
  const value = async (name: string, labels: Record<string, string>) => {
    const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
    const match = (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l));
    return match.reduce((sum, v) => sum + v.value, 0);
  };
  return { send, value, lines, metrics };
}

describe('request metrics', () => {
  it('count requests by model, version, consumer, protocol and status class, and routing decisions by reason', async () => {
    const { send, value } = await setup();
    await send({ ':path': '/v2/models/sentiment/versions/v1/infer', 'x-consumer': 'team-a' }, undefined, { status: 200 });
    await send({ ':path': '/v2/models/sentiment/versions/canary/infer', 'x-consumer': 'team-a' }, undefined, { status: 200 });
    await send({ ':path': '/v2/models/sentiment/versions/v1/infer' }, undefined, { status: 503 });
    const req = (labels: Record<string, string>) => value('gateway_requests_total', labels);
    expect(await req({ model: 'sentiment', version: 'v1', consumer: 'team-a', protocol: 'kserve-v2', status_class: '2xx' })).toBe(1);
    expect(await req({ model: 'sentiment', version: 'v2', consumer: 'team-a', status_class: '2xx' })).toBe(1);
    expect(await req({ model: 'sentiment', version: 'v1', consumer: '', status_class: '5xx' })).toBe(1);
    expect(await value('gateway_route_decisions_total', { model: 'sentiment', version: 'v2', reason: 'alias:canary' })).toBe(1);
    expect(await value('gateway_request_duration_seconds', { model: 'sentiment', version: 'v1' })).toBeGreaterThan(0);
    expect(await value('gateway_response_headers_duration_seconds', { model: 'sentiment', version: 'v2' })).toBeGreaterThan(0);
  });

  it('count rejections by reason and stable code', async () => {
    const { send, value } = await setup();
    await send({ ':path': '/v2/models/sentiment/infer', 'x-deny': '1' });
    await send({ ':path': '/v2/models/nope/infer' });
    await send({ ':path': '/v2/models/sentiment/versions/v1/infer', 'x-limit': '1' });
    await send({ ':path': '/v1/chat/completions' }, { model: 'tinylm', messages: [] }, { status: 200 });
    expect(await value('gateway_rejections_total', { reason: 'auth', code: 'invalid_api_key' })).toBe(1);
    expect(await value('gateway_rejections_total', { reason: 'routing', code: 'model_not_found', model: '' })).toBe(1);
    expect(await value('gateway_rejections_total', { reason: 'limits', code: 'rate_limit_exceeded', model: 'sentiment' })).toBe(1);
    expect(await value('gateway_rejections_total', {})).toBe(3);
  });

  it('count plugin errors and timeouts by plugin and hook', async () => {
    const { send, value } = await setup();
    const thrown = await send({ ':path': '/v2/models/sentiment/versions/v1/infer', 'x-throw': '1' });
    await send({ ':path': '/v2/models/sentiment/versions/v1/infer', 'x-hang': '1' });
    expect(thrown.messages.at(-1)?.answer).toBe('immediateResponse');
    expect(await value('gateway_plugin_errors_total', { plugin: 'flaky', hook: 'requestHeaders', kind: 'error' })).toBe(1);
    expect(await value('gateway_plugin_errors_total', { plugin: 'flaky', hook: 'requestHeaders', kind: 'timeout' })).toBe(1);
    expect(await value('gateway_rejections_total', { reason: 'error', code: 'plugin_timeout' })).toBe(1);
  });

  it('count OpenAI tokens by model and consumer', async () => {
    const { send, value } = await setup();
    const usage = (p: number, c: number) => ({ choices: [], usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } });
    await send({ ':path': '/v1/chat/completions', 'x-consumer': 'team-a' }, { model: 'tinylm' }, { status: 200, body: usage(5, 20) });
    await send({ ':path': '/v1/chat/completions', 'x-consumer': 'team-a' }, { model: 'tinylm' }, { status: 200, body: usage(3, 4) });
    await send({ ':path': '/v1/chat/completions', 'x-consumer': 'team-b' }, { model: 'tinylm' }, { status: 200, body: usage(1, 1) });
    expect(await value('gateway_tokens_total', { model: 'tinylm', consumer: 'team-a', type: 'prompt' })).toBe(8);
    expect(await value('gateway_tokens_total', { model: 'tinylm', consumer: 'team-a', type: 'completion' })).toBe(24);
    expect(await value('gateway_tokens_total', { consumer: 'team-b' })).toBe(2);
  });

  it('measure the ext-proc work per phase and per request', async () => {
    const { send, metrics } = await setup();
    // `model@version` is rewritten in the body: all four phases run.
    await send({ ':path': '/v1/chat/completions' }, { model: 'tinylm@v1' }, { status: 200, body: { usage: { prompt_tokens: 1, completion_tokens: 1 } } });
    const json = await metrics.registry.getMetricsAsJSON();
    const phases = json.find((m) => m.name === 'gateway_ext_proc_phase_duration_seconds')?.values.filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count'));
    expect(phases?.map((v) => v.labels.phase).sort()).toEqual(['requestBody', 'requestHeaders', 'responseBody', 'responseHeaders']);
    const work = json.find((m) => m.name === 'gateway_ext_proc_request_duration_seconds')?.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'));
    expect(work?.value).toBe(1);
  });

  it('time each plugin hook only for an observer that asks (the bench), in chain order', async () => {
    const timed: string[] = [];
    const gw = await createTestGateway({ ...chain, observe: (log) => combineObservers({ finished: accessLogger(log) }, { hook: (plugin, hook, ms) => void timed.push(`${plugin}.${hook}:${ms >= 0}`) }) });
    await gw.request({ method: 'POST', path: '/v1/chat/completions', json: { model: 'tinylm' } }, { upstream: { status: 200, json: { usage: { prompt_tokens: 1, completion_tokens: 1 } } } });
    expect(timed.slice(0, 3)).toEqual(['fake-auth.requestHeaders:true', 'router.requestHeaders:true', 'flaky.requestHeaders:true']);
    expect(timed).toContain('usage.responseBody:true');
    // Without one, combining observers adds no `hook`: invokeHook then reads no clock.
    expect(combineObservers({ finished: () => undefined }).hook).toBeUndefined();
  });
});

describe('access log', () => {
  it('writes one line per request with id, consumer, model, version, status and latencies', async () => {
    const { send, lines } = await setup();
    await send({ ':path': '/v1/chat/completions', 'x-consumer': 'team-a', 'x-request-id': 'req-42' }, { model: 'tinylm' }, {
      status: 200,
      body: { usage: { prompt_tokens: 2, completion_tokens: 9 } },
    });
    await send({ ':path': '/v2/models/nope/infer', 'x-request-id': 'req-43' });
    const entries = lines().map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.log === 'access');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      reqId: 'req-42',
      consumer: 'team-a',
      model: 'tinylm',
      version: 'v1',
      protocol: 'openai',
      status: 200,
      promptTokens: 2,
      completionTokens: 9,
    });
    for (const k of ['durationMs', 'responseHeadersMs', 'extProcMs']) expect(typeof entries[0]?.[k]).toBe('number');
    expect(entries[1]).toMatchObject({ reqId: 'req-43', status: 404, errorCode: 'model_not_found', answeredBy: 'router' });
  });

  it('never contains a credential, even at trace level', async () => {
    const { gw, lines } = await gateway('trace');
    const secret = 'sk-live-0123456789abcdef';
    await gw.request({
      method: 'POST',
      path: `/v2/models/sentiment/versions/v1/infer?api_key=${secret}-q`,
      headers: {
        authorization: `Bearer ${secret}-a`,
        'x-api-key': `${secret}-b`,
        'x-custom-token': `${secret}-c`,
        cookie: `session=${secret}-d`,
        'x-throw': '1',
      },
    });
    expect(lines().some((l) => l.includes('"request headers"'))).toBe(true);
    expect(lines().some((l) => l.includes('plugin failed'))).toBe(true);
    expect(lines().some((l) => l.includes('"log":"access"'))).toBe(true);
    for (const l of lines()) expect(l).not.toContain(secret);
  });

  it('is silenced with the level above info', async () => {
    const { gw, lines } = await gateway('warn');
    await gw.request({ method: 'GET', path: '/v2/models/sentiment/versions/v1' });
    expect(lines()).toEqual([]);
  });
});

describe('rejectionReason', () => {
  it.each([
    [401, undefined, 'auth'],
    [403, 'forbidden_model', 'auth'],
    [400, 'invalid_request', 'validation'],
    [413, undefined, 'validation'],
    [429, undefined, 'limits'],
    [429, 'concurrency_limit_exceeded', 'limits'],
    [503, 'jwks_unavailable', 'error'],
    [404, 'model_not_found', 'routing'],
    [500, 'plugin_error', 'error'],
  ] as const)('%i %s → %s', (status, code, reason) => {
    expect(rejectionReason(status, code)).toBe(reason);
  });
});

