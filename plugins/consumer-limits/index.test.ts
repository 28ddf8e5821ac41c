import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, z } from '../sdk/index.js';
import { createTestGateway, exampleModels, type TestGateway, type TestPlugin, type UpstreamResponse } from '../sdk/testing.js';
import { createConsumerLimits } from './index.js';
import { as, auth, manualClock } from './test-support.js';

const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] };
const chat = { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }] };
const infer = (headers: Record<string, string> = {}) => ({ path: '/v2/models/sentiment/infer', headers, json: v2 });
const chatReq = (headers: Record<string, string> = {}) => ({ path: '/v1/chat/completions', headers, json: chat });

/** A model answer the test releases when it wants: the request stays in flight until then. */
function heldUpstream() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { upstream: async (): Promise<UpstreamResponse> => (await gate, { json: { ok: true } }), release };
}

const gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function gateway(limits: TestPlugin, extra: { after?: TestPlugin[]; before?: TestPlugin[] } = {}): Promise<TestGateway> {
  const gw = await createTestGateway({ plugins: [auth, ...(extra.before ?? ['model-router']), limits, ...(extra.after ?? [])], models: exampleModels });
  gateways.push(gw);
  return gw;
}

describe('consumer-limits: request rate', () => {
  it('admits the burst, then answers 429 in the V2 shape with Retry-After and the rate headers', async () => {
    const clock = manualClock();
    const plugin = createConsumerLimits({ now: clock.now, type: 'test/limits-v2' });
    const gw = await gateway({ plugin, options: { default: { requestsPerSecond: 2, burst: 3 } } });
    for (let i = 0; i < 3; i++) {
      const ok = await gw.request(infer(as('alice')));
      expect(ok.status).toBe(200);
      expect(ok.headers['x-ratelimit-remaining-requests']).toBe(String(2 - i));
      expect(ok.headers['x-ratelimit-limit-requests']).toBe('3');
    }
    const res = await gw.request(infer(as('alice')));
    expect(res.status).toBe(429);
    expect(res.upstream).toBeUndefined();
    expect(res.json()).toEqual({ error: "Rate limit reached for consumer 'alice' (2 requests per second, burst 3); retry in 1 s", code: 'rate_limit_exceeded' });
    expect(res.headers).toMatchObject({
      'retry-after': '1',
      'retry-after-ms': '500',
      'x-ratelimit-limit-requests': '3',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '1.5s',
    });
    expect(res.outcome).toMatchObject({ status: 429, errorCode: 'rate_limit_exceeded', answeredBy: 'test/limits-v2' });
    expect(res.logs.find((l) => l.msg === 'request over its rate limit')).toMatchObject({ consumer: 'alice', limit: 'rate', retryAfterMs: 500 });

    // Half a second later one token is back: one request, not two.
    clock.advance(500);
    expect((await gw.request(infer(as('alice')))).status).toBe(200);
    expect((await gw.request(infer(as('alice')))).status).toBe(429);
  });

  it('answers OpenAI clients with rate_limit_error, before the body is buffered', async () => {
    const clock = manualClock();
    const plugin = createConsumerLimits({ now: clock.now, type: 'test/limits-openai' });
    const gw = await gateway({ plugin, options: { default: { requestsPerMinute: 1 } } });
    expect((await gw.request(chatReq(as('alice')))).status).toBe(200);
    const res = await gw.request(chatReq(as('alice')));
    expect(res.status).toBe(429);
    expect(res.json()).toEqual({
      error: { message: "Rate limit reached for consumer 'alice' (1 requests per minute); retry in 60 s", type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' },
    });
    expect(res.headers['retry-after']).toBe('60');
    // Refused in the request-headers phase: no body round trip for a refused request.
    expect(res.phases).toEqual(['requestHeaders']);
  });

  it('keeps consumers apart and applies overrides: exact id, then globs in order, else the default; {} is unlimited', async () => {
    const clock = manualClock();
    const plugin = createConsumerLimits({ now: clock.now, type: 'test/limits-override' });
    const gw = await gateway({
      plugin,
      options: {
        default: { requestsPerSecond: 1 },
        consumers: { 'batch-*': { requestsPerSecond: 3 }, 'b*': { requestsPerSecond: 100 }, vip: {} },
      },
    });
    const admitted = async (id: string, n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i++) if ((await gw.request(infer(as(id)))).status === 200) ok++;
      return ok;
    };
    expect(await admitted('alice', 5)).toBe(1);
    expect(await admitted('bob', 5)).toBe(5); // b* (100/s)
    expect(await admitted('batch-1', 5)).toBe(3); // batch-* comes first
    expect(await admitted('vip', 20)).toBe(20);
    // alice used hers up; bob's and the others' traffic took nothing from it, and hers nothing from theirs.
    clock.advance(1_000);
    expect(await admitted('alice', 5)).toBe(1);
  });

  it('limits per model with a bucket per consumer and model, OpenAI checked once the body named the model', async () => {
    const clock = manualClock();
    const plugin = createConsumerLimits({ now: clock.now, type: 'test/limits-model' });
    const gw = await gateway({ plugin, options: { default: { requestsPerSecond: 100, models: { tinylm: { requestsPerSecond: 1 }, 'senti*': { requestsPerSecond: 2 } } } } });
    // An Envoy that does not read OpenAI bodies (Envoy Gateway): the model is known in the body phase.
    const noHint = { envoyReadsBodyModel: false };
    expect((await gw.request(chatReq(as('alice')), noHint)).status).toBe(200);
    const refused = await gw.request(chatReq(as('alice')), noHint);
    expect(refused.status).toBe(429);
    expect(refused.phases).toEqual(['requestHeaders', 'requestBody']);
    expect(refused.json()).toMatchObject({ error: { message: "Rate limit reached for consumer 'alice' on model 'tinylm' (1 requests per second); retry in 1 s", type: 'rate_limit_error' } });
    // Other models and other consumers have their own buckets.
    expect((await gw.request(infer(as('alice')))).status).toBe(200);
    expect((await gw.request(infer(as('alice')))).status).toBe(200);
    expect((await gw.request(infer(as('alice')))).status).toBe(429);
    expect((await gw.request(chatReq(as('bob')), noHint)).status).toBe(200);
    // The model refusals took nothing from alice's own 100/s bucket: 100 - 3 admitted = 97 left.
    const ok = await gw.request({ path: '/v1/models/iris:predict', headers: as('alice'), json: { instances: [[1, 2, 3, 4]] } });
    expect(ok.headers['x-ratelimit-remaining-requests']).toBe('96');
  });

  it('OpenAI is checked with the request headers when Envoy read the model from the body', async () => {
    const clock = manualClock();
    const plugin = createConsumerLimits({ now: clock.now, type: 'test/limits-model-hint' });
    const gw = await gateway({ plugin, options: { default: { requestsPerSecond: 100, models: { tinylm: { requestsPerSecond: 1 } } } } });
    const admitted = await gw.request(chatReq(as('alice')));
    expect(admitted.status).toBe(200);
    expect(admitted.phases).not.toContain('requestBody');
    const refused = await gw.request(chatReq(as('alice')));
    expect(refused.status).toBe(429);
    expect(refused.phases).toEqual(['requestHeaders']);
    expect(refused.json()).toMatchObject({ error: { message: "Rate limit reached for consumer 'alice' on model 'tinylm' (1 requests per second); retry in 1 s", type: 'rate_limit_error' } });
  });

  it('counts anonymous requests in one shared bucket by default, or per client header when configured', async () => {
    const clock = manualClock();
    const shared = await gateway({ plugin: createConsumerLimits({ now: clock.now, type: 'test/limits-anon' }), options: { anonymous: { requestsPerSecond: 1 } } });
    expect((await shared.request(infer({ 'x-forwarded-for': '10.0.0.1' }))).status).toBe(200);
    const refused = await shared.request(infer({ 'x-forwarded-for': '10.0.0.2' }));
    expect(refused.status).toBe(429);
    expect(refused.json()).toMatchObject({ error: 'Rate limit reached for unauthenticated requests (1 requests per second); retry in 1 s' });
    // Consumers are not anonymous: no default configured, so not limited.
    expect((await shared.request(infer(as('alice')))).status).toBe(200);
    expect((await shared.request(infer(as('alice')))).status).toBe(200);

    const perClient = await gateway({
      plugin: createConsumerLimits({ now: clock.now, type: 'test/limits-anon-ip' }),
      options: { default: { requestsPerSecond: 1 }, anonymousKey: { header: 'X-Forwarded-For' } },
    });
    expect((await perClient.request(infer({ 'x-forwarded-for': '10.0.0.1' }))).status).toBe(200);
    expect((await perClient.request(infer({ 'x-forwarded-for': '10.0.0.2' }))).status).toBe(200);
    // The last entry is the one the trusted proxy added; what the client put before it is ignored.
    expect((await perClient.request(infer({ 'x-forwarded-for': '1.2.3.4, 10.0.0.1' }))).status).toBe(429);
    expect((await perClient.request(infer()))).toMatchObject({ status: 200 });
    expect((await perClient.request(infer()))).toMatchObject({ status: 429 });
  });
});

describe('consumer-limits: concurrency', () => {
  const options = { default: { maxConcurrent: 1 }, waitForSlotMs: 0 };

  it('refuses the extra concurrent request with 429 concurrency_limit_exceeded and admits again once it ended', async () => {
    const gw = await gateway({ plugin: createConsumerLimits({ type: 'test/conc' }), options });
    const held = heldUpstream();
    const first = gw.request(infer(as('alice')), { upstream: held.upstream });
    await new Promise((r) => setImmediate(r));
    const second = await gw.request(infer(as('alice')));
    expect(second.status).toBe(429);
    expect(second.json()).toEqual({
      error: "Too many concurrent requests for consumer 'alice' (at most 1 at a time); retry when one finishes",
      code: 'concurrency_limit_exceeded',
    });
    expect(second.headers['retry-after']).toBeUndefined();
    expect(second.logs.find((l) => l.msg === 'request over its concurrency limit')).toMatchObject({ consumer: 'alice', limit: 'concurrency' });
    expect((await gw.request(infer(as('bob')))).status).toBe(200);
    held.release();
    expect((await first).status).toBe(200);
    expect((await gw.request(infer(as('alice')))).status).toBe(200);
  });

  it('lets a request at the limit wait up to waitForSlotMs for a slot: admitted when one frees, refused when none does', async () => {
    const gw = await gateway({ plugin: createConsumerLimits({ type: 'test/conc-wait' }), timeoutMs: 5_000, options: { default: { maxConcurrent: 1 }, waitForSlotMs: 1_000 } });
    const held = heldUpstream();
    const first = gw.request(infer(as('alice')), { upstream: held.upstream });
    await new Promise((r) => setImmediate(r));
    const waiting = gw.request(infer(as('alice')));
    await new Promise((r) => setImmediate(r));
    held.release();
    expect((await first).status).toBe(200);
    expect((await waiting).status).toBe(200);

    const short = await gateway({ plugin: createConsumerLimits({ type: 'test/conc-wait-short' }), options: { default: { maxConcurrent: 1 }, waitForSlotMs: 5 } });
    const held2 = heldUpstream();
    const busy = short.request(infer(as('alice')), { upstream: held2.upstream });
    await new Promise((r) => setImmediate(r));
    expect((await short.request(infer(as('alice')))).status).toBe(429);
    held2.release();
    await busy;
  });

  it('frees the slot of a whole answer at its response headers, but holds a stream\'s until it ends', async () => {
    // A plugin after the limits that holds a response at its headers (past the limits' own
    // response-headers hook) until the test lets it go: the request is still in flight.
    let open: () => void = () => {};
    let atGate: () => void = () => {};
    const gate = definePlugin({
      type: 'test/gate',
      options: z.object({}),
      setup: () => ({
        responseHeaders: (ctx) => {
          if (!ctx.request.headers.has('x-hold')) return;
          atGate();
          return new Promise<void>((r) => (open = r));
        },
      }),
    });
    const reached = () => new Promise<void>((r) => (atGate = r));
    const gw = await gateway({ plugin: createConsumerLimits({ type: 'test/conc-stream' }), options }, { after: [{ plugin: gate, timeoutMs: 5_000 }] });
    let there = reached();
    const whole = gw.request(infer({ ...as('alice'), 'x-hold': '1' }));
    await there;
    expect((await gw.request(infer(as('alice')))).status).toBe(200);
    open();
    expect((await whole).status).toBe(200);

    const sse: UpstreamResponse = { headers: { 'content-type': 'text/event-stream' }, chunks: ['data: {}\n\n', 'data: [DONE]\n\n'] };
    there = reached();
    const stream = gw.request(infer({ ...as('alice'), 'x-hold': '1' }), { upstream: sse });
    await there;
    expect((await gw.request(infer(as('alice')))).status).toBe(429);
    open();
    await stream;
    expect((await gw.request(infer(as('alice')))).status).toBe(200);
  });

  it.each([
    ['the model answered 500', {}, { upstream: { status: 500, json: { error: 'boom' } } }],
    ['the client went away', {}, { cancelAfter: 'requestHeaders' as const }],
    ['the client went away mid-response', {}, { cancelAfter: 'responseHeaders' as const }],
    ['a later plugin refused the request', { after: [{ plugin: definePlugin({ type: 'test/refuse', options: z.object({}), setup: () => ({ requestHeaders: (ctx) => ctx.fail(400, 'no') }) }) }] }, {}],
    ['a later plugin threw', { after: [{ plugin: definePlugin({ type: 'test/throw', options: z.object({}), setup: () => ({ requestHeaders: () => { throw new Error('bug'); } }) }) }] }, {}],
  ])('releases the slot in end when %s', async (_what, chain, exchange) => {
    const gw = await gateway({ plugin: createConsumerLimits({ type: 'test/conc-release' }), options }, chain);
    for (let i = 0; i < 3; i++) {
      const res = await gw.request(infer(as('alice')), exchange);
      expect(res.status).not.toBe(429);
    }
  });

  it('does not count a request an earlier plugin refused, and releases nothing for it', async () => {
    const gw = await gateway({ plugin: createConsumerLimits({ type: 'test/conc-early' }), options });
    const held = heldUpstream();
    const first = gw.request(infer(as('alice')), { upstream: held.upstream });
    await new Promise((r) => setImmediate(r));
    // A wrong key is refused by auth before the limits run; its end must not free alice's slot.
    expect((await gw.request(infer({ 'x-api-key': 'wrong' }))).status).toBe(401);
    expect((await gw.request(infer(as('alice')))).status).toBe(429);
    held.release();
    await first;
  });
});

describe('consumer-limits: reloads', () => {
  it('carries buckets and in-flight counts to the next config, and the old instance releases into them', async () => {
    const clock = manualClock();
    const plugin = createConsumerLimits({ now: clock.now, type: 'test/reload' });
    const limits = (o: object) => ({ plugin, name: 'limits', options: o });
    const old = await gateway(limits({ default: { maxConcurrent: 1, requestsPerMinute: 3 } }));
    const held = heldUpstream();
    const inFlight = old.request(infer(as('alice')), { upstream: held.upstream });
    await new Promise((r) => setImmediate(r));

    // The reloaded config (its own model catalog, same instance name) sees the request in flight...
    const next = await gateway(limits({ default: { maxConcurrent: 1, requestsPerMinute: 3 } }));
    expect((await next.request(infer(as('alice')))).status).toBe(429);
    // ...and its end, on the old instance, frees the slot the new instance reads.
    held.release();
    expect((await inFlight).status).toBe(200);
    await old.close();
    expect((await next.request(infer(as('alice')))).status).toBe(200);
    // Two of the three tokens were used across both configs.
    expect((await next.request(infer(as('alice')))).headers['x-ratelimit-remaining-requests']).toBe('0');
    expect((await next.request(infer(as('alice')))).status).toBe(429);

    // Changed limits apply at once to the carried state.
    const raised = await gateway(limits({ default: { requestsPerMinute: 10 } }));
    await next.close();
    clock.advance(6_000); // one token at 10/min
    expect((await raised.request(infer(as('alice')))).status).toBe(200);
    expect((await raised.request(infer(as('alice')))).status).toBe(429);
  });

  it('gives two same-named instances of one config their own state', async () => {
    const plugin = createConsumerLimits({ type: 'test/same-name' });
    const gw = await createTestGateway({
      plugins: [auth, 'model-router', { plugin, name: 'limits', options: { default: { requestsPerMinute: 1 } } }],
      models: { ...exampleModels, tinylm: { protocol: 'openai', plugins: [{ plugin, name: 'limits', options: { default: { requestsPerMinute: 1 } } }] } },
    });
    gateways.push(gw);
    // Global instance and tinylm's instance each take the request: two buckets of one.
    expect((await gw.request(chatReq(as('alice')))).status).toBe(200);
    expect(gw.logs.some((l) => l.msg.startsWith('another consumer-limits instance has this name'))).toBe(true);
  });
});

describe('consumer-limits: placement', () => {
  it('fails closed (500) when per-model limits run before the router', async () => {
    const plugin = createConsumerLimits({ type: 'test/misplaced' });
    const gw = await createTestGateway({ plugins: [auth, { plugin, options: { default: { models: { '*': { maxConcurrent: 5 } } } } }, 'model-router'], models: exampleModels });
    gateways.push(gw);
    expect((await gw.request(infer(as('alice')))).status).toBe(500);
    expect((await gw.request(chatReq(as('alice')))).status).toBe(500);
  });

  it('refuses options that mix units or set a burst without a rate', async () => {
    const plugin = createConsumerLimits({ type: 'test/bad-options' });
    await expect(gateway({ plugin, options: { default: { requestsPerSecond: 1, requestsPerMinute: 60 } } })).rejects.toThrow(/not both/);
    await expect(gateway({ plugin, options: { default: { burst: 5 } } })).rejects.toThrow(/burst needs/);
    await expect(gateway({ plugin, options: { default: { models: { tinylm: {} } } } })).rejects.toThrow(/set requestsPerSecond, requestsPerMinute, maxConcurrent or a token budget/);
  });
});
