import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels } from '../../plugins/sdk/testing.js';
import { detectProtocol } from '../../plugins/sdk/protocol.js';
import { DEFAULT_STREAM_LIMITS, malformedEscapes, usableRequestId } from './request-guard.js';

const gateway = () => createTestGateway({ plugins: ['model-router'], models: exampleModels });
const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v']));

describe('total parsing of the request line and headers', () => {
  it('never throws on a path, whatever its escapes', () => {
    for (const path of ['/v1/models/%', '/v1/models/%zz', '/v1/models/%C3%28', '/v1/models/%:predict', '/v2/models/%/infer', '%', '/v1/models/\u00ff%']) {
      expect(() => detectProtocol(path, () => 'tfserving')).not.toThrow();
    }
    expect(malformedEscapes('/v1/models/%')).toBe(true);
    expect(malformedEscapes('/v1/models/%C3%28')).toBe(true);
    expect(malformedEscapes('/v1/models/a%20b')).toBe(false);
  });

  it('answers a malformed escape with a 400 in the client protocol before any plugin runs', async () => {
    const gw = await gateway();
    // Before: a URIError escaped the request-headers phase (Envoy: 503 gateway_unavailable).
    const openai = await gw.request({ method: 'GET', path: '/v1/models/%' });
    expect(openai.status).toBe(400);
    expect(openai.json()).toEqual({ error: { message: 'The request path has a malformed percent-escape', type: 'invalid_request_error', param: null, code: 'invalid_path' } });
    expect(openai.outcome).toMatchObject({ status: 400, errorCode: 'invalid_path', answeredBy: 'gateway' });
    expect(openai.logs.find((l) => l.msg === 'request headers refused')).toMatchObject({ code: 'invalid_path' });
    const v2 = await gw.request({ path: '/v2/models/%ZZ/infer', json: {} });
    expect(v2.status).toBe(400);
    expect(v2.json()).toEqual({ error: 'The request path has a malformed percent-escape', code: 'invalid_path' });
    expect(v2.upstream).toBeUndefined();
  });

  it('answers more headers than the bound with a 431 in the client protocol', async () => {
    const gw = await gateway();
    const over = await gw.request({ path: '/v1/chat/completions', headers: many(DEFAULT_STREAM_LIMITS.maxHeaders + 1), json: { model: 'tinylm', messages: [] } });
    expect(over.status).toBe(431);
    expect(over.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'headers_too_large' } });
    expect(over.upstream).toBeUndefined();
    const big = await gw.request({ path: '/v2/models/sentiment/infer', headers: { 'x-big': 'a'.repeat(DEFAULT_STREAM_LIMITS.maxHeaderBytes) }, json: {} });
    expect(big.status).toBe(431);
    expect(big.json()).toMatchObject({ code: 'headers_too_large' });
    const fine = await gw.request({ path: '/v2/models/sentiment/infer', headers: many(64), json: {} });
    expect(fine.status).toBe(200);
  });

  it('answers a model server\'s oversized response headers with a 502', async () => {
    const gw = await gateway();
    const res = await gw.request({ path: '/v2/models/sentiment/infer', json: {} }, { upstream: { json: {}, headers: many(DEFAULT_STREAM_LIMITS.maxHeaders + 1) } });
    expect(res.status).toBe(502);
    expect(res.json()).toMatchObject({ code: 'bad_upstream_response' });
  });

  it('replaces a request id that is not a plain token (it would reach every log line)', async () => {
    const gw = await gateway();
    const res = await gw.request({ path: '/v2/models/nope/infer', headers: { 'x-request-id': `a b${'x'.repeat(300)}` }, json: {} });
    expect(res.status).toBe(404);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await gw.request({ path: '/v2/models/nope/infer', headers: { 'x-request-id': 'req-42' }, json: {} });
    expect(kept.headers['x-request-id']).toBe('req-42');
  });
});

describe('usableRequestId', () => {
  // The rule as it was first written: 1–200 visible ASCII characters.
  const PLAIN_TOKEN = /^[\x21-\x7e]{1,200}$/;
  const near = fc.constantFrom(0, 0x09, 0x0a, 0x20, 0x21, 0x41, 0x7e, 0x7f, 0x80, 0xff, 0x2028, 0xfeff, 0xd800);
  const id = fc.oneof(
    fc.string({ maxLength: 210 }),
    fc.array(near.map((c) => String.fromCharCode(c)), { maxLength: 4 }).map((cs) => cs.join('')),
    fc.tuple(fc.integer({ min: 0, max: 202 }), near, fc.nat()).map(([n, c, at]) => {
      const chars = Array.from({ length: n }, () => 'a');
      if (n > 0) chars[at % n] = String.fromCharCode(c);
      return chars.join('');
    }),
  );

  it('keeps exactly the ids that are 1–200 visible ASCII characters', () => {
    fc.assert(
      fc.property(id, (v) => {
        expect(usableRequestId(v)).toBe(PLAIN_TOKEN.test(v) ? v : undefined);
      }),
      { numRuns: 5000 },
    );
    expect(usableRequestId(undefined)).toBeUndefined();
    expect(usableRequestId('x'.repeat(200))).toBe('x'.repeat(200));
    expect(usableRequestId('x'.repeat(201))).toBeUndefined();
    expect(usableRequestId('')).toBeUndefined();
    expect(usableRequestId('req-42\n')).toBeUndefined();
  });
});
