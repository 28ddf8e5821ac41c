import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin, z } from '../sdk/index.js';
import { createTestGateway, exampleModels, type TestGateway, type TestModel, type TestPlugin, type UpstreamResponse } from '../sdk/testing.js';
import { createConsumerLimits } from './index.js';
import { as, auth, manualClock } from './test-support.js';

const usage = { plugin: 'openai-usage', name: 'usage', options: { forceStreamUsage: true } };
const chatReq = (id: string, extra: object = {}) => ({ path: '/v1/chat/completions', headers: as(id), json: { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], ...extra } });
const infer = (id: string) => ({ path: '/v2/models/sentiment/infer', headers: as(id), json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] } });

/** A chat completion as the model server sends it, with its token usage. */
const answer = (prompt: number, completion: number): UpstreamResponse => ({
  json: {
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  },
});

/** The same as a stream: a content chunk, the usage chunk (only when asked for), `[DONE]`. */
const streamed = (prompt: number, completion: number) => (req: { json<T>(): T }): UpstreamResponse => {
  const asked = req.json<{ stream_options?: { include_usage?: boolean } }>().stream_options?.include_usage === true;
  const chunk = { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'ok' } }], ...(asked && { usage: null }) };
  const last = { object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } };
  return { headers: { 'content-type': 'text/event-stream' }, sse: [chunk, ...(asked ? [last] : []), '[DONE]'] };
};

const gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

async function gateway(limits: TestPlugin, opts: { after?: TestPlugin[]; models?: Record<string, TestModel>; usage?: TestPlugin[] } = {}): Promise<TestGateway> {
  const gw = await createTestGateway({
    plugins: [auth, 'model-router', limits, ...(opts.usage ?? [usage]), ...(opts.after ?? [])],
    models: opts.models ?? exampleModels,
  });
  gateways.push(gw);
  return gw;
}

describe('consumer-limits: token budgets', () => {
  it('charges each answer its usage after the fact, refuses with 429 while the budget is spent, and admits again once it refilled', async () => {
    const clock = manualClock();
    const gw = await gateway({ plugin: createConsumerLimits({ now: clock.now, type: 'test/tokens' }), name: 'limits', options: { default: { tokensPerMinute: 600 } } });

    const first = await gw.request(chatReq('alice'), { upstream: answer(100, 300) });
    expect(first.status).toBe(200);
    // What was left when the request was admitted, before its own 400 tokens.
    expect(first.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '600', 'x-ratelimit-remaining-tokens': '600', 'x-ratelimit-reset-tokens': '0ms' });
    expect(first.headers['x-ratelimit-limit-requests']).toBeUndefined();

    // 200 tokens left: admitted, though its answer (300) overdraws the budget to -100.
    const second = await gw.request(chatReq('alice'), { upstream: answer(100, 200) });
    expect(second.headers).toMatchObject({ 'x-ratelimit-remaining-tokens': '200', 'x-ratelimit-reset-tokens': '40s' });

    const refused = await gw.request(chatReq('alice'));
    expect(refused.status).toBe(429);
    expect(refused.upstream).toBeUndefined();
    expect(refused.json()).toEqual({
      error: { message: "Token limit reached for consumer 'alice' (600 tokens per minute); retry in 11 s", type: 'rate_limit_error', param: null, code: 'token_rate_limit_exceeded' },
    });
    // 101 tokens to earn back at 10 a second.
    expect(refused.headers).toMatchObject({
      'retry-after': '11',
      'retry-after-ms': '10100',
      'x-ratelimit-limit-tokens': '600',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '1m10s',
    });
    expect(refused.outcome).toMatchObject({ status: 429, errorCode: 'token_rate_limit_exceeded', answeredBy: 'limits' });
    expect(refused.logs.find((l) => l.msg === 'request over its token limit')).toMatchObject({ consumer: 'alice', limit: 'tokens', retryAfterMs: 10_100 });
    // Checked before the body is buffered: a refused request costs no body round trip.
    expect(refused.phases).toEqual(['requestHeaders']);

    // Other consumers have budgets of their own.
    expect((await gw.request(chatReq('bob'), { upstream: answer(1, 1) })).status).toBe(200);

    clock.advance(10_099);
    expect((await gw.request(chatReq('alice'))).status).toBe(429);
    clock.advance(1);
    const again = await gw.request(chatReq('alice'), { upstream: answer(1, 1) });
    expect(again.status).toBe(200);
    expect(again.headers['x-ratelimit-remaining-tokens']).toBe('1');
  });

  it('charges a stream from its usage chunk, asked for by openai-usage and hidden from a client that did not ask', async () => {
    const clock = manualClock();
    const gw = await gateway({ plugin: createConsumerLimits({ now: clock.now, type: 'test/tokens-stream' }), options: { default: { tokensPerMinute: 100 } } });
    const res = await gw.request(chatReq('alice', { stream: true }), { upstream: streamed(40, 80) });
    expect(res.status).toBe(200);
    expect(res.events.map((e) => e.data)).toEqual([expect.stringContaining('"content":"ok"'), '[DONE]']);
    expect(res.headers['x-ratelimit-remaining-tokens']).toBe('100');
    const refused = await gw.request(chatReq('alice', { stream: true }));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after-ms']).toBe('12600'); // 21 tokens at 100 a minute
  });

  it('lands the charge before the answer leaves: the next request sees it while the last one is still on its way', async () => {
    // A plugin after the limits that holds the answer's last bytes (a whole body, or [DONE])
    // until the test lets them go.
    let open: () => void = () => {};
    let atGate: () => void = () => {};
    const hold = () => new Promise<void>((r) => (open = r));
    const gate = definePlugin({
      type: 'test/tail-gate',
      options: z.object({}),
      setup: () => ({
        responseChunk: (ctx) => {
          if (ctx.response.streaming || !ctx.endOfStream) return;
          atGate();
          return hold();
        },
        responseEvent: (ctx) => {
          if (!ctx.done) return;
          atGate();
          return hold();
        },
      }),
    });
    const reached = () => new Promise<void>((r) => (atGate = r));
    const plugin = createConsumerLimits({ type: 'test/tokens-early' });
    // A long slot wait (beyond the hook's 200 ms timeout) would turn a wait into a 500: a spent
    // budget must refuse at once, even with the consumer's stream still in flight.
    const gw = await gateway({ plugin, options: { default: { tokensPerMinute: 100 }, waitForSlotMs: 1_000 } }, { after: [{ plugin: gate, timeoutMs: 5_000 }] });

    for (const [id, upstream] of [
      ['alice', answer(50, 60)],
      ['bob', streamed(50, 60)],
    ] as const) {
      const there = reached();
      const first = gw.request(chatReq(id, { stream: typeof upstream === 'function' }), { upstream });
      await there;
      expect((await gw.request(chatReq(id))).status).toBe(429);
      open();
      expect((await first).status).toBe(200);
    }
  });

  it('keeps a budget per consumer and one per consumer and model, and charges an answer to both', async () => {
    const clock = manualClock();
    const gw = await gateway(
      { plugin: createConsumerLimits({ now: clock.now, type: 'test/tokens-model' }), options: { default: { tokensPerHour: 1_000, models: { tinylm: { tokensPerMinute: 100 } } } } },
      { models: { ...exampleModels, other: { protocol: 'openai' } } },
    );
    await gw.request(chatReq('alice'), { upstream: answer(50, 100) });
    const refused = await gw.request(chatReq('alice'));
    expect(refused.status).toBe(429);
    expect(refused.json()).toMatchObject({ error: { message: "Token limit reached for consumer 'alice' on model 'tinylm' (100 tokens per minute); retry in 31 s" } });
    // The headers describe the consumer's own budget, which took the same 150 tokens.
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '850' });

    // Another model draws on the consumer's own budget only.
    const other = { ...chatReq('alice'), json: { model: 'other', messages: [] } };
    expect((await gw.request(other, { upstream: answer(400, 500) })).status).toBe(200);
    const spent = await gw.request(other);
    expect(spent.status).toBe(429);
    expect(spent.json()).toMatchObject({ error: { message: "Token limit reached for consumer 'alice' (1000 tokens per hour); retry in 184 s" } });

    clock.advance(31_000); // tinylm's budget is back above zero, alice's own is not
    expect((await gw.request(chatReq('alice'))).json()).toMatchObject({ error: { code: 'token_rate_limit_exceeded', message: expect.stringContaining("consumer 'alice' (1000 tokens per hour)") } });
  });

  it('charges nothing without usage: failed answers, other protocols; and never refuses those protocols', async () => {
    const clock = manualClock();
    const gw = await gateway({ plugin: createConsumerLimits({ now: clock.now, type: 'test/tokens-none' }), options: { default: { tokensPerMinute: 100 } } });
    const failed = await gw.request(chatReq('alice'), { upstream: { status: 500, json: { error: { message: 'boom' }, usage: { prompt_tokens: 500, completion_tokens: 500 } } } });
    expect(failed.status).toBe(500);
    expect((await gw.request(infer('alice'))).headers['x-ratelimit-limit-tokens']).toBeUndefined();
    const ok = await gw.request(chatReq('alice'), { upstream: answer(100, 100) });
    expect(ok.headers['x-ratelimit-remaining-tokens']).toBe('100');
    expect((await gw.request(chatReq('alice'))).status).toBe(429);
    // KServe V2 answers carry no token usage: a spent budget does not refuse them.
    expect((await gw.request(infer('alice'))).status).toBe(200);
  });

  it('counts only completion (or prompt) tokens when told to', async () => {
    const gw = await gateway({ plugin: createConsumerLimits({ type: 'test/tokens-completion' }), options: { default: { tokensPerDay: 100 }, countTokens: 'completion' } });
    await gw.request(chatReq('alice'), { upstream: answer(1_000, 60) });
    const next = await gw.request(chatReq('alice'), { upstream: answer(1_000, 60) });
    expect(next.headers['x-ratelimit-remaining-tokens']).toBe('40');
    expect((await gw.request(chatReq('alice'))).json()).toMatchObject({ error: { message: expect.stringContaining('(100 completion tokens per day)') } });
  });

  it('carries a spent budget across a reload to the instance of the same name', async () => {
    const clock = manualClock();
    const plugin = createConsumerLimits({ now: clock.now, type: 'test/tokens-reload' });
    const limits = { plugin, name: 'limits', options: { default: { tokensPerMinute: 100 } } };
    const old = await gateway(limits);
    await old.request(chatReq('alice'), { upstream: answer(100, 100) });
    const next = await gateway(limits);
    await old.close();
    expect((await next.request(chatReq('alice'))).status).toBe(429);
  });
});

describe('consumer-limits: token budgets need openai-usage', () => {
  const limits = (type: string) => ({ plugin: createConsumerLimits({ type }), name: 'limits', options: { consumers: { alice: { models: { tinylm: { tokensPerDay: 10 } } } } } });

  it('refuses the config, naming the instance, when no openai-usage reads the usage of an OpenAI model', async () => {
    await expect(gateway(limits('test/no-usage'), { usage: [] })).rejects.toThrow(
      /plugins\[2\] \(limits\): setup failed: token budgets are charged from the token usage the openai-usage plugin reads, and no openai-usage instance runs for model\(s\) tinylm/,
    );
  });

  it('refuses an openai-usage without forceStreamUsage: streams would go uncharged', async () => {
    await expect(gateway(limits('test/unforced'), { usage: [{ plugin: 'openai-usage', name: 'usage' }] })).rejects.toThrow(
      /token budgets need openai-usage instance\(s\) 'usage' to set `forceStreamUsage: true`/,
    );
  });

  it("accepts openai-usage in each OpenAI model's own chain, and a config without token budgets needs none", async () => {
    const models = { ...exampleModels, tinylm: { protocol: 'openai' as const, plugins: [usage] } };
    await expect(gateway(limits('test/model-usage'), { usage: [], models })).resolves.toBeDefined();
    await expect(gateway({ plugin: createConsumerLimits({ type: 'test/plain' }), options: { default: { requestsPerSecond: 1 } } }, { usage: [] })).resolves.toBeDefined();
  });

  it('refuses a second token unit and names the field', async () => {
    await expect(gateway({ plugin: createConsumerLimits({ type: 'test/two-units' }), options: { default: { tokensPerMinute: 1, tokensPerDay: 5 } } })).rejects.toThrow(
      /default\.tokensPerDay: set one of tokensPerMinute, tokensPerHour, tokensPerDay/,
    );
  });
});
