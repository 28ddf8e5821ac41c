import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoServer } from '../common.js';
import { createSentimentModel } from './model.js';
import { startSentimentServer } from './server.js';

// Lexicon handles negation; naive Bayes only sees "not" and "bad", both learnt as negative.
const DISAGREEMENT = 'The movie was not bad';

let v1: DemoServer;
let v2: DemoServer;
beforeAll(async () => {
  [v1, v2] = await Promise.all([
    startSentimentServer({ port: 0, method: 'lexicon' }),
    startSentimentServer({ port: 0, method: 'naive-bayes', name: 'nb' }),
  ]);
});
afterAll(() => Promise.all([v1.close(), v2.close()]));

const infer = (server: DemoServer, body: unknown, path = '/v2/models/sentiment/infer') =>
  fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const textInput = (data: unknown, shape: number[]) => ({ name: 'text', datatype: 'BYTES', shape, data });

async function classify(server: DemoServer, texts: string[]) {
  const res = await infer(server, { inputs: [textInput(texts, [texts.length])] });
  expect(res.status).toBe(200);
  const body = await res.json();
  return { labels: body.outputs[0].data as string[], scores: body.outputs[1].data as number[], body };
}

describe('sentiment models', () => {
  it.each(['lexicon', 'naive-bayes'] as const)('%s gets the obvious cases right', (method) => {
    const model = createSentimentModel(method);
    expect(model.predict('I love this wonderful movie').label).toBe('positive');
    expect(model.predict('terrible awful film').label).toBe('negative');
  });

  it('lexicon flips polarity under negation', () => {
    const lexicon = createSentimentModel('lexicon');
    expect(lexicon.predict('This is good').label).toBe('positive');
    expect(lexicon.predict("This isn't good").label).toBe('negative');
    expect(lexicon.predict('not good, but the ending was wonderful').label).toBe('positive');
  });
});

describe('KServe V2 sentiment server', () => {
  it('classifies on both versions and reports the served version', async () => {
    for (const [server, version] of [[v1, 'v1'], [v2, 'v2']] as const) {
      const { labels, scores, body } = await classify(server, ['I love this wonderful movie', 'terrible awful film']);
      expect(labels).toEqual(['positive', 'negative']);
      expect(body).toMatchObject({ model_name: 'sentiment', model_version: version });
      expect(body.outputs[1]).toMatchObject({ name: 'score', datatype: 'FP32', shape: [2] });
      for (const s of scores) expect(s).toBeGreaterThan(0.5);
    }
  });

  it('the two versions disagree on a negated sentence', async () => {
    expect((await classify(v1, [DISAGREEMENT])).labels).toEqual(['positive']);
    expect((await classify(v2, [DISAGREEMENT])).labels).toEqual(['negative']);
  });

  it('accepts nested data, echoes id, applies the output filter and versioned paths', async () => {
    const res = await infer(
      v2,
      { id: 'req-7', inputs: [textInput([['great'], ['awful']], [2, 1])], outputs: [{ name: 'label' }] },
      '/v2/models/sentiment/versions/v2/infer',
    );
    expect(res.headers.get('x-demo-instance')).toBe('nb');
    expect(await res.json()).toEqual({
      model_name: 'sentiment',
      model_version: 'v2',
      id: 'req-7',
      outputs: [{ name: 'label', shape: [2], datatype: 'BYTES', data: ['positive', 'negative'] }],
    });
  });

  it.each([
    ['malformed JSON', '{"inputs": ['],
    ['wrong input name', { inputs: [{ name: 'txt', datatype: 'BYTES', shape: [1], data: ['hi'] }] }],
    ['wrong datatype', { inputs: [{ name: 'text', datatype: 'FP32', shape: [1], data: [1] }] }],
    ['shape mismatch', { inputs: [textInput(['a', 'b'], [3])] }],
    ['non-string data', { inputs: [textInput([1], [1])] }],
    ['unknown output', { inputs: [textInput(['a'], [1])], outputs: [{ name: 'logits' }] }],
  ])('400 on %s', async (_, body) => {
    const res = await fetch(`${v1.url}/v2/models/sentiment/infer`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.any(String) });
  });

  it('404 for another model name or version, 405 for a wrong method', async () => {
    const body = { inputs: [textInput(['hi'], [1])] };
    expect((await infer(v1, body, '/v2/models/other/infer')).status).toBe(404);
    const wrongVersion = await infer(v1, body, '/v2/models/sentiment/versions/v2/infer');
    expect(wrongVersion.status).toBe(404);
    expect(await wrongVersion.json()).toEqual({ error: "model 'sentiment' version 'v2' not found" });
    expect((await fetch(`${v1.url}/v2/models/sentiment/infer`)).status).toBe(405);
  });

  it('serves metadata and health endpoints', async () => {
    expect(await (await fetch(`${v1.url}/v2`)).json()).toMatchObject({ name: expect.any(String), extensions: [] });
    expect(await (await fetch(`${v1.url}/v2/models/sentiment/versions/v1`)).json()).toEqual({
      name: 'sentiment',
      versions: ['v1'],
      platform: 'demo',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'score', datatype: 'FP32', shape: [-1] },
      ],
    });
    expect(await (await fetch(`${v1.url}/v2/health/live`)).json()).toEqual({ live: true });
    expect(await (await fetch(`${v1.url}/v2/health/ready`)).json()).toEqual({ ready: true });
    expect((await fetch(`${v1.url}/v2/models/sentiment/ready`)).status).toBe(200);
    expect((await fetch(`${v1.url}/v2/models/sentiment/versions/v9/ready`)).status).toBe(404);
  });

  it('notready turns readiness to 503 while inference keeps working', async () => {
    const setFault = (mode: string) => fetch(`${v1.url}/__demo/fault`, { method: 'POST', body: JSON.stringify({ mode }) });
    await setFault('notready');
    try {
      expect((await fetch(`${v1.url}/v2/health/ready`)).status).toBe(503);
      expect((await fetch(`${v1.url}/v2/models/sentiment/ready`)).status).toBe(503);
      expect((await classify(v1, ['great'])).labels).toEqual(['positive']);
    } finally {
      await setFault('ok');
    }
    const stats = await (await fetch(`${v1.url}/__demo/stats`)).json();
    expect(stats.healthChecks).toBeGreaterThanOrEqual(2);
    expect(stats.byPath['/v2/models/sentiment/infer']).toBeGreaterThan(0);
  });

  it('injected errors use the V2 error shape', async () => {
    await fetch(`${v2.url}/__demo/fault`, { method: 'POST', body: JSON.stringify({ mode: 'error', status: 503, count: 1 }) });
    const res = await infer(v2, { inputs: [textInput(['hi'], [1])] });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: expect.stringContaining('fault') });
  });
});
