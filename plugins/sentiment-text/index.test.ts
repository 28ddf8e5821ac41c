import { describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type UpstreamRequest } from '../sdk/testing.js';
import sentimentText from './index.js';

const gateway = () =>
  createTestGateway({
    plugins: ['model-router'],
    models: { ...exampleModels, sentiment: { ...exampleModels.sentiment, protocol: 'kserve-v2', plugins: [sentimentText] } },
  });

/** Plays the demo sentiment model: scores whatever texts reached it, so the test sees the translation both ways. */
const model = (req: UpstreamRequest) => {
  const texts = req.json<{ inputs: { data: string[] }[] }>().inputs[0]?.data ?? [];
  return {
    json: {
      model_name: 'sentiment',
      model_version: 'v1',
      outputs: [
        { name: 'label', shape: [texts.length], datatype: 'BYTES', data: texts.map((t) => (t.includes('love') ? 'positive' : 'negative')) },
        { name: 'score', shape: [texts.length], datatype: 'FP32', data: texts.map((t) => t.length / 100) },
      ],
    },
  };
};

describe('sentiment-text', () => {
  it('turns {"text"} into a V2 tensor request and the output tensors into {label, score}', async () => {
    const gw = await gateway();
    const res = await gw.request({ path: '/v2/models/sentiment/infer', json: { text: 'I love it' } }, { upstream: model });
    expect(res.upstream?.json()).toEqual({
      inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['I love it'] }],
      outputs: [{ name: 'label' }, { name: 'score' }],
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ label: 'positive', score: 0.09 });
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(res.modes.responseBody).toBe('BUFFERED');
  });

  it('batches {"texts": [...]} into one tensor and answers {"results": [...]} in order; keeps the id', async () => {
    const gw = await gateway();
    const res = await gw.request({ path: '/v2/models/sentiment/versions/v2/infer', json: { id: 'r-1', texts: ['love', 'hate it'] } }, { upstream: model });
    expect(res.upstream?.json()).toMatchObject({ id: 'r-1', inputs: [{ shape: [2], data: ['love', 'hate it'] }] });
    expect(res.upstream?.cluster).toBe('sentiment@v2');
    expect(res.json()).toEqual({ results: [{ label: 'positive', score: 0.04 }, { label: 'negative', score: 0.07 }] });
  });

  it('leaves standard V2 requests alone both ways, and does not buffer their responses', async () => {
    const gw = await gateway();
    const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['I love it'] }] };
    const res = await gw.request({ path: '/v2/models/sentiment/infer', json: v2 }, { upstream: model });
    expect(res.upstream?.json()).toEqual(v2);
    expect(res.json()).toMatchObject({ outputs: [{ name: 'label', data: ['positive'] }, { name: 'score' }] });
    expect(res.phases).toEqual(['requestHeaders', 'requestBody', 'responseHeaders']);
  });

  it('does not even read the body of non-inference requests', async () => {
    const gw = await gateway();
    const res = await gw.request({ method: 'GET', path: '/v2/models/sentiment' }, { upstream: { json: { name: 'sentiment' } } });
    expect(res.phases).toEqual(['requestHeaders', 'responseHeaders']);
  });

  it('answers a malformed friendly body with a 400 that names the field; the model never sees it', async () => {
    const gw = await gateway();
    const empty = await gw.request({ path: '/v2/models/sentiment/infer', json: { text: '' } });
    expect(empty.status).toBe(400);
    expect(empty.json()).toMatchObject({ error: expect.stringContaining('text'), param: 'text' });
    expect(empty.upstream).toBeUndefined();
    const wrongType = await gw.request({ path: '/v2/models/sentiment/infer', json: { texts: ['ok', 3] } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json()).toMatchObject({ param: 'texts[1]' });
    const extra = await gw.request({ path: '/v2/models/sentiment/infer', json: { text: 'x', lang: 'en' } });
    expect(extra.status).toBe(400);
  });

  it('passes the model error through unchanged, and reports a model reply without the tensors as 502', async () => {
    const gw = await gateway();
    const failed = await gw.request({ path: '/v2/models/sentiment/infer', json: { text: 'x' } }, { upstream: { status: 400, json: { error: 'bad input' } } });
    expect(failed.status).toBe(400);
    expect(failed.json()).toEqual({ error: 'bad input' });
    const odd = await gw.request({ path: '/v2/models/sentiment/infer', json: { text: 'x' } }, { upstream: { json: { outputs: [{ name: 'probabilities', data: [0.1] }] } } });
    expect(odd.status).toBe(502);
    expect(odd.json()).toMatchObject({ code: 'bad_upstream_response' });
  });

  it('rejects unknown options at load, naming the field', async () => {
    await expect(createTestGateway({ plugins: [{ plugin: sentimentText, options: { maxTexts: 0 } }] })).rejects.toThrow(/plugins\[0\] \(sentiment-text\)\.options\.maxTexts/);
  });
});
