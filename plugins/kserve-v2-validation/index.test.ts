import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway } from '../sdk/testing.js';
import { fetchSignatures } from './signature.js';

const signature = {
  inputs: [
    { name: 'text', datatype: 'BYTES', shape: [-1] },
    { name: 'image', datatype: 'FP32', shape: [-1, 2, 2], optional: true },
  ],
  outputs: [{ name: 'label' }, { name: 'score' }],
};

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({
    plugins: ['model-router', { plugin: 'kserve-v2-validation', options: { signatures: { 'sentiment@v2': signature } } }],
    models: exampleModels,
  });
});
afterAll(() => gw.close());

const infer = (body: unknown, version = 'v1') => gw.request({ path: `/v2/models/sentiment/versions/${version}/infer`, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const input = (over: Record<string, unknown>) => ({ inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1, 2], ...over }] });

describe('kserve-v2-validation: tensors', () => {
  it.each([
    ['flat FP32', input({})],
    ['nested INT8', input({ datatype: 'INT8', shape: [2, 2], data: [[1, -128], [127, 0]] })],
    ['BOOL', input({ datatype: 'BOOL', shape: [1, 2], data: [true, false] })],
    ['BYTES', input({ datatype: 'BYTES', shape: [2], data: ['a', ''] })],
    ['UINT64 large', input({ datatype: 'UINT64', shape: [1], data: [2 ** 60] })],
    ['a scalar (shape [])', input({ shape: [], data: [1.5] })],
    ['an empty tensor', input({ shape: [0, 3], data: [] })],
    ['with outputs and parameters', { ...input({}), id: 'r1', parameters: { a: 1 }, outputs: [{ name: 'y' }] }],
  ])('passes %s untouched', async (_label, body) => {
    const res = await infer(body);
    expect(res.status).toBe(200);
    expect(res.upstream?.json()).toEqual(body);
  });

  it.each([
    ['no inputs', {}, 'inputs'],
    ['empty inputs', { inputs: [] }, 'inputs'],
    ['inputs not an array', { inputs: { name: 'x' } }, 'inputs'],
    ['a missing name', input({ name: undefined }), 'inputs[0].name'],
    ['an empty name', input({ name: '' }), 'inputs[0].name'],
    ['a missing shape', input({ shape: undefined }), 'inputs[0].shape'],
    ['a negative dimension', input({ shape: [-1] }), 'inputs[0].shape[0]'],
    ['a fractional dimension', input({ shape: [1.5] }), 'inputs[0].shape[0]'],
    ['an unknown datatype', input({ datatype: 'FP33' }), 'inputs[0].datatype'],
    ['a lower-case datatype', input({ datatype: 'fp32' }), 'inputs[0].datatype'],
    ['data not an array', input({ data: 1 }), 'inputs[0].data'],
    ['too few elements', input({ shape: [3] }), 'inputs[0].data'],
    ['too many elements', input({ shape: [1] }), 'inputs[0].data'],
    ['a shape whose product overflows', input({ shape: [2 ** 40, 2 ** 40] }), 'inputs[0].data'],
    ['strings in FP32', input({ data: ['1', '2'] }), 'inputs[0].data'],
    ['numbers in BYTES', input({ datatype: 'BYTES', data: [1, 2] }), 'inputs[0].data'],
    ['null in FP32', input({ data: [1, null] }), 'inputs[0].data'],
    ['a fraction in INT32', input({ datatype: 'INT32', data: [1, 2.5] }), 'inputs[0].data'],
    ['300 in UINT8', input({ datatype: 'UINT8', data: [1, 300] }), 'inputs[0].data'],
    ['-1 in UINT16', input({ datatype: 'UINT16', data: [1, -1] }), 'inputs[0].data'],
    ['70000 in FP16', input({ datatype: 'FP16', data: [1, 70000] }), 'inputs[0].data'],
    ['1e39 in FP32', input({ data: [1, 1e39] }), 'inputs[0].data'],
    ['numbers in BOOL', input({ datatype: 'BOOL', data: [0, 1] }), 'inputs[0].data'],
    ['objects in data', input({ data: [{ a: 1 }, 2] }), 'inputs[0].data'],
    ['duplicate input names', { inputs: [input({}).inputs[0], input({}).inputs[0]] }, 'inputs[1].name'],
    ['outputs without a name', { ...input({}), outputs: [{}] }, 'outputs[0].name'],
  ])('answers 400 for %s, naming %s', async (_label, body, param) => {
    const res = await infer(body);
    expect(res.status).toBe(400);
    const json = res.json<{ error: string; param?: string }>();
    expect(json.param).toBe(param);
    expect(json.error.startsWith(param)).toBe(true);
    expect(res.upstream).toBeUndefined();
  });

  it('answers 400 for huge numbers (1e400 parses to Infinity)', async () => {
    const res = await infer('{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1e400]}]}');
    expect(res.status).toBe(400);
    expect(res.json<{ error: string }>().error).toMatch(/non-finite/);
  });

  it('answers 415 for the binary tensor extension (refused by default), naming it', async () => {
    const res = await gw.request({ path: '/v2/models/sentiment/infer', body: 'xx', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '2' } });
    expect(res.status).toBe(415);
    expect(res.json<{ error: string }>().error).toMatch(/binary tensor data extension \(inference-header-content-length\) is not enabled for model 'sentiment'/);
    const param = await infer({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [], parameters: { binary_data_size: 4 } }] });
    expect(param.status).toBe(415);
  });

  it('answers 405 for a wrong method on infer and on metadata, with Allow', async () => {
    const get = await gw.request({ method: 'GET', path: '/v2/models/sentiment/infer' });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const post = await gw.request({ method: 'POST', path: '/v2/models/sentiment', json: {} });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
  });
});

describe('kserve-v2-validation: declared signatures', () => {
  const good = { inputs: [{ name: 'text', shape: [3], datatype: 'BYTES', data: ['a', 'b', 'c'] }], outputs: [{ name: 'label' }] };

  it('accepts inputs that fit the signature (-1 matches any size), optional inputs may be left out', async () => {
    expect((await infer(good, 'v2')).status).toBe(200);
    const withImage = { inputs: [...good.inputs, { name: 'image', shape: [1, 2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    expect((await infer(withImage, 'v2')).status).toBe(200);
  });

  it('only applies to the version it names', async () => {
    expect((await infer({ inputs: [{ name: 'other', shape: [1], datatype: 'FP32', data: [1] }] }, 'v1')).status).toBe(200);
  });

  it.each([
    ['an unknown input', { inputs: [{ name: 'txt', shape: [1], datatype: 'BYTES', data: ['a'] }] }, /no input 'txt'/],
    ['a wrong datatype', { inputs: [{ name: 'text', shape: [1], datatype: 'FP32', data: [1] }] }, /is BYTES, not FP32/],
    ['a wrong rank', { inputs: [{ name: 'text', shape: [1, 1], datatype: 'BYTES', data: ['a'] }] }, /shape \[-1\]/],
    ['a wrong fixed dimension', { inputs: [...good.inputs, { name: 'image', shape: [1, 2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }] }, /shape \[-1, 2, 2\]/],
    ['a missing required input', { inputs: [{ name: 'image', shape: [1, 2, 2], datatype: 'FP32', data: [1, 2, 3, 4] }] }, /missing input 'text'/],
    ['an unknown output', { ...good, outputs: [{ name: 'logits' }] }, /no output 'logits'/],
  ])('answers 400 for %s', async (_label, body, message) => {
    const res = await infer(body, 'v2');
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: expect.stringMatching(message), code: 'signature_mismatch' });
  });
});

describe('fetchSignatures', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/v2/models/m/versions/v1') return res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'm', platform: 'x', inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("reads each version's signature from its V2 metadata endpoint, and leaves unreachable ones unchecked", async () => {
    const source = await fetchSignatures(
      [
        { model: 'm', version: 'v1', endpoint: `127.0.0.1:${port}` },
        { model: 'm', version: 'v2', endpoint: `127.0.0.1:${port}` },
      ],
      { timeoutMs: 1000, refreshMs: 60_000 },
      pino({ level: 'silent' }),
    );
    expect(source.get('m', 'v1')).toEqual({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1], optional: false }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }] });
    expect(source.get('m', 'v2')).toBeUndefined();
    source.close();
  });
});
