import { describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { extProcLog, postJson, useStack } from '../harness/e2e.js';

// A V2 model server behaving like MLServer 1.7 with a scikit-learn model
// (examples/models/mlserver-like): metadata with the inputs only and `"outputs": []`, and the
// binary tensor extension tritonclient sends by default. Signatures are read from metadata.
const config: GatewayConfigInput = {
  plugins: [
    {
      type: 'kserve-v2-validation',
      name: 'v2-global',
      options: { metadata: { fetch: true }, binaryData: { models: { 'iris-v2': 'accept' } } },
    },
    { type: 'model-router', name: 'router' },
  ],
  models: {
    'iris-v2': {
      protocol: 'kserve-v2',
      versions: { v1: { endpoints: ['127.0.0.1:1'] } },
      // A second validator instance in the model's chain: the metadata is still fetched once.
      plugins: [{ type: 'kserve-v2-validation', name: 'v2-model', options: { metadata: { fetch: true }, binaryData: { default: 'accept' } } }],
    },
    // Its server does not know this name (metadata 404): the warning must appear once, not once per validator.
    nometa: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:1'] } }, plugins: [{ type: 'kserve-v2-validation', name: 'v2-nometa', options: { metadata: { fetch: true } } }] },
  },
};
const stack = useStack(config);
const infer = (model = 'iris-v2') => `${stack().url}/v2/models/${model}/infer`;
const rows = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]];

/** What tritonclient sends with `binary_data=True`: the JSON header, then the FP32 tensor. */
function tritonBinary(values: number[][], overrideSize?: number): { body: Uint8Array<ArrayBuffer>; headers: Record<string, string> } {
  const tensor = Buffer.alloc(values.length * 16);
  values.flat().forEach((v, i) => tensor.writeFloatLE(v, i * 4));
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'input-0', shape: [values.length, 4], datatype: 'FP32', parameters: { binary_data_size: overrideSize ?? tensor.length } }],
      outputs: [{ name: 'predict', parameters: { binary_data: false } }],
    }),
  );
  return {
    body: new Uint8Array(Buffer.concat([header, tensor])),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
  };
}

describe('V2 against an MLServer-like server', () => {
  it('"outputs": [] in metadata means unknown: a request naming an output is served (and a bad input still refused)', async () => {
    const meta = (await (await fetch(`${stack().url}/v2/models/iris-v2`)).json()) as { outputs: unknown[] };
    expect(meta.outputs).toEqual([]);
    const res = await postJson(infer(), { inputs: [{ name: 'input-0', shape: [2, 4], datatype: 'FP32', data: rows }], outputs: [{ name: 'predict' }] });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ outputs: [{ name: 'predict', data: [0, 2] }] });
    // The inputs from metadata are still checked.
    const wrong = await postJson(infer(), { inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: rows[0] }] });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'signature_mismatch' });
  });

  it('a tritonclient-style binary request passes through to a model that accepts the extension, and is answered', async () => {
    const { body, headers } = tritonBinary(rows);
    const res = await fetch(infer(), { method: 'POST', headers, body });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ model_name: 'iris-v2', outputs: [{ name: 'predict', data: [0, 2] }] });
  });

  it('a binary request whose binary part does not match its header gets a 400 naming the input; the model never sees it', async () => {
    const { body, headers } = tritonBinary(rows, 20);
    const res = await fetch(infer(), { method: 'POST', headers, body });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-demo-instance')).toBeNull();
    expect(((await res.json()) as { error: string }).error).toMatch(/inputs\[0\]\.parameters\.binary_data_size/);
  });

  it('a binary request to a model that does not accept the extension gets a 415 naming it', async () => {
    const { body, headers } = tritonBinary(rows);
    const res = await fetch(infer('nometa'), { method: 'POST', headers, body });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 'binary_extension_not_enabled', error: expect.stringMatching(/binary tensor data extension \(inference-header-content-length\) is not enabled for model 'nometa'/) });
  });

  it("each version's metadata is fetched once and shared: the unavailable warning is logged once, not once per validator", async () => {
    const log = await extProcLog(stack(), (t) => t.includes('"msg":"ready"') || t.includes('listening'), 3_000);
    const warnings = log.split('\n').filter((l) => l.includes('model metadata unavailable') && l.includes('"model":"nometa"'));
    expect(warnings).toHaveLength(1);
  });
});
