import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway } from '../sdk/testing.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ plugins: [{ plugin: 'tfserving-validation' }, 'model-router'], models: exampleModels });
});
afterAll(() => gw.close());

const predict = (body: unknown, verb = 'predict') =>
  gw.request({ path: `/v1/models/iris:${verb}`, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('tfserving-validation', () => {
  it.each([
    ['row format', { instances: [[5.1, 3.5, 1.4, 0.2], [6, 3, 4, 1]] }],
    ['row format with named inputs', { signature_name: 'serving_default', instances: [{ x: [1, 2], y: 'a' }, { y: 'b', x: [3, 4] }] }],
    ['row format with b64 values', { instances: [{ b64: 'aGk=' }, { b64: 'aGk=' }] }],
    ['row format mixing b64 and plain strings (both fill a DT_STRING)', { instances: [{ b64: 'aGk=' }, 'hi'] }],
    ['columnar format', { inputs: { x: [[1, 2], [3, 4]] } }],
    ['columnar format, one unnamed input', { inputs: [[1, 2, 3, 4]] }],
  ])('passes %s untouched', async (_label, body) => {
    const res = await predict(body);
    expect(res.status).toBe(200);
    expect(res.upstream?.json()).toEqual(body);
  });

  it.each([
    ['both instances and inputs', { instances: [[1]], inputs: [[1]] }, 'inputs', /not both/],
    ['neither', { signature_name: 'x' }, 'instances', /instances.*or.*inputs/],
    ['empty instances', { instances: [] }, 'instances', /at least one/],
    ['instances not a list', { instances: { x: 1 } }, 'instances', /array/],
    ['null inputs', { inputs: null }, 'inputs', /null/],
    ['a signature_name that is not a string', { signature_name: 5, instances: [[1]] }, 'signature_name', /string/],
    ['instances of different shapes', { instances: [[1, 2], [1, 2, 3]] }, 'instances[1]', /shape of instances\[0\]/],
    ['instances of different kinds', { instances: [[1, 2], ['a', 'b']] }, 'instances[1]', /shape of instances\[0\]/],
    ['a ragged instance', { instances: [[[1, 2], [3]]] }, 'instances[0]', /ragged/],
    ['named instances with different names', { instances: [{ x: 1 }, { y: 1 }] }, 'instances[1]', /same inputs/],
    ['named instances whose input shapes differ', { instances: [{ x: [1, 2] }, { x: [1] }] }, 'instances[1].x', /give 'x' the shape of instances\[0\] \(\[2\] of number\); got \[1\] of number/],
    ['an instance mixing element types', { instances: [[1, 'a']] }, 'instances[0]', /mixes element types \(number, string\)/],
  ])('answers 400 for %s', async (_label, body, param, message) => {
    const res = await predict(body);
    expect(res.status).toBe(400);
    const json = res.json<{ error: string; param?: string }>();
    expect(json).toMatchObject({ error: expect.stringMatching(message), param });
    expect(res.upstream).toBeUndefined();
  });

  it('checks classify and regress requests for examples', async () => {
    expect((await predict({ examples: [{ x: 1 }] }, 'classify')).status).toBe(200);
    const bad = await predict({ instances: [[1]] }, 'regress');
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ param: 'examples' });
  });

  it('answers 405 for GET on predict and POST on model status', async () => {
    const get = await gw.request({ method: 'GET', path: '/v1/models/iris:predict' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const post = await gw.request({ path: '/v1/models/iris/metadata', json: {} });
    expect(post.status).toBe(405);
  });

  it('answers 400 for malformed JSON in the TF Serving error shape', async () => {
    const res = await predict('{"instances": [[1, 2');
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: expect.stringMatching(/not valid JSON/) });
  });
});
