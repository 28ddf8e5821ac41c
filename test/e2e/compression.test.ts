import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { baseConfig, useStack } from '../harness/e2e.js';

// Compressed bodies through the real Envoy: request bodies are decompressed before any plugin
// reads them (and the size limit applies to what they inflate to); responses are compressed
// for clients that accept it, above a size threshold, never event streams.
const MAX_REQUEST_BYTES = 256 * 1024;
const config = baseConfig({ envoy: { maxRequestBytes: MAX_REQUEST_BYTES, compression: { minResponseBytes: 1024 } } });
config.plugins = [{ type: 'kserve-v2-validation' }, { type: 'openai-validation' }, ...(config.plugins ?? [])];
const stack = useStack(config);

const v2Body = (texts: string[]) => JSON.stringify({ inputs: [{ name: 'text', shape: [texts.length], datatype: 'BYTES', data: texts }] });
const chatBody = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'tinylm', messages: [{ role: 'user', content: 'the white rabbit' }], max_tokens: 4, ...extra });

function post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${stack().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });
}

describe('compressed request bodies', () => {
  const encoders: [string, (b: Buffer) => Buffer][] = [
    ['gzip', (b) => gzipSync(b)],
    ['br', (b) => brotliCompressSync(b)],
  ];
  for (const [encoding, encode] of encoders) {
    it(`a V2 infer with Content-Encoding: ${encoding} is decompressed before the plugins: same answer as plain`, async () => {
      const plain = await post('/v2/models/sentiment/versions/v1/infer', v2Body(['what a wonderful day']), {});
      const packed = await post('/v2/models/sentiment/versions/v1/infer', encode(Buffer.from(v2Body(['what a wonderful day']))), { 'content-encoding': encoding });
      expect(packed.status, await packed.clone().text()).toBe(200);
      expect(plain.status).toBe(200);
      const strip = (j: { id?: unknown }) => ({ ...j, id: undefined });
      expect(strip((await packed.json()) as { id?: unknown })).toEqual(strip((await plain.json()) as { id?: unknown }));
    });
  }

  it('an OpenAI chat body sent gzip-compressed is read by the gateway (model in the body)', async () => {
    const res = await post('/v1/chat/completions', gzipSync(Buffer.from(chatBody())), { 'content-encoding': 'gzip' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { model: string }).model).toMatch(/tinylm/);
  });

  it('an encoding Envoy cannot decompress (deflate) gets a JSON 415 in the client protocol, naming the encodings it takes', async () => {
    const v2 = await post('/v2/models/sentiment/infer', deflateSync(Buffer.from(v2Body(['good']))), { 'content-encoding': 'deflate' });
    expect(v2.status).toBe(415);
    const v2Json = (await v2.json()) as { error: string; code: string };
    expect(v2Json.code).toBe('unsupported_content_encoding');
    expect(v2Json.error).toMatch(/gzip, br, zstd/);
    const openai = await post('/v1/chat/completions', deflateSync(Buffer.from(chatBody())), { 'content-encoding': 'deflate' });
    expect(openai.status).toBe(415);
    expect(await openai.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'unsupported_content_encoding' } });
  });

  const bomb = (encode: (b: Buffer) => Buffer) => {
    const packed = encode(Buffer.from(v2Body(['a'.repeat(MAX_REQUEST_BYTES * 8)])));
    expect(packed.length).toBeLessThan(MAX_REQUEST_BYTES / 10);
    return packed;
  };

  it('a gzip bomb (small on the wire, far over the limit inflated) gets a JSON 413: the limit applies to the inflated body', async () => {
    const res = await post('/v2/models/sentiment/infer', bomb(gzipSync), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'request_too_large' });
  });

  it('a brotli bomb is cut by Envoy at 100× its size and refused as malformed (JSON 400); the model never sees it', async () => {
    const res = await post('/v2/models/sentiment/infer', bomb(brotliCompressSync), { 'content-encoding': 'br' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-demo-instance')).toBeNull();
    expect(((await res.json()) as { error: string }).error).toMatch(/JSON/i);
  });
});

describe('compressed responses', () => {
  const many = Array.from({ length: 60 }, (_, i) => `a fine day number ${i}`);

  it('a large JSON answer is compressed for a client that accepts gzip or br, and not for one that does not', async () => {
    for (const encoding of ['gzip', 'br']) {
      const res = await post('/v2/models/sentiment/versions/v1/infer', v2Body(many), { 'accept-encoding': encoding });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-encoding')).toBe(encoding);
      // fetch inflates it: the body is the model's JSON.
      expect(((await res.json()) as { outputs: unknown[] }).outputs.length).toBeGreaterThan(0);
    }
    const plain = await post('/v2/models/sentiment/versions/v1/infer', v2Body(many), { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(Number((await plain.arrayBuffer()).byteLength)).toBeGreaterThan(1024);
  });

  it('a small answer is sent as it is', async () => {
    const res = await post('/v2/models/sentiment/versions/v1/infer', v2Body(['good']), { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull();
    await res.arrayBuffer();
  });

  it('an event stream is never compressed, even when the client accepts gzip', async () => {
    const res = await post('/v1/chat/completions', chatBody({ stream: true, max_tokens: 400 }), { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await res.text()).toContain('data: [DONE]');
  });
});
