import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoServer } from '../common.js';
import { DEFAULT_IRIS_PATH, IRIS_CLASSES, IrisModel, parseIrisCsv } from './iris-model.js';
import { parseLabels, startTfServingServer } from './server.js';

const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VERSICOLOR = [6.4, 3.2, 4.5, 1.5];
const VIRGINICA = [6.3, 3.3, 6.0, 2.5];

let server: DemoServer;
beforeAll(async () => {
  server = await startTfServingServer({ port: 0, modelVersion: 3, labels: { stable: 3 } });
});
afterAll(() => server.close());

const predict = (body: unknown, path = '/v1/models/iris:predict') =>
  fetch(server.url + path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
const argmax = (p: number[]) => IRIS_CLASSES[p.indexOf(Math.max(...p))];

describe('iris model', () => {
  it('fits the training data', () => {
    const samples = parseIrisCsv(readFileSync(DEFAULT_IRIS_PATH, 'utf8'));
    expect(samples).toHaveLength(150);
    const model = IrisModel.load();
    const correct = samples.filter((s) => model.predictClass(s.features) === s.label).length;
    expect(correct / samples.length).toBeGreaterThan(0.95);
  });
});

describe('TF Serving REST server', () => {
  it('row format predicts each species', async () => {
    const res = await predict({ instances: [SETOSA, VERSICOLOR, VIRGINICA] });
    expect(res.status).toBe(200);
    const { predictions } = (await res.json()) as { predictions: number[][] };
    expect(predictions.map(argmax)).toEqual(['setosa', 'versicolor', 'virginica']);
    for (const p of predictions) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it('row format with named inputs and the multi-output signature', async () => {
    const res = await predict({ signature_name: 'predict', instances: [{ features: VIRGINICA }] }, '/v1/models/iris/labels/stable:predict');
    const body = await res.json();
    expect(body.predictions).toHaveLength(1);
    expect(body.predictions[0]).toEqual({ probabilities: expect.any(Array), classes: 'virginica' });
  });

  it('columnar format, bare and named', async () => {
    const bare = await (await predict({ inputs: [SETOSA, VIRGINICA] }, '/v1/models/iris/versions/3:predict')).json();
    expect(bare.outputs.map(argmax)).toEqual(['setosa', 'virginica']);
    const named = await (await predict({ signature_name: 'predict', inputs: { features: [VERSICOLOR] } })).json();
    expect(named.outputs.classes).toEqual(['versicolor']);
    expect(named.outputs.probabilities).toHaveLength(1);
  });

  it.each([
    ['both instances and inputs', { instances: [SETOSA], inputs: [SETOSA] }],
    ['neither', { signature_name: 'serving_default' }],
    ['wrong feature count', { instances: [[1, 2, 3]] }],
    ['non-numeric feature', { instances: [[1, 2, 3, 'x']] }],
    ['unknown input name', { instances: [{ petals: SETOSA }] }],
    ['unknown signature', { signature_name: 'nope', instances: [SETOSA] }],
    ['malformed JSON', '{"instances": '],
  ])('400 on %s', async (_, body) => {
    const res = await predict(body);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: expect.any(String) });
  });

  it('404 for unknown model or version; classify is unsupported', async () => {
    const other = await predict({ instances: [SETOSA] }, '/v1/models/flowers:predict');
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'Servable not found for request: Latest(flowers)' });
    expect((await predict({ instances: [SETOSA] }, '/v1/models/iris/versions/1:predict')).status).toBe(404);
    expect((await fetch(`${server.url}/v1/models/iris/versions/1`)).status).toBe(404);
    expect((await predict({ examples: [] }, '/v1/models/iris:classify')).status).toBe(400);
  });

  it('reports model status and follows the notready fault', async () => {
    const status = await (await fetch(`${server.url}/v1/models/iris`)).json();
    expect(status).toEqual({
      model_version_status: [{ version: '3', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }],
    });
    expect((await fetch(`${server.url}/v1/models/iris/labels/stable`)).status).toBe(200);
    await fetch(`${server.url}/__demo/fault`, { method: 'POST', body: JSON.stringify({ mode: 'notready' }) });
    try {
      const res = await fetch(`${server.url}/v1/models/iris/versions/3`);
      expect(res.status).toBe(503);
      expect((await res.json()).model_version_status[0].state).not.toBe('AVAILABLE');
      expect((await predict({ instances: [SETOSA] })).status).toBe(200);
    } finally {
      await fetch(`${server.url}/__demo/fault`, { method: 'POST', body: JSON.stringify({ mode: 'ok' }) });
    }
  });

  it('serves signature metadata', async () => {
    const meta = await (await fetch(`${server.url}/v1/models/iris/versions/3/metadata`)).json();
    expect(meta.model_spec).toEqual({ name: 'iris', signature_name: '', version: '3' });
    const sig = meta.metadata.signature_def.signature_def.serving_default;
    expect(sig.inputs.features.dtype).toBe('DT_FLOAT');
    expect(sig.inputs.features.tensor_shape.dim.map((d: { size: string }) => d.size)).toEqual(['-1', '4']);
    expect(sig.outputs.probabilities.tensor_shape.dim.map((d: { size: string }) => d.size)).toEqual(['-1', '3']);
    expect(Object.keys(meta.metadata.signature_def.signature_def.predict.outputs)).toEqual(['probabilities', 'classes']);
  });

  it('rejects labels pointing at a version it does not serve', async () => {
    expect(parseLabels('stable=1,canary=2')).toEqual({ stable: 1, canary: 2 });
    await expect(startTfServingServer({ port: 0, modelVersion: 1, labels: { canary: 2 } })).rejects.toThrow(/only serves version 1/);
  });
});
