import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway, type TestModel } from '../sdk/testing.js';

const iris: TestModel = { protocol: 'tfserving', versions: ['1', '2'], aliases: { stable: '1' } };

/** Signature defs as TF Serving names them; `-1` is any size. */
const signatures = {
  'iris@1': {
    serving_default: { inputs: { features: { dtype: 'DT_FLOAT', shape: [-1, 4] } } },
    multi: { inputs: { ids: { dtype: 'DT_INT64', shape: [-1, 3] }, text: { dtype: 'DT_STRING', shape: [-1] }, flag: { dtype: 'DT_BOOL', shape: [-1] } } },
    fixed: { inputs: { x: { dtype: 'DT_INT8', shape: [1, 2] } } },
    scalar: { inputs: { s: { dtype: 'DT_DOUBLE', shape: [] } } },
    image: { inputs: { image: { dtype: 'DT_UINT8', shape: [-1, -1, -1, 3] } } },
    anyshape: { inputs: { blob: { dtype: 'DT_STRING' } } },
  },
};

interface Rejection {
  error: string;
  code: string;
  param: string;
}

describe('tfserving-validation: declared signatures', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ plugins: [{ plugin: 'tfserving-validation', options: { signatures } }, 'model-router'], models: { iris } });
  });
  afterAll(() => gw.close());

  const predict = (body: unknown, target = '/versions/1') =>
    gw.request({ path: `/v1/models/iris${target}:predict`, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it.each([
    ['rows of the single input', { instances: [[5.1, 3.5, 1.4, 0.2], [6, 3, 4, 1]] }],
    ['rows keyed by input name', { instances: [{ features: [5.1, 3.5, 1.4, 0.2] }] }],
    ['an empty signature_name (the default)', { signature_name: '', instances: [[1, 2, 3, 4]] }],
    ['several inputs per row, integers, booleans, strings and b64', { signature_name: 'multi', instances: [{ ids: [1, 2, 3], text: 'a', flag: true }, { ids: [4, 5, 6], text: { b64: 'aGk=' }, flag: false }] }],
    ['wildcard dimensions inside an instance', { signature_name: 'image', instances: [[[[1, 2, 3], [4, 5, 6]]], [[[7, 8, 9], [0, 0, 0]]]] }],
    ['a fixed batch of the right size', { signature_name: 'fixed', instances: [[-128, 127]] }],
    ['columns of the single input', { inputs: [[1, 2, 3, 4]] }],
    ['columns keyed by input name', { inputs: { features: [[1, 2, 3, 4], [5, 6, 7, 8]] } }],
    ['columns with different batch sizes per input', { signature_name: 'multi', inputs: { ids: [[1, 2, 3]], text: ['a', { b64: 'aGk=' }], flag: [true, false, true] } }],
    ['a scalar in columnar format', { signature_name: 'scalar', inputs: 1.5 }],
    ['an input of unknown rank', { signature_name: 'anyshape', inputs: [[{ b64: 'aGk=' }]] }],
  ])('passes %s untouched', async (_label, body) => {
    const res = await predict(body);
    expect(res.status).toBe(200);
    expect(res.upstream?.json()).toEqual(body);
  });

  it.each([
    ['an unknown signature_name', 'signature_name', { signature_name: 'nope', instances: [[1, 2, 3, 4]] }, /has no signature 'nope' \(signatures: anyshape, fixed, image, multi, scalar, serving_default\)/],
    ['a misspelt input in a row', 'instances[0].feature', { instances: [{ feature: [1, 2, 3, 4] }] }, /signature 'serving_default'\) has no input 'feature' \(inputs: features\)/],
    ['an extra input in a row', 'instances[0].extra', { instances: [{ features: [1, 2, 3, 4], extra: 1 }] }, /has no input 'extra'/],
    ['a missing input in a row', 'instances[0]', { signature_name: 'multi', instances: [{ ids: [1, 2, 3], text: 'a' }] }, /missing input 'flag' required by model 'iris' \(signature 'multi'\)/],
    ['bare rows for a signature of several inputs', 'instances[0]', { signature_name: 'multi', instances: [[1, 2, 3]] }, /has 3 inputs \(ids, text, flag\); each instance must be an object keyed by input name/],
    ['a row of the wrong length', 'instances[0]', { instances: [[1, 2, 3]] }, /input 'features' has shape \[-1, 4\] \(-1 = any\), so each instance is \[4\]; got \[3\]/],
    ['a row of the wrong rank', 'instances[0]', { instances: [[[1, 2, 3, 4]]] }, /each instance is \[4\]; got \[1, 4\]/],
    ['a later row of the wrong length', 'instances[1]', { instances: [[1, 2, 3, 4], [1, 2, 3]] }, /got \[3\]/],
    ['a fixed dimension inside an instance', 'instances[0]', { signature_name: 'image', instances: [[[[1, 2]]]] }, /each instance is \[-1, -1, 3\]; got \[1, 1, 2\]/],
    ['a fixed batch of the wrong size', 'instances', { signature_name: 'fixed', instances: [[1, 2], [3, 4]] }, /input 'x' has shape \[1, 2\], a batch of exactly 1; got 2 instances/],
    ['a scalar input in row format', 'instances[0]', { signature_name: 'scalar', instances: [1] }, /is a scalar \(shape \[\]\), which the row format cannot batch/],
    ['a string in DT_FLOAT', 'instances[0]', { instances: [[1, 2, '3', 4]] }, /input 'features' is DT_FLOAT, which takes finite numbers within FP32 range; element \[2\] is "3"/],
    ['b64 in DT_FLOAT', 'instances[0]', { instances: [[{ b64: 'aGk=' }, 2, 3, 4]] }, /element \[0\] is \{"b64":"aGk="\}/],
    ['a fraction in DT_INT64', 'instances[0].ids', { signature_name: 'multi', instances: [{ ids: [1, 2.5, 3], text: 'a', flag: true }] }, /is DT_INT64, which takes integers.*; element \[1\] is 2.5/],
    ['a number in DT_BOOL', 'instances[0].flag', { signature_name: 'multi', instances: [{ ids: [1, 2, 3], text: 'a', flag: 1 }] }, /is DT_BOOL, which takes booleans; the value is 1/],
    ['a number in DT_STRING', 'instances[0].text', { signature_name: 'multi', instances: [{ ids: [1, 2, 3], text: 5, flag: true }] }, /is DT_STRING, which takes strings or \{"b64": "..."\} objects; the value is 5/],
    ['a b64 object with more keys', 'inputs.text', { signature_name: 'multi', inputs: { ids: [[1, 2, 3]], text: [{ b64: 'aGk=', x: 1 }], flag: [true] } }, /element \[0\] is \{"b64":"aGk=","x":1\}/],
    ['300 in DT_INT8', 'instances[0]', { signature_name: 'fixed', instances: [[1, 300]] }, /integers in -128..127; element \[1\] is 300/],
    ['ragged columns', 'inputs', { inputs: [[1, 2, 3, 4], [1, 2, 3]] }, /ragged nested lists; input 'features' is a dense tensor/],
    ['a ragged named row', 'instances[0].image', { signature_name: 'image', instances: [{ image: [[[1, 2, 3]], [[1, 2, 3], [4, 5, 6]]] }] }, /ragged/],
    ['columns of the wrong shape', 'inputs', { inputs: [[1, 2, 3]] }, /input 'features' has shape \[-1, 4\] \(-1 = any\); got \[1, 3\]/],
    ['columns without the batch dimension', 'inputs.features', { inputs: { features: [1, 2, 3, 4] } }, /got \[4\]/],
    ['an unknown column', 'inputs.petal', { inputs: { features: [[1, 2, 3, 4]], petal: [1] } }, /has no input 'petal'/],
    ['a missing column', 'inputs', { signature_name: 'multi', inputs: { ids: [[1, 2, 3]], flag: [true] } }, /missing input 'text'/],
    ['a bare column for a signature of several inputs', 'inputs', { signature_name: 'multi', inputs: [[1, 2, 3]] }, /"inputs" must be an object keyed by input name/],
  ])('answers 400 for %s, naming %s', async (_label, param, body, message) => {
    const res = await predict(body);
    expect(res.status).toBe(400);
    const json = res.json<Rejection>();
    expect(json.param).toBe(param);
    expect(json.error.startsWith(`${param}: `)).toBe(true);
    expect(json.error).toMatch(message);
    expect(json.code).toBe(param === 'signature_name' ? 'unknown_signature' : 'signature_mismatch');
    expect(res.upstream).toBeUndefined();
  });

  it('still requires instances to agree where the signature has wildcards (TF Serving stacks them)', async () => {
    const res = await predict({ signature_name: 'image', instances: [[[[1, 2, 3]]], [[[1, 2, 3]], [[4, 5, 6]]]] });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ param: 'instances[1]', error: expect.stringMatching(/shape of instances\[0\] \(\[1, 1, 3\] of number\); got \[2, 1, 3\]/) });
  });

  it('applies to the version it names, also through a label', async () => {
    expect((await predict({ instances: [[1, 2, 3]] }, '/versions/2')).status).toBe(200);
    expect((await predict({ instances: [[1, 2, 3]] }, '/labels/stable')).status).toBe(400);
  });

  it('leaves classify and regress to the form checks', async () => {
    const res = await gw.request({ path: '/v1/models/iris/versions/1:classify', json: { signature_name: 'nope', examples: [{ x: 1 }] } });
    expect(res.status).toBe(200);
  });

  it.each([
    ['an unknown dtype', { dtype: 'DT_FLOAT32', shape: [-1] }, 'signatures.iris.serving_default.inputs.x.dtype'],
    ['a dimension below -1', { dtype: 'DT_FLOAT', shape: [-2] }, 'signatures.iris.serving_default.inputs.x.shape[0]'],
    ['a V2 datatype', { dtype: 'FP32', shape: [-1] }, 'signatures.iris.serving_default.inputs.x.dtype'],
  ])('refuses a declaration with %s at config load, naming the field', async (_label, spec, field) => {
    const options = { signatures: { iris: { serving_default: { inputs: { x: spec } } } } };
    await expect(createTestGateway({ plugins: [{ plugin: 'tfserving-validation', options }], models: { iris } })).rejects.toThrow(field);
  });

  it('refuses a signature without inputs at config load', async () => {
    const options = { signatures: { iris: { serving_default: { inputs: {} } } } };
    await expect(createTestGateway({ plugins: [{ plugin: 'tfserving-validation', options }], models: { iris } })).rejects.toThrow(/signatures\.iris\.serving_default\.inputs.*at least one input/);
  });
});

/** What real TF Serving answers on `/v1/models/{m}/versions/{v}/metadata` (sizes are int64, so strings). */
const tfServingMetadata = {
  model_spec: { name: 'iris', signature_name: '', version: '1' },
  metadata: {
    signature_def: {
      signature_def: {
        __saved_model_init_op: {
          inputs: {},
          outputs: { __saved_model_init_op: { dtype: 'DT_INVALID', tensor_shape: { dim: [], unknown_rank: true }, name: 'NoOp' } },
          method_name: '',
          defaults: {},
        },
        serving_default: {
          inputs: {
            features: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '4', name: '' }], unknown_rank: false }, name: 'serving_default_features:0' },
          },
          outputs: { probabilities: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '-1', name: '' }, { size: '3', name: '' }], unknown_rank: false }, name: 'StatefulPartitionedCall:0' } },
          method_name: 'tensorflow/serving/predict',
          defaults: {},
        },
        raw: {
          inputs: { blob: { dtype: 'DT_STRING', tensor_shape: { dim: [], unknown_rank: true }, name: 'raw_blob:0' } },
          outputs: {},
          method_name: 'tensorflow/serving/predict',
        },
      },
    },
  },
};

describe('tfserving-validation: signatures from the TF Serving metadata endpoint', () => {
  let server: Server;
  let gw: TestGateway;
  const asked: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/v1/models/iris/versions/1/metadata') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(tfServingMetadata));
      if (req.url === '/v1/models/iris/versions/3/metadata') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"model_spec":{}}');
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Servable not found"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    gw = await createTestGateway({
      plugins: [{ plugin: 'tfserving-validation', options: { metadata: { fetch: true } } }, 'model-router'],
      models: { iris: { ...iris, versions: ['1', '2', '3'], endpoints: { '1': [endpoint], '2': [endpoint], '3': [endpoint] } } },
    });
  });
  afterAll(async () => {
    await gw.close();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const predict = (version: string, body: unknown) => gw.request({ path: `/v1/models/iris/versions/${version}:predict`, json: body });

  it("reads each version's signature defs from /v1/models/{m}/versions/{v}/metadata", () => {
    expect([...asked].sort()).toEqual(['/v1/models/iris/versions/1/metadata', '/v1/models/iris/versions/2/metadata', '/v1/models/iris/versions/3/metadata']);
  });

  it('checks requests against them: names, shapes, dtypes, signature names', async () => {
    expect((await predict('1', { instances: [[5.1, 3.5, 1.4, 0.2]] })).status).toBe(200);
    expect((await predict('1', { signature_name: 'raw', inputs: { blob: [[['a']]] } })).status).toBe(200);
    const wrongShape = await predict('1', { instances: [[5.1, 3.5, 1.4]] });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.json()).toEqual({
      error: "instances[0]: input 'features' has shape [-1, 4] (-1 = any), so each instance is [4]; got [3]",
      code: 'signature_mismatch',
      param: 'instances[0]',
    });
    expect((await predict('1', { inputs: { sepal: [[1, 2, 3, 4]] } })).json()).toMatchObject({ param: 'inputs.sepal' });
    expect((await predict('1', { inputs: [['a', 'b', 'c', 'd']] })).json()).toMatchObject({ error: expect.stringMatching(/is DT_FLOAT/) });
    expect((await predict('1', { signature_name: 'serve', instances: [[1, 2, 3, 4]] })).json()).toMatchObject({ code: 'unknown_signature' });
  });

  it('leaves versions whose metadata cannot be read unchecked (fail-open), with one warning each', async () => {
    for (const version of ['2', '3']) {
      const res = await predict(version, { instances: [[1, 2, 3]] });
      expect(res.status).toBe(200);
      const warnings = gw.logs.filter((l) => l.msg === 'model metadata unavailable; signature not checked' && (l as { version?: string }).version === version);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.level).toBe(40);
    }
  });
});
