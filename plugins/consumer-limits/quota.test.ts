// Calendar quotas in the in-process store, through the gateway's real stream processor.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway, type TestPlugin, type UpstreamResponse } from '../sdk/testing.js';
import { createConsumerLimits } from './index.js';
import { as, auth, manualClock } from './test-support.js';

const usage = { plugin: 'openai-usage', name: 'usage', options: { forceStreamUsage: true } };
const chatReq = (id: string) => ({ path: '/v1/chat/completions', headers: as(id), json: { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }] } });
const infer = (id: string) => ({ path: '/v2/models/sentiment/infer', headers: as(id), json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] } });
const answer = (total: number): UpstreamResponse => ({
  json: { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: total - 1, total_tokens: total } },
});

const gateways: TestGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});

/** A gateway whose limits see the wall clock `wall` (ms since the epoch), moved by the test. */
async function gateway(options: object, wall: { at: number }): Promise<TestGateway> {
  const clock = manualClock();
  const limits: TestPlugin = { plugin: createConsumerLimits({ now: clock.now, wallNow: () => wall.at, type: `test/quota-${gateways.length}` }), name: 'limits', options };
  const gw = await createTestGateway({ plugins: [auth, 'model-router', limits, usage], models: exampleModels });
  gateways.push(gw);
  return gw;
}

const at = (iso: string) => Date.parse(iso);

describe('consumer-limits: calendar quotas', () => {
  it('counts requests per UTC day: remaining in headers, 429 insufficient_quota with Retry-After to midnight, fresh the next day', async () => {
    const wall = { at: at('2026-11-30T18:00:00Z') };
    const gw = await gateway({ default: { quota: { requestsPerDay: 2 } } }, wall);
    const first = await gw.request(infer('alice'));
    expect(first.headers).toMatchObject({ 'x-quota-limit-requests-day': '2', 'x-quota-remaining-requests-day': '1', 'x-quota-reset-requests-day': '6h0m0s' });
    expect((await gw.request(infer('alice'))).headers['x-quota-remaining-requests-day']).toBe('0');
    const refused = await gw.request(infer('alice'));
    expect(refused.status).toBe(429);
    expect(refused.upstream).toBeUndefined();
    expect(refused.json()).toEqual({ error: "Quota reached for consumer 'alice' (2 requests per day, UTC); it resets at 2026-12-01T00:00:00Z", code: 'insufficient_quota' });
    expect(refused.headers).toMatchObject({ 'retry-after': String(6 * 3600), 'retry-after-ms': String(6 * 3_600_000), 'x-quota-remaining-requests-day': '0' });
    expect(refused.logs.find((l) => l.msg === 'request over its calendar quota')).toMatchObject({ consumer: 'alice', limit: 'quota', quota: 'requestsPerDay' });
    // Another consumer has its own count; the next UTC day starts afresh.
    expect((await gw.request(infer('bob'))).status).toBe(200);
    wall.at = at('2026-12-01T00:00:00Z');
    expect((await gw.request(infer('alice'))).headers['x-quota-remaining-requests-day']).toBe('1');
  });

  it('counts OpenAI tokens per UTC month from each answer, refuses once spent until the 1st, in the OpenAI shape', async () => {
    const wall = { at: at('2026-02-27T12:00:00Z') };
    const gw = await gateway({ default: { quota: { tokensPerMonth: 100 } } }, wall);
    const first = await gw.request(chatReq('alice'), { upstream: answer(60) });
    // As of admission, before its own tokens.
    expect(first.headers).toMatchObject({ 'x-quota-limit-tokens-month': '100', 'x-quota-remaining-tokens-month': '100' });
    expect((await gw.request(chatReq('alice'), { upstream: answer(60) })).headers['x-quota-remaining-tokens-month']).toBe('40');
    const refused = await gw.request(chatReq('alice'));
    expect(refused.status).toBe(429);
    expect(refused.json()).toEqual({
      error: { message: "Quota reached for consumer 'alice' (100 tokens per month, UTC); it resets at 2026-03-01T00:00:00Z", type: 'insufficient_quota', param: null, code: 'insufficient_quota' },
    });
    expect(refused.headers['retry-after']).toBe(String(36 * 3600));
    // Requests that spend no tokens (V2) are not held to a token quota, and show no token headers.
    const v2 = await gw.request(infer('alice'));
    expect(v2.status).toBe(200);
    expect(v2.headers['x-quota-limit-tokens-month']).toBeUndefined();
    wall.at = at('2026-03-01T00:00:01Z');
    expect((await gw.request(chatReq('alice'), { upstream: answer(1) })).headers['x-quota-remaining-tokens-month']).toBe('100');
  });

  it('holds a per-model quota on top of the consumer’s own, and refuses options without any quota field', async () => {
    const wall = { at: at('2026-11-30T00:00:00Z') };
    const gw = await gateway({ default: { quota: { requestsPerMonth: 10 }, models: { tinylm: { quota: { requestsPerDay: 1 } } } } }, wall);
    expect((await gw.request(chatReq('alice'), { upstream: answer(2) })).status).toBe(200);
    const refused = await gw.request(chatReq('alice'));
    expect(refused.status).toBe(429);
    expect(refused.json<{ error: { message: string } }>().error.message).toContain("consumer 'alice' on model 'tinylm' (1 requests per day, UTC)");
    // The refused request took nothing from the monthly quota: 9 left after the admitted one.
    expect((await gw.request(infer('alice'))).headers['x-quota-remaining-requests-month']).toBe('8');
    await expect(gateway({ default: { quota: {} } }, wall)).rejects.toThrow(/set requestsPerDay, requestsPerMonth, tokensPerDay or tokensPerMonth/);
  });
});
