// Per-consumer limits through the real Envoy: a burst beyond the rate gets 429 in each client
// protocol with Retry-After, other consumers go on, the rejection is counted and logged; a
// concurrency limit refuses the extra request while slow ones run and admits again after; a
// token budget is charged each answer's usage and refuses once spent.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { baseConfig, demoStats, extProcLog, postJson, useStack } from '../harness/e2e.js';
import { eventually, setFault } from '../harness/faults.js';
import { currentConfig, reloads } from '../harness/traffic.js';

const consumers = ['rate-openai', 'rate-v2', 'rate-tf', 'rate-sdk', 'rate-reload', 'other', 'slowpoke', 'streamer', 'budget-a', 'budget-b'];
const stack = useStack(
  baseConfig({
    plugins: [
      { type: 'api-key-auth', options: { consumers: consumers.map((id) => ({ id, keys: [hashKey(`${id}-key`)] })) } },
      { type: 'model-router', name: 'router' },
      {
        type: 'consumer-limits',
        name: 'limits',
        options: {
          // 3 requests, then one every 20 s: nothing refills while this file runs.
          // 20 tokens, then one every 3 s: a few short completions spend it.
          consumers: { 'rate-*': { requestsPerMinute: 3 }, slowpoke: { maxConcurrent: 2 }, streamer: { maxConcurrent: 1 }, 'budget-*': { tokensPerMinute: 20 } },
        },
      },
      { type: 'openai-usage', name: 'usage', options: { forceStreamUsage: true } },
    ],
  }),
);

const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a lovely day'] }] };
const chat = { model: 'tinylm', messages: [{ role: 'user', content: 'the rabbit' }], max_tokens: 4 };
const key = (id: string) => ({ authorization: `Bearer ${id}-key` });
const metricsUrl = () => `http://127.0.0.1:${stack().extProcs[0]?.httpPort}/metrics`;
const demo = (k: string) => stack().demos.get(k)?.[0]?.url as string;

async function limitRejections(): Promise<number> {
  const text = await (await fetch(metricsUrl())).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('gateway_rejections_total{') && l.includes('reason="limits"'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Sends `n` requests one after the other; returns the responses with their bodies read. */
async function burst(n: number, send: () => Promise<Response>): Promise<{ res: Response; body: unknown }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const res = await send();
    out.push({ res, body: await res.json() });
  }
  return out;
}

describe('rate limits per consumer', () => {
  it('answers the request past the burst with 429 in the OpenAI shape, Retry-After, counted and logged; other consumers go on', async () => {
    const before = await limitRejections();
    const results = await burst(4, () => postJson(`${stack().url}/v1/chat/completions`, chat, key('rate-openai')));
    expect(results.map((r) => r.res.status)).toEqual([200, 200, 200, 429]);
    expect(results[0]?.res.headers.get('x-ratelimit-remaining-requests')).toBe('2');
    const refused = results[3] as { res: Response; body: unknown };
    expect(refused.body).toEqual({
      error: {
        message: "Rate limit reached for consumer 'rate-openai' (3 requests per minute); retry in 20 s",
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    expect(Number(refused.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(19);
    expect(Number(refused.res.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    expect(refused.res.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(refused.res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.res.headers.get('x-request-id')).toBeTruthy();

    // Another consumer on the same model is not affected.
    const other = await postJson(`${stack().url}/v1/chat/completions`, chat, key('other'));
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-limit-requests')).toBeNull(); // no limit configured for it

    await eventually('the rejection in gateway_rejections_total{reason="limits"}', async () => (await limitRejections()) === before + 1, 5_000, 50);
    // The plugin's warning and the access line go through separate writers: wait for both.
    const log = await extProcLog(stack(), (t) => t.includes('request over its rate limit') && t.includes('"errorCode":"rate_limit_exceeded"'));
    const line = log.split('\n').find((l) => l.includes('request over its rate limit'));
    expect(JSON.parse(line as string)).toMatchObject({ consumer: 'rate-openai', limit: 'rate', plugin: 'limits' });
    const access = log.split('\n').find((l) => l.includes('"errorCode":"rate_limit_exceeded"'));
    expect(JSON.parse(access as string)).toMatchObject({ status: 429, consumer: 'rate-openai', answeredBy: 'limits' });
  });

  it('answers V2 and TF Serving clients in their own shape', async () => {
    const v2s = await burst(4, () => postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, v2, key('rate-v2')));
    expect(v2s.map((r) => r.res.status)).toEqual([200, 200, 200, 429]);
    expect(v2s[3]?.body).toEqual({ error: "Rate limit reached for consumer 'rate-v2' (3 requests per minute); retry in 20 s", code: 'rate_limit_exceeded' });
    expect(v2s[3]?.res.headers.get('retry-after')).toMatch(/^(19|20)$/);

    const tfs = await burst(4, () => postJson(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] }, key('rate-tf')));
    expect(tfs.map((r) => r.res.status)).toEqual([200, 200, 200, 429]);
    expect(tfs[3]?.body).toMatchObject({ error: expect.stringContaining("Rate limit reached for consumer 'rate-tf'"), code: 'rate_limit_exceeded' });
  });


  it("surfaces as the OpenAI SDK's RateLimitError, with the headers its retry logic reads", async () => {
    const client = new OpenAI({ baseURL: `${stack().url}/v1`, apiKey: 'rate-sdk-key', maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    for (let i = 0; i < 3; i++) await ask();
    const err = await ask().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const limited = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    expect(limited.headers?.get('retry-after-ms')).toMatch(/^\d+$/);
  });
});

describe('token budgets per consumer', () => {
  const BUDGET = 20;
  /** The remaining-tokens header, which may be one ahead of `expected` if 3 s passed (one token refilled). */
  const expectRemaining = (res: Response, expected: number) => {
    const remaining = Number(res.headers.get('x-ratelimit-remaining-tokens'));
    expect(remaining).toBeGreaterThanOrEqual(Math.max(0, expected));
    expect(remaining).toBeLessThanOrEqual(Math.max(0, expected) + 1);
  };

  it('charges each completion its usage, then answers 429 in the OpenAI shape; the model sees nothing after it, other consumers go on', async () => {
    const url = `${stack().url}/v1/chat/completions`;
    const before = await limitRejections();
    let left = BUDGET;
    let refused: { res: Response; body: unknown } | undefined;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      const res = await postJson(url, chat, key('budget-a'));
      const body = (await res.json()) as { usage: { total_tokens: number } };
      if (res.status === 429) {
        refused = { res, body };
        break;
      }
      expect(res.status).toBe(200);
      // What was left when it was admitted: its own usage is charged once the answer is done.
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBe(String(BUDGET));
      expectRemaining(res, left);
      left -= body.usage.total_tokens;
    }
    // Admitted while a token was left, refused the first time none was.
    expect(left).toBeLessThan(1);
    expect(left).toBeGreaterThan(-BUDGET);
    const { res, body } = refused as { res: Response; body: unknown };
    expect(body).toEqual({
      error: {
        message: expect.stringMatching(/^Token limit reached for consumer 'budget-a' \(20 tokens per minute\); retry in \d+ s$/),
        type: 'rate_limit_error',
        param: null,
        code: 'token_rate_limit_exceeded',
      },
    });
    // 20 a minute is one token every 3 s: the budget is back above zero after (1 - left) of them.
    const waitMs = Number(res.headers.get('retry-after-ms'));
    expect(waitMs).toBeGreaterThan((1 - left - 1) * 3_000);
    expect(waitMs).toBeLessThanOrEqual((1 - left) * 3_000);
    expect(res.headers.get('retry-after')).toBe(String(Math.ceil(waitMs / 1_000)));
    expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('20');
    expect(res.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(1m)?[\d.]+s$/);

    // The model server saw no refused request, from curl-like clients or from the OpenAI SDK.
    const model = demo('tinylm@v1');
    const seen = (await demoStats(model)).requests;
    const client = new OpenAI({ baseURL: `${stack().url}/v1`, apiKey: 'budget-a-key', maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const limited = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(limited).toMatchObject({ status: 429, code: 'token_rate_limit_exceeded', type: 'rate_limit_error' });
    expect(limited.headers?.get('x-ratelimit-limit-tokens')).toBe('20');
    expect((await demoStats(model)).requests).toBe(seen);
    await eventually('both refusals in gateway_rejections_total{reason="limits"}', async () => (await limitRejections()) === before + 2, 5_000, 50);

    // Another consumer with the same limits has its own budget.
    const other = await postJson(url, chat, key('budget-b'));
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-remaining-tokens')).toBe('20');
    await other.arrayBuffer();
  });

  it('charges a stream whose client did not ask for usage: openai-usage asks for it and hides it', async () => {
    const client = new OpenAI({ baseURL: `${stack().url}/v1`, apiKey: 'budget-b-key', maxRetries: 0 });
    const ask = { model: 'tinylm', messages: [{ role: 'user' as const, content: 'the rabbit' }], max_tokens: 4 };
    const first = await client.chat.completions.create(ask).withResponse();
    const used = first.data.usage?.total_tokens as number;
    const left = Number(first.response.headers.get('x-ratelimit-remaining-tokens')) - used;

    const stream = await client.chat.completions.create({ ...ask, stream: true });
    let pieces = 0;
    for await (const chunk of stream) {
      expect(chunk.usage ?? undefined).toBeUndefined(); // the usage chunk never reaches this client
      if (chunk.choices[0]?.delta.content) pieces++;
    }
    expect(pieces).toBeGreaterThan(0);
    // tinylm counts the prompt in words ('the rabbit': 2) and sends one word per chunk.
    const next = await client.chat.completions.create(ask).withResponse();
    expectRemaining(next.response, left - 2 - pieces);
  });
});

describe('concurrency limits per consumer', () => {
  it('refuses the extra request at once while the slow ones run, and admits again once they finished', async () => {
    const model = demo('sentiment@v1');
    const url = `${stack().url}/v2/models/sentiment/versions/v1/infer`;
    const delayMs = 1_500;
    await setFault(model, { mode: 'slow', delayMs, count: 2 });
    const seen = (await demoStats(model)).requests;
    const slow = [postJson(url, v2, key('slowpoke')), postJson(url, v2, key('slowpoke'))];
    await eventually('both slow requests at the model', async () => (await demoStats(model)).requests >= seen + 2, 5_000, 20);

    const t0 = performance.now();
    const extra = await postJson(url, v2, key('slowpoke'));
    expect(extra.status).toBe(429);
    expect(performance.now() - t0).toBeLessThan(delayMs); // refused, not queued
    expect(await extra.json()).toEqual({
      error: "Too many concurrent requests for consumer 'slowpoke' (at most 2 at a time); retry when one finishes",
      code: 'concurrency_limit_exceeded',
    });
    // The model never saw the refused request.
    expect((await demoStats(model)).requests).toBe(seen + 2);

    expect((await Promise.all(slow)).map((r) => r.status)).toEqual([200, 200]);
    const again = await postJson(url, v2, key('slowpoke'));
    expect(again.status).toBe(200);
  });

  it('never refuses a client that waits for each answer before sending the next, whole or streamed', async () => {
    // A whole answer frees the slot at its response headers, before the client can see it; a
    // stream's end reaches the ext-proc a moment after the client read it, which
    // waitForSlotMs (50 ms by default) absorbs.
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) {
      const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, v2, key('streamer'));
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    for (let i = 0; i < 30; i++) {
      const res = await postJson(`${stack().url}/v1/chat/completions`, { ...chat, stream: true }, key('streamer'));
      expect(await res.text()).toContain('[DONE]');
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('holds the slot for the whole of a streamed completion', async () => {
    const url = `${stack().url}/v1/chat/completions`;
    const stream = await postJson(url, { ...chat, stream: true, max_tokens: 40 }, key('streamer'));
    expect(stream.status).toBe(200);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // the first event: the stream is under way
    const during = await postJson(url, chat, key('streamer'));
    expect(during.status).toBe(429);
    await during.body?.cancel();
    while (!(await reader.read()).done) {
      /* drain */
    }
    await eventually('the slot back once the stream ended', async () => (await postJson(url, chat, key('streamer'))).status === 200, 2_000, 20);
  });
});

describe('limits and config reloads', () => {
  it('applies changed limits at the reload, and a reload hands out no fresh burst', async () => {
    const url = `${stack().url}/v2/models/sentiment/versions/v1/infer`;
    const send = async () => (await postJson(url, v2, key('rate-reload'))).status;
    expect([await send(), await send(), await send(), await send()]).toEqual([200, 200, 200, 429]);

    const original = currentConfig(stack());
    const reload = async (config: typeof original) => {
      const before = await reloads(stack(), 'success');
      await stack().writeConfig(config);
      await eventually('the reload', async () => (await reloads(stack(), 'success')) > before, 5_000, 20);
    };
    const exempt = structuredClone(original);
    const limits = exempt.plugins?.find((p) => p.name === 'limits') as { options: { consumers: Record<string, object> } };
    limits.options.consumers['rate-reload'] = {}; // an exact id wins over the rate-* glob: not limited
    await reload(exempt);
    expect([await send(), await send(), await send(), await send(), await send()]).toEqual([200, 200, 200, 200, 200]);

    // Back under rate-*: its bucket is as empty as before (carried over, not refilled by the reloads).
    await reload(original);
    expect(await send()).toBe(429);
  });
});
