import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { postJson, useStack } from '../harness/e2e.js';
import { envoyStat, eventually, setFault } from '../harness/faults.js';

// Envoy's own answers (circuit breaker overflow, timeout, no healthy instance, body too large)
// must reach the client as JSON in its protocol with the request id, and never as a hang.
const config: GatewayConfigInput = {
  envoy: { maxRequestBytes: 64 * 1024 },
  plugins: [{ type: 'model-router', name: 'router' }],
  models: {
    sentiment: {
      protocol: 'kserve-v2',
      versions: {
        // Tiny limits: 2 concurrent requests, 1 waiting; everything beyond is refused at once.
        v1: { endpoints: ['127.0.0.1:1'], limits: { maxConnections: 2, maxRequests: 2, maxPendingRequests: 1 } },
        // A short-call version: 500 ms for the whole request.
        v2: { endpoints: ['127.0.0.1:1'], timeoutMs: 500, retries: { attempts: 0 } },
      },
    },
    tinylm: {
      protocol: 'openai',
      versions: {
        // Streaming-aware: no whole-request timeout; silence is bounded instead (per attempt and overall).
        v1: { endpoints: ['127.0.0.1:1'], timeoutMs: 0, idleTimeoutMs: 800, retries: { perTryIdleTimeoutMs: 400 }, healthCheck: { path: '/health' } },
      },
    },
    iris: {
      protocol: 'tfserving',
      versions: { '1': { endpoints: ['127.0.0.1:1'], healthCheck: { intervalMs: 200, timeoutMs: 150 } } },
    },
  },
};

const stack = useStack(config);
const demo = (key: string) => stack().demos.get(key)?.[0]?.url as string;
const v2Input = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['nice'] }] };
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'tinylm', messages: [{ role: 'user', content: 'the white rabbit' }], max_tokens: 8, ...extra });

async function timed(p: Promise<Response>): Promise<{ res: Response; body: unknown; ms: number }> {
  const t0 = performance.now();
  const res = await p;
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* asserted by the caller */
  }
  return { res, body, ms: performance.now() - t0 };
}

describe("Envoy's local replies, as JSON in the client's protocol", () => {
  it("leaves the ext-proc's own error bodies untouched (no double wrapping)", async () => {
    const v2 = await timed(postJson(`${stack().url}/v2/models/nope/infer`, v2Input));
    expect(v2.res.status).toBe(404);
    expect(v2.body).toEqual({ error: "The model 'nope' does not exist", code: 'model_not_found' });
    const openai = await timed(postJson(`${stack().url}/v1/chat/completions`, { model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }] }));
    expect(openai.res.status).toBe(404);
    expect(openai.body).toEqual({
      error: { message: "The model 'gpt-nope' does not exist", type: 'not_found_error', param: 'model', code: 'model_not_found' },
    });
  });

  it('answers a too-large body with 413 in each protocol, with the request id', async () => {
    const big = 'x'.repeat(100 * 1024);
    const openai = await timed(postJson(`${stack().url}/v1/chat/completions`, big, { 'x-request-id': 'req-413-openai' }));
    expect(openai.res.status).toBe(413);
    expect(openai.res.headers.get('x-request-id')).toBe('req-413-openai');
    expect(openai.body).toEqual({
      error: {
        message: "The request body is larger than the gateway's limit of 65536 bytes",
        type: 'invalid_request_error',
        param: null,
        code: 'request_too_large',
        request_id: 'req-413-openai',
      },
    });
    const v2 = await timed(postJson(`${stack().url}/v2/models/sentiment/infer`, big));
    expect(v2.res.status).toBe(413);
    const id = v2.res.headers.get('x-request-id');
    expect(id).toBeTruthy();
    expect(v2.body).toEqual({ error: "The request body is larger than the gateway's limit of 65536 bytes", code: 'request_too_large', request_id: id });
  });

  it('answers a request Envoy rejects itself (an escaped slash in the path) with 400 as JSON', async () => {
    const v2 = await timed(postJson(`${stack().url}/v2/models/sentiment%2Fv1/infer`, v2Input));
    expect(v2.res.status).toBe(400);
    expect(v2.body).toMatchObject({ error: 'The gateway rejected this request as malformed (path_normalization_failed)', code: 'bad_request' });
    const openai = await timed(postJson(`${stack().url}/v1/chat/completions%2F`, chat()));
    expect(openai.res.status).toBe(400);
    expect(openai.body).toMatchObject({ error: { type: 'invalid_request_error', code: 'bad_request', param: null } });
  });
});

describe('circuit breaking: beyond the limits a fast 503, never a queue', () => {
  it('serves what fits (2 running, maybe 1 waiting) and refuses the rest at once with JSON 503', async () => {
    const delayMs = 1_500;
    await setFault(demo('sentiment@v1'), { mode: 'slow', delayMs });
    const overflows = async () =>
      (await envoyStat(stack().adminUrl, 'cluster.sentiment@v1.upstream_rq_pending_overflow')) +
      (await envoyStat(stack().adminUrl, 'cluster.sentiment@v1.upstream_rq_active_overflow'));
    const overflowBefore = await overflows();
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => timed(postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, v2Input, { 'x-request-id': `burst-${i}` }))),
      );
      const served = results.filter((r) => r.res.status === 200);
      const refused = results.filter((r) => r.res.status === 503);
      expect(served.length + refused.length).toBe(8);
      // Envoy admits 2 at once; the single waiting slot may or may not get its turn before the burst ends.
      expect(served.length).toBeGreaterThanOrEqual(2);
      expect(served.length).toBeLessThanOrEqual(3);
      for (const r of refused) {
        // Refused without waiting for the slow model: well before its delay.
        expect(r.ms).toBeLessThan(delayMs);
        expect(r.res.headers.get('retry-after')).toBe('1');
        expect(r.body).toEqual({ error: 'The model is at its concurrency limit; retry shortly', code: 'overloaded', request_id: r.res.headers.get('x-request-id') });
        expect(r.res.headers.get('x-request-id')).toMatch(/^burst-\d$/);
      }
      // Counted by Envoy: what an operator watches.
      expect(await overflows()).toBe(overflowBefore + refused.length);
    } finally {
      await setFault(demo('sentiment@v1'), { mode: 'ok' });
    }
  });
});

describe('per-version timeouts, streaming-aware', () => {
  it('ends a short call that overruns its version timeout with a JSON 504', async () => {
    await setFault(demo('sentiment@v2'), { mode: 'slow', delayMs: 3_000, count: 1 });
    const r = await timed(postJson(`${stack().url}/v2/models/sentiment/versions/v2/infer`, v2Input));
    expect(r.res.status).toBe(504);
    expect(r.ms).toBeLessThan(3_000);
    expect(r.body).toMatchObject({ error: 'The model did not answer in time', code: 'upstream_timeout' });
  });

  it('does not cut a long SSE stream that keeps flowing (stream outlives every idle timeout)', async () => {
    const t0 = performance.now();
    const res = await postJson(`${stack().url}/v1/chat/completions`, chat({ max_tokens: 100, temperature: 0, stream: true }));
    expect(res.status).toBe(200);
    const text = await res.text();
    const elapsed = performance.now() - t0;
    const events = text.split('\n\n').filter(Boolean);
    // 100 tokens at ~15 ms: longer than both the 400 ms per-try and 800 ms overall idle timeouts.
    expect(elapsed).toBeGreaterThan(800);
    expect(events.at(-1)).toBe('data: [DONE]');
    const finish = events
      .map((e) => e.slice('data: '.length))
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d) as { choices: { finish_reason: string | null }[] })
      .flatMap((c) => c.choices.map((x) => x.finish_reason))
      .filter(Boolean);
    expect(finish).toEqual(['length']);
  });

  it('retries an attempt that stays silent past the per-try idle timeout, before any byte reached the client', async () => {
    const retriesBefore = await envoyStat(stack().adminUrl, 'cluster.tinylm@v1.upstream_rq_retry');
    await setFault(demo('tinylm@v1'), { mode: 'slow', delayMs: 5_000, count: 1 });
    const r = await timed(postJson(`${stack().url}/v1/chat/completions`, chat({ stream: true })));
    expect(r.res.status).toBe(200);
    expect(String(r.body)).toContain('data: [DONE]');
    expect(r.ms).toBeLessThan(5_000);
    expect(await envoyStat(stack().adminUrl, 'cluster.tinylm@v1.upstream_rq_retry')).toBe(retriesBefore + 1);
  });
});

describe('no healthy instance', () => {
  it('answers JSON 503 while the only instance is not ready, and serves again once it is', async () => {
    const url = demo('iris@1');
    await setFault(url, { mode: 'notready' });
    try {
      let last: Awaited<ReturnType<typeof timed>> | undefined;
      await eventually('the gateway answers 503 no_healthy_upstream', async () => {
        last = await timed(postJson(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] }));
        return last.res.status === 503;
      });
      expect(last?.body).toMatchObject({ error: 'No healthy instance of the model is available', code: 'no_healthy_upstream' });
      expect(last?.res.headers.get('retry-after')).toBe('1');
    } finally {
      await setFault(url, { mode: 'ok' });
    }
    await eventually('the instance is back in rotation', async () => {
      const res = await postJson(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
      await res.arrayBuffer();
      return res.status === 200;
    });
  });
});
