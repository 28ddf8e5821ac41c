import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway } from '../sdk/testing.js';

// The binary tensor extension, accepted for sentiment@v2 only: header checked, binary part sized.
let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({
    plugins: [
      'model-router',
      {
        plugin: 'kserve-v2-validation',
        options: {
          binaryData: { models: { 'sentiment@v2': 'accept' } },
          signatures: { sentiment: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }, { name: 's', datatype: 'BYTES', shape: [-1], optional: true }] } },
        },
      },
    ],
    models: exampleModels,
  });
});
afterAll(() => gw.close());

/** A tritonclient-style body: JSON header, then the tensors. */
function binaryBody(header: unknown, ...tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) } };
}
const fp32 = (...v: number[]) => {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
};
const bytesElements = (...s: string[]) => Buffer.concat(s.flatMap((x) => [Buffer.from(Uint32Array.of(Buffer.byteLength(x)).buffer), Buffer.from(x)]));
const send = (version: string, b: { body: Buffer; headers: Record<string, string> }) =>
  gw.request({ path: `/v2/models/sentiment/versions/${version}/infer`, body: b.body, headers: b.headers });

describe('kserve-v2-validation: binary tensor extension', () => {
  const x = (size = 16) => ({ name: 'x', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: size } });

  it('passes a well-formed binary request on, for a model that accepts the extension', async () => {
    const ok = await send('v2', binaryBody({ inputs: [x(), { name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 13 } }] }, fp32(1, 2, 3, 4), bytesElements('abc', 'de')));
    expect(ok.status, ok.json<{ error?: string }>().error).toBe(200);
  });

  it('refuses it with 415 naming the extension for a model that does not', async () => {
    const res = await send('v1', binaryBody({ inputs: [x()] }, fp32(1, 2, 3, 4)));
    expect(res.status).toBe(415);
    expect(res.json<{ error: string; code: string }>()).toMatchObject({ code: 'binary_extension_not_enabled', error: expect.stringMatching(/inference-header-content-length/) });
  });

  it.each([
    ['a size that does not fit the shape', binaryBody({ inputs: [x(12)] }, fp32(1, 2, 3)), /is 16 bytes, not 12/],
    ['fewer bytes than declared', binaryBody({ inputs: [x()] }, fp32(1, 2, 3)), /only 12 bytes of binary data are left/],
    ['bytes left after the last input', binaryBody({ inputs: [x()] }, fp32(1, 2, 3, 4, 5)), /4 bytes of binary data after the last binary input/],
    ['BYTES elements that do not split', binaryBody({ inputs: [x(), { name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 7 } }] }, fp32(1, 2, 3, 4), bytesElements('abc')), /length-prefixed BYTES/],
    ['a header that is not JSON', { body: Buffer.from('{"inputs": [xx'), headers: { 'inference-header-content-length': '14' } }, /not valid JSON/],
    ['a header length past the body', { body: Buffer.from('{}'), headers: { 'inference-header-content-length': '99', 'content-length': '2' } }, /inference-header-content-length/],
    ['a header against the signature', binaryBody({ inputs: [{ ...x(), name: 'y' }] }, fp32(1, 2, 3, 4)), /has no input 'y'/],
  ])('answers 400 for %s', async (_name, b, message) => {
    const res = await send('v2', b);
    expect(res.status).toBe(400);
    expect(res.json<{ error: string }>().error).toMatch(message);
  });
});
