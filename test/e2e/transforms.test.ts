import { describe, expect, it } from 'vitest';
import { wordFilter } from '../../plugins/sse-content-filter/filter.js';
import { baseConfig, baseModel, demoStats, postJson, useStack } from '../harness/e2e.js';
import { readStream } from '../harness/sse.js';

// The four example transforms on real traffic: client → Envoy → ext-proc → demo models.

const BANNED = ['the', 'and', 'a'];
const SYSTEM_PROMPT = 'You are a terse assistant.';

const base = baseConfig();
const stack = useStack({
  ...base,
  models: {
    ...base.models,
    sentiment: { ...baseModel('sentiment'), plugins: [{ type: 'sentiment-text' }] },
    tinylm: {
      ...baseModel('tinylm'),
      plugins: [
        { type: 'pii-redact' },
        { type: 'request-defaults', options: { defaults: { max_tokens: 6 }, systemPrompt: SYSTEM_PROMPT } },
        { type: 'sse-content-filter', name: 'filter', options: { words: BANNED } },
      ],
    },
  },
});

const demo = (key: string) => stack().demos.get(key)?.[0]?.url as string;
type LastBody = { messages: { role: string; content: string }[]; max_tokens?: number; [k: string]: unknown };
const lastBody = async (key: string) => JSON.parse((await demoStats(demo(key))).last?.body ?? 'null') as LastBody;

describe('sentiment-text: friendly JSON in, {label, score} out', () => {
  it('answers {"text"} with a label and a score; the model received a V2 tensor request', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, { text: 'I love this wonderful movie' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ label: 'positive', score: expect.any(Number) });
    expect(await lastBody('sentiment@v1')).toEqual({
      inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['I love this wonderful movie'] }],
      outputs: [{ name: 'label' }, { name: 'score' }],
    });
  });

  it('answers {"texts": [...]} with results in order, on whichever version the split picks', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/infer`, { texts: ['wonderful, lovely, great', 'terrible awful boring'] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { results: { label: string; score: number }[] };
    expect(body.results.map((r) => r.label)).toEqual(['positive', 'negative']);
    for (const r of body.results) expect(r.score).toBeTypeOf('number');
  });

  it('leaves standard V2 clients untouched', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v2/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['great'] }] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model_version: 'v2', outputs: [{ name: 'label' }, { name: 'score' }] });
  });

  it('rejects a bad friendly body with a 400 naming the field; the model never sees it', async () => {
    const before = (await demoStats(demo('sentiment@v1'))).requests;
    const res = await postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, { texts: ['fine', 42] });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: expect.stringContaining('texts[1]'), param: 'texts[1]' });
    expect((await demoStats(demo('sentiment@v1'))).requests).toBe(before);
  });
});

describe('pii-redact: e-mail addresses and phone numbers never reach the model', () => {
  it('redacts the prompt the model receives and tells the client how much', async () => {
    const res = await postJson(`${stack().url}/v1/chat/completions`, {
      model: 'tinylm',
      messages: [{ role: 'user', content: 'Mail alice@example.com or call +44 20 7946 0958 about the rabbit' }],
      max_tokens: 4,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-gateway-pii-redacted')).toBe('emails=1,phones=1');
    await res.arrayBuffer();
    const seen = await lastBody('tinylm@v1');
    const user = seen.messages.find((m) => m.role === 'user');
    expect(user?.content).toBe('Mail [EMAIL] or call [PHONE] about the rabbit');
    expect(JSON.stringify(seen)).not.toMatch(/alice@example\.com|7946/);
  });
});

describe('request-defaults: per-model parameters and system prompt', () => {
  it('adds the system prompt and the default max_tokens the client left out; the model honours it', async () => {
    const res = await postJson(`${stack().url}/v1/chat/completions`, { model: 'tinylm', messages: [{ role: 'user', content: 'Tell me about Alice' }] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: { completion_tokens: number } };
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(6);
    const seen = await lastBody('tinylm@v1');
    expect(seen.max_tokens).toBe(6);
    expect(seen.messages[0]).toEqual({ role: 'system', content: SYSTEM_PROMPT });
  });

  it('keeps what the client set', async () => {
    const res = await postJson(`${stack().url}/v1/chat/completions`, { model: 'tinylm', messages: [{ role: 'user', content: 'Tell me about Alice' }], max_tokens: 9 });
    await res.arrayBuffer();
    expect((await lastBody('tinylm@v1')).max_tokens).toBe(9);
  });
});

describe('sse-content-filter: banned words replaced in a stream that stays streamed', () => {
  it('filters each event of a live SSE stream as it arrives', async () => {
    const request = { model: 'tinylm', messages: [{ role: 'user', content: 'Tell me about the rabbit and the queen' }], max_tokens: 24, stream: true };
    const res = await postJson(`${stack().url}/v1/chat/completions`, request);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const read = await readStream(res);
    // Streamed, not buffered: many reads spread over the generation (the model pauses ~15 ms per token).
    expect(read.arrivals.length).toBeGreaterThanOrEqual(5);
    expect(read.spreadMs).toBeGreaterThan(100);

    const events = read.events.map((e) => e.slice('data: '.length));
    expect(events.at(-1)).toBe('[DONE]');
    const streamed = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
      .join('');

    // Ask the model directly, bypassing the gateway, with exactly what it got through it: the
    // demo model is deterministic, so this is the unfiltered text of the same generation.
    const sent = await lastBody('tinylm@v1');
    const direct = await postJson(`${demo('tinylm@v1')}/v1/chat/completions`, { ...sent, stream: false });
    const raw = ((await direct.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? '';
    const expected = wordFilter({ words: BANNED, replacement: '***', caseSensitive: false, wholeWords: true })(raw);
    expect(expected.hits).toBeGreaterThan(0);
    expect(streamed).toBe(expected.text);
    expect(streamed).not.toMatch(/\b(the|and|a)\b/i);
  });
});
