import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RequestSummary } from '../../ext-proc/stream.js';
import { createTestGateway, type ExchangeOptions, type TestResult } from '../sdk/testing.js';
import { usageOf } from './index.js';

async function gateway(usageOptions: Record<string, unknown> = {}) {
  let summary: RequestSummary | undefined;
  const gw = await createTestGateway({
    plugins: ['model-router', { plugin: 'openai-usage', options: usageOptions }],
    models: { tinylm: { protocol: 'openai' }, sentiment: { protocol: 'kserve-v2' } },
    observe: () => ({ finished: (s) => (summary = s) }),
  });
  return {
    async run(request: Parameters<typeof gw.request>[0], exchange: ExchangeOptions): Promise<{ res: TestResult; summary: RequestSummary }> {
      const res = await gw.request(request, exchange);
      return { res, summary: summary as RequestSummary };
    },
  };
}

const chat = (json: unknown) => ({ method: 'POST', path: '/v1/chat/completions', headers: { 'x-request-id': 'r1' }, json });
const sse = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
const chunk = (content: string) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }], usage: null });
const usageChunk = { object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } };
const eventStream = { 'content-type': 'text/event-stream' };

describe('openai-usage', () => {
  it('reads usage from a buffered JSON response (and asks Envoy for the body)', async () => {
    const { res, summary } = await (await gateway()).run(chat({ model: 'tinylm', messages: [] }), {
      upstream: { json: { choices: [], usage: { prompt_tokens: 5, completion_tokens: 32, total_tokens: 37 } } },
    });
    expect(res.messages.find((m) => m.phase === 'responseHeaders')?.modeOverride?.responseBody).toBe('BUFFERED');
    expect(summary.vars.usage).toEqual({ prompt: 5, completion: 32 });
  });

  it('reads the usage chunk of an SSE stream split at arbitrary points', async () => {
    const stream = sse(chunk('Hello')) + sse(chunk(' world')) + sse(usageChunk) + 'data: [DONE]\n\n';
    const parts = [stream.slice(0, 17), stream.slice(17, stream.length - 40), stream.slice(stream.length - 40)];
    const { res, summary } = await (await gateway()).run(chat({ model: 'tinylm', stream: true, stream_options: { include_usage: true } }), {
      upstream: { headers: eventStream, chunks: parts },
      streamEnd: 'last-chunk',
    });
    expect(res.messages.find((m) => m.phase === 'responseHeaders')?.modeOverride?.responseBody).toBe('STREAMED');
    expect(summary.vars.usage).toEqual({ prompt: 7, completion: 3 });
    // The client asked for usage: its stream is untouched.
    expect(res.text).toBe(stream);
    expect(summary.firstChunkMs).toBeGreaterThan(0);
  });

  it('does not touch other protocols', async () => {
    const { res, summary } = await (await gateway()).run({ method: 'POST', path: '/v2/models/sentiment/infer', json: {} }, { upstream: { json: {} } });
    expect(res.messages.find((m) => m.phase === 'responseHeaders')?.modeOverride).toBeUndefined();
    expect(res.phases).not.toContain('responseBody');
    expect(summary.vars.usage).toBeUndefined();
  });

  it('with forceStreamUsage asks every stream for usage and hides the extra chunk from clients that did not', async () => {
    const stream = sse(chunk('Hi')) + sse(usageChunk) + 'data: [DONE]\n\n';
    const { res, summary } = await (await gateway({ forceStreamUsage: true })).run(chat({ model: 'tinylm', stream: true, messages: [] }), {
      upstream: { headers: eventStream, chunks: [stream] },
      streamEnd: 'last-chunk',
    });
    expect(res.upstream?.json()).toMatchObject({ model: 'tinylm', stream: true, stream_options: { include_usage: true } });
    expect(summary.vars.usage).toEqual({ prompt: 7, completion: 3 });
    expect(res.text).toBe(sse(chunk('Hi')) + 'data: [DONE]\n\n');
  });
});

describe('usageOf', () => {
  // The schema openai-usage used to read usage with: the hand-written check must accept and
  // read exactly what it did.
  const Usage = z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0).optional() }).loose();
  const viaSchema = (value: unknown) => {
    const parsed = Usage.safeParse(value);
    return parsed.success ? { prompt: parsed.data.prompt_tokens, completion: parsed.data.completion_tokens ?? 0 } : undefined;
  };
  const count = fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constantFrom(2 ** 53, 2 ** 53 - 1, -0, 0.5, Infinity, NaN, null, '1', true), fc.anything());

  it('reads what the zod schema read, on any value', () => {
    const candidate = fc.oneof(
      fc.record({ prompt_tokens: count, completion_tokens: count, total_tokens: count }, { requiredKeys: [] }),
      fc.anything(),
      fc.array(count).map((a) => Object.assign(a, { prompt_tokens: 1 })),
    );
    fc.assert(
      fc.property(candidate, (value) => {
        expect(usageOf(value)).toStrictEqual(viaSchema(value));
      }),
      { numRuns: 5000 },
    );
  });
});
