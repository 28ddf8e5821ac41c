import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoServer } from '../common.js';
import { startTextgenServer } from './server.js';

const TOKEN_DELAY_MS = 20;
let server: DemoServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startTextgenServer({ port: 0, tokenDelayMs: TOKEN_DELAY_MS });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(() => server.close());

const postJson = (path: string, body: unknown) =>
  fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
// At temperature 0 "rabbit" leads into a loop with no sentence end, so length is guaranteed.
const LOOPING = { model: 'tinylm', messages: [{ role: 'user' as const, content: 'the white rabbit' }], temperature: 0 };

describe('chat completions', () => {
  it('returns an OpenAI-shaped completion continuing from the last user word', async () => {
    const r = await client.chat.completions.create({ ...LOOPING, max_tokens: 6 });
    expect(r).toMatchObject({
      object: 'chat.completion',
      model: 'tinylm',
      choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'length', logprobs: null }],
      usage: { prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 },
    });
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.choices[0]!.message.content).toBe('with the little door she was');
    expect(typeof r.system_fingerprint).toBe('string');
  });

  it('is deterministic per prompt and seed, and n gives distinct choices', async () => {
    const req = { model: 'tinylm', messages: [{ role: 'user' as const, content: 'Tell me about Alice' }], n: 3, seed: 42 };
    const a = await client.chat.completions.create(req);
    const b = await client.chat.completions.create(req);
    expect(a.choices.map((c) => c.message.content)).toEqual(b.choices.map((c) => c.message.content));
    expect(a.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(new Set(a.choices.map((c) => c.message.content)).size).toBeGreaterThan(1);
    const c = await client.chat.completions.create({ ...req, n: 1, max_completion_tokens: 4 });
    expect(c.usage!.completion_tokens).toBeLessThanOrEqual(4);
  });

  it('cuts at a stop sequence', async () => {
    const r = await client.chat.completions.create({ ...LOOPING, max_tokens: 20, stop: ['door'] });
    expect(r.choices[0]!.message.content).toBe('with the little ');
    expect(r.choices[0]!.finish_reason).toBe('stop');
  });

  it('streams chunks incrementally, ending with usage and [DONE]', async () => {
    const res = await postJson('/v1/chat/completions', { ...LOOPING, max_tokens: 8, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const arrivals: number[] = [];
    let raw = '';
    const decoder = new TextDecoder();
    for await (const part of res.body!) {
      arrivals.push(Date.now());
      raw += decoder.decode(part, { stream: true });
    }
    // Tokens are paced, so the body must arrive in several reads spread over time.
    expect(arrivals.length).toBeGreaterThan(4);
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual(6 * TOKEN_DELAY_MS);

    const events = raw.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const words = chunks.slice(1, 9).map((c) => c.choices[0].delta.content);
    expect(words).toEqual(['with ', 'the ', 'little ', 'door ', 'she ', 'was ', 'not ', 'a']);
    expect(chunks[9].choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    expect(chunks[10]).toMatchObject({ object: 'chat.completion.chunk', choices: [], usage: { completion_tokens: 8 } });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
  });

  it('streamed text equals the non-streamed text through the openai client', async () => {
    const req = { model: 'tinylm', messages: [{ role: 'user' as const, content: 'the Queen said' }], seed: 7, max_tokens: 12 };
    const whole = await client.chat.completions.create(req);
    const stream = await client.chat.completions.create({ ...req, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
  });
});

describe('legacy completions', () => {
  it('completes, echoes and streams', async () => {
    const r = await client.completions.create({ model: 'tinylm', prompt: 'the white rabbit', max_tokens: 3, temperature: 0, echo: true });
    expect(r).toMatchObject({
      object: 'text_completion',
      choices: [{ text: 'the white rabbit with the little', index: 0, logprobs: null, finish_reason: 'length' }],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
    const stream = await client.completions.create({ model: 'tinylm', prompt: ['rabbit', 'rabbit'], max_tokens: 3, temperature: 0, stream: true });
    const texts = ['', ''];
    for await (const chunk of stream) for (const c of chunk.choices) texts[c.index] += c.text;
    expect(texts).toEqual(['with the little', 'with the little']);
  });
});

describe('embeddings', () => {
  it('base64 (the client default) decodes to the same floats as the float format', async () => {
    const input = ['the white rabbit ran', 'a rabbit ran away', 'cakes and ale'];
    const viaBase64 = await client.embeddings.create({ model: 'tinylm', input });
    const asFloat = await client.embeddings.create({ model: 'tinylm', input, encoding_format: 'float' });
    expect(viaBase64.data.map((d) => d.embedding)).toEqual(asFloat.data.map((d) => d.embedding));
    expect(asFloat).toMatchObject({ object: 'list', model: 'tinylm', usage: { prompt_tokens: 11, total_tokens: 11 } });
    const [a, b, c] = asFloat.data.map((d) => d.embedding) as [number[], number[], number[]];
    expect(a).toHaveLength(64);
    expect(Math.hypot(...a)).toBeCloseTo(1, 5);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
  });

  it('honours dimensions and rejects more than the model has', async () => {
    const r = await client.embeddings.create({ model: 'tinylm', input: 'hello', dimensions: 8, encoding_format: 'float' });
    expect(r.data[0]!.embedding).toHaveLength(8);
    await expect(client.embeddings.create({ model: 'tinylm', input: 'hello', dimensions: 65 })).rejects.toMatchObject({
      status: 400,
      param: 'dimensions',
    });
  });
});

describe('errors, models and health', () => {
  it('unknown model is a 404 model_not_found', async () => {
    await expect(client.chat.completions.create({ ...LOOPING, model: 'gpt-9' })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      type: 'invalid_request_error',
    });
  });

  it('invalid parameters are 400 in the OpenAI error shape', async () => {
    const res = await postJson('/v1/chat/completions', { ...LOOPING, temperature: 5 });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: 'temperature', code: null },
    });
    const bad = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.type).toBe('invalid_request_error');
    const unknown = await fetch(`${server.url}/v1/nothing`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).toBe('Invalid URL (GET /v1/nothing)');
  });

  it('lists and retrieves the model; health follows the notready fault', async () => {
    expect((await client.models.list()).data).toEqual([{ id: 'tinylm', object: 'model', created: expect.any(Number), owned_by: 'demo' }]);
    expect((await client.models.retrieve('tinylm')).id).toBe('tinylm');
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: 'ok' });
    await postJson('/__demo/fault', { mode: 'notready' });
    try {
      expect((await fetch(`${server.url}/health`)).status).toBe(503);
    } finally {
      await postJson('/__demo/fault', { mode: 'ok' });
    }
  });
});
