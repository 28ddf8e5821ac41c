import { describe, expect, it } from 'vitest';
import { baseConfig, demoStats, postJson, useStack } from '../harness/e2e.js';
import { readStream } from '../harness/sse.js';

const stack = useStack(baseConfig());

const v2Input = (texts: string[]) => ({ inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }] });

describe('walking skeleton: client → Envoy → ext_proc → model servers', () => {
  it('runs a real Envoy', () => {
    // Printed so the test output names the Envoy that ran.
    console.log(`e2e against Envoy ${stack().envoyVersion}`);
    expect(stack().envoyVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each(['v1', 'v2'])('serves V2 inference on sentiment %s, and says which version answered', async (version) => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/${version}/infer`, v2Input(['I love this wonderful movie']));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model')).toBe('sentiment');
    expect(res.headers.get('x-gateway-model-version')).toBe(version);
    const body = (await res.json()) as { model_version: string; outputs: { name: string; data: unknown[] }[] };
    expect(body.model_version).toBe(version);
    expect(body.outputs.find((o) => o.name === 'label')?.data).toEqual(['positive']);
  });

  it('resolves an alias in the path to its version', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/canary/infer`, v2Input(['terrible awful film']));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model-version')).toBe('v2');
  });

  it('serves an OpenAI chat completion', async () => {
    const res = await postJson(`${stack().url}/v1/chat/completions`, {
      model: 'tinylm',
      messages: [{ role: 'user', content: 'Tell me about the rabbit' }],
      max_tokens: 8,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model')).toBe('tinylm');
    const body = (await res.json()) as { object: string; choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]?.message.content.length).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('streams SSE through Envoy incrementally, not all at once at the end', async () => {
    const res = await postJson(`${stack().url}/v1/chat/completions`, {
      model: 'tinylm',
      messages: [{ role: 'user', content: 'Tell me about the rabbit' }],
      max_tokens: 20,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const { arrivals, spreadMs, events } = await readStream(res);
    // The demo server sleeps ~15 ms per token: a buffered stream would arrive in one or two reads.
    expect(arrivals.length).toBeGreaterThanOrEqual(5);
    expect(spreadMs).toBeGreaterThan(100);
    expect(events.at(-1)).toBe('data: [DONE]');
    const usage = events.map((e) => e.slice('data: '.length)).filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as { usage?: unknown }).find((c) => c.usage);
    expect(usage).toBeDefined();
  });

  it('answers 404 in the client protocol for an unknown model, and no model server sees it', async () => {
    const before = await demoStats(stack().demos.get('sentiment@v1')?.[0]?.url as string);
    const v2 = await postJson(`${stack().url}/v2/models/nope/infer`, v2Input(['x']));
    expect(v2.status).toBe(404);
    expect(await v2.json()).toMatchObject({ error: expect.stringContaining('nope') });
    const openai = await postJson(`${stack().url}/v1/chat/completions`, { model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }] });
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
    const after = await demoStats(stack().demos.get('sentiment@v1')?.[0]?.url as string);
    expect(after.requests).toBe(before.requests);
  });

  it('answers 404 for an unknown version', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v9/infer`, v2Input(['x']));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: expect.stringContaining('v9') });
  });

  it('answers 400 for malformed JSON before any model server sees it', async () => {
    const tinylm = stack().demos.get('tinylm@v1')?.[0]?.url as string;
    const before = await demoStats(tinylm);
    const res = await postJson(`${stack().url}/v1/chat/completions`, '{"model": "tinylm", "messages": [');
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; type: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/JSON/);
    expect((await demoStats(tinylm)).requests).toBe(before.requests);
  });

  it('ignores a client-supplied cluster header', async () => {
    for (const forged of ['sentiment@v2', 'ext_proc', 'tinylm@v1']) {
      const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, v2Input(['fine']), { 'x-gateway-cluster': forged });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-model-version')).toBe('v1');
    }
    const v1 = await demoStats(stack().demos.get('sentiment@v1')?.[0]?.url as string);
    expect(v1.last?.headers['x-gateway-cluster']).toBe('sentiment@v1');
  });

  it('passes headers up to Envoy\'s limit through to the model server', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, v2Input(['fine']), { 'x-trace-context': 'a'.repeat(40_000) });
    expect(res.status).toBe(200);
  });

  it('serves TF Serving predict through a label', async () => {
    const res = await postJson(`${stack().url}/v1/models/iris/labels/stable:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-model-version')).toBe('1');
    const body = (await res.json()) as { predictions: number[][] };
    const p = body.predictions[0] as number[];
    expect(p.indexOf(Math.max(...p))).toBe(0);
  });
});
