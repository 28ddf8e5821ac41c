import { afterAll, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway } from '../sdk/testing.js';
import { hashKey, KeyTable, sameDigest } from '../sdk/keys.js';

const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] };
const infer = (headers: Record<string, string> = {}) => ({ path: '/v2/models/sentiment/infer', headers, json: v2 });

describe('KeyTable', () => {
  const table = new KeyTable([
    { id: 'alice', keys: [hashKey('alice-1'), hashKey('alice-2', 'sha512')] },
    { id: 'bob', keys: [hashKey('bob-1')] },
  ]);

  it('finds the consumer of any of its keys, in either hash', () => {
    expect(table.lookup('alice-1')).toBe('alice');
    expect(table.lookup('alice-2')).toBe('alice');
    expect(table.lookup('bob-1')).toBe('bob');
  });

  it('finds nobody for unknown keys, near misses and the stored hash itself', () => {
    expect(table.lookup('alice-3')).toBeUndefined();
    expect(table.lookup('alice-1 ')).toBeUndefined();
    expect(table.lookup(hashKey('alice-1'))).toBeUndefined();
    expect(table.lookup('')).toBeUndefined();
  });

  it('finds the consumers of long and non-ASCII keys, sha256 and sha512', () => {
    const long = `gw_${'x'.repeat(60)}`;
    const table2 = new KeyTable([
      { id: 'long', keys: [hashKey(long)] },
      { id: 'accent', keys: [hashKey('clé-1'), hashKey('clé-2', 'sha512')] },
    ]);
    expect(table2.lookup(long)).toBe('long');
    expect(table2.lookup(long.slice(1))).toBeUndefined();
    expect(table2.lookup('clé-1')).toBe('accent');
    expect(table2.lookup('clé-2')).toBe('accent');
    expect(table2.lookup('cle-1')).toBeUndefined();
  });

  it('reads stored hashes written in upper-case hex too', () => {
    const upper = `sha256:${hashKey('carol-1').slice('sha256:'.length).toUpperCase()}`;
    expect(new KeyTable([{ id: 'carol', keys: [upper] }]).lookup('carol-1')).toBe('carol');
  });
});

describe('sameDigest', () => {
  const digest = hashKey('alice-1').slice('sha256:'.length);
  it('is true only for the very same digest', () => {
    expect(sameDigest(digest, digest)).toBe(true);
    expect(sameDigest(`${digest.slice(0, -1)}${digest.endsWith('0') ? '1' : '0'}`, digest)).toBe(false);
    expect(sameDigest(`${digest.startsWith('0') ? '1' : '0'}${digest.slice(1)}`, digest)).toBe(false);
    expect(sameDigest(digest.slice(0, -2), digest)).toBe(false);
    expect(sameDigest(`${digest}00`, digest)).toBe(false);
    expect(sameDigest('', digest)).toBe(false);
  });
});

describe('api keys with an expiry', () => {
  const soon = new Date(Date.now() + 365 * 86_400_000).toISOString();
  const gone = '2020-01-01';
  let gw: TestGateway;
  afterAll(() => gw?.close());

  it('accepts a key until it expires, then answers 401 expired_api_key; the other keys carry on', async () => {
    gw = await createTestGateway({
      plugins: [
        {
          plugin: 'api-key-auth',
          options: { consumers: [{ id: 'team', keys: [{ hash: hashKey('old-key'), expires: gone }, { hash: hashKey('new-key'), expires: soon }, hashKey('forever-key')] }] },
        },
        'model-router',
      ],
      models: exampleModels,
    });
    // Configured expired keys are named (by consumer, never the key) when the config loads.
    expect(gw.logs.find((l) => l.msg === 'api keys past their expiry are configured; they are refused')).toMatchObject({ consumers: ['team'], keys: 1 });
    const old = await gw.request(infer({ authorization: 'Bearer old-key' }));
    expect(old.status).toBe(401);
    expect(old.json()).toEqual({ error: 'The API key has expired', code: 'expired_api_key' });
    expect(old.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(old.upstream).toBeUndefined();
    expect(old.logs.find((l) => l.msg === 'expired api key rejected')).toMatchObject({ consumer: 'team', expiredAt: '2020-01-01T00:00:00.000Z' });
    expect(JSON.stringify(old.logs)).not.toContain('old-key');
    for (const key of ['new-key', 'forever-key']) expect((await gw.request(infer({ 'x-api-key': key }))).status).toBe(200);
  });

  it('refuses an expiry that is not an ISO date, naming the field', async () => {
    await expect(
      createTestGateway({ plugins: [{ plugin: 'api-key-auth', options: { consumers: [{ id: 'team', keys: [{ hash: hashKey('k'), expires: 'next tuesday' }] }] } }] }),
    ).rejects.toThrow(/options\.consumers\[0\]\.keys\[0\]\.expires: expires must be an ISO 8601 date/);
  });
});

describe('api-key-auth', () => {
  let gw: TestGateway;
  const open = async (options: Record<string, unknown> = {}) => {
    gw = await createTestGateway({
      plugins: [
        { plugin: 'api-key-auth', options: { consumers: [{ id: 'demo', keys: [hashKey('demo-key')] }], ...options } },
        'model-router',
      ],
      models: exampleModels,
    });
    return gw;
  };
  afterAll(() => gw?.close());

  it('accepts a key as Authorization: Bearer, names the consumer upstream and drops the credential', async () => {
    const res = await (await open()).request(infer({ authorization: 'Bearer demo-key' }));
    expect(res.status).toBe(200);
    expect(res.vars.consumer).toEqual({ id: 'demo' });
    expect(res.upstream?.headers['x-gateway-consumer']).toBe('demo');
    expect(res.upstream?.headers.authorization).toBeUndefined();
  });

  it('accepts a key as x-api-key, and the Bearer scheme in any case', async () => {
    const res = await (await open()).request(infer({ 'x-api-key': 'demo-key' }));
    expect(res.status).toBe(200);
    expect(res.upstream?.headers['x-api-key']).toBeUndefined();
    const lower = await gw.request(infer({ authorization: 'bearer demo-key' }));
    expect(lower.status).toBe(200);
  });

  it('forwards credentials only when configured', async () => {
    const res = await (await open({ forwardCredentials: true })).request(infer({ authorization: 'Bearer demo-key' }));
    expect(res.upstream?.headers.authorization).toBe('Bearer demo-key');
  });

  it('answers 401 with a challenge when no key is sent, and no model server sees the request', async () => {
    const res = await (await open()).request(infer());
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="inference-gateway"');
    expect(res.json()).toMatchObject({ error: expect.stringContaining('API key is required'), code: 'missing_api_key' });
    expect(res.upstream).toBeUndefined();
  });

  it.each([
    ['a wrong bearer key', { authorization: 'Bearer not-the-key' }, 'invalid_token'],
    ['a wrong x-api-key', { 'x-api-key': 'not-the-key' }, 'invalid_token'],
    ['an empty x-api-key', { 'x-api-key': '' }, 'invalid_token'],
    ['a key of 5000 characters', { 'x-api-key': 'k'.repeat(5000) }, 'invalid_token'],
    ['another scheme', { authorization: 'Basic ZGVtbzpkZW1vLWtleQ==' }, 'invalid_request'],
    ['a bare token', { authorization: 'demo-key' }, 'invalid_request'],
    ['a right key with a wrong one in x-api-key', { 'x-api-key': 'nope', authorization: 'Bearer demo-key' }, 'invalid_token'],
  ])('answers 401 for %s', async (_label, headers, error) => {
    const res = await (await open()).request(infer(headers));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain(`error="${error}"`);
    expect(res.upstream).toBeUndefined();
  });

  it('answers in the OpenAI error shape on OpenAI paths', async () => {
    const res = await (await open()).request({ path: '/v1/chat/completions', headers: { authorization: 'Bearer nope' }, json: { model: 'tinylm', messages: [] } });
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ error: { message: 'Invalid API key', type: 'authentication_error', param: null, code: 'invalid_api_key' } });
  });

  it('logs an accepted key at debug level only, tagged with the plugin and the request', async () => {
    const config = { plugins: [{ plugin: 'api-key-auth', options: { consumers: [{ id: 'demo', keys: [hashKey('demo-key')] }] } }, 'model-router'], models: exampleModels };
    const debug = await createTestGateway({ ...config, logLevel: 'debug' });
    const info = await createTestGateway({ ...config, logLevel: 'info' });
    try {
      const seen = await debug.request(infer({ 'x-api-key': 'demo-key' }));
      expect(seen.logs.find((l) => l.msg === 'api key accepted')).toMatchObject({ consumer: 'demo', plugin: 'api-key-auth', hook: 'requestHeaders', reqId: expect.any(String) });
      const quiet = await info.request(infer({ 'x-api-key': 'demo-key' }));
      expect(quiet.status).toBe(200);
      expect(quiet.logs.find((l) => l.msg === 'api key accepted')).toBeUndefined();
    } finally {
      await Promise.all([debug.close(), info.close()]);
    }
  });

  it('never writes a presented key to the logs', async () => {
    await (await open()).request(infer({ authorization: 'Bearer secret-attempt-123' }));
    await gw.request(infer({ authorization: 'Bearer demo-key' }));
    expect(JSON.stringify(gw.logs)).not.toMatch(/secret-attempt-123|demo-key/);
  });

  it('with required: false, leaves JWT-shaped bearers and keyless requests to a later plugin', async () => {
    await open({ required: false });
    const jwt = await gw.request(infer({ authorization: 'Bearer aaa.bbb.ccc' }));
    expect(jwt.status).toBe(200);
    expect(jwt.vars.consumer).toBeUndefined();
    const none = await gw.request(infer());
    expect(none.vars.consumer).toBeUndefined();
    // A key that is presented and wrong is still refused.
    expect((await gw.request(infer({ 'x-api-key': 'wrong' }))).status).toBe(401);
  });

  it.each([
    [{ consumers: [{ id: 'demo', keys: ['demo-key'] }] }, /consumers\[0\]\.keys\[0\].*hashed/],
    [{ consumers: [{ id: 'a', keys: [hashKey('k')] }, { id: 'b', keys: [hashKey('k')] }] }, /consumers\[1\]\.keys\[0\].*already belongs to "a"/],
    [{ consumers: [{ id: 'a', keys: [hashKey('k')] }, { id: 'a', keys: [hashKey('j')] }] }, /duplicate consumer id/],
    [{ consumers: [{ id: 'has space', keys: [hashKey('k')] }] }, /consumers\[0\]\.id/],
  ])('refuses a bad config, naming the field', async (options, message) => {
    await expect(createTestGateway({ plugins: [{ plugin: 'api-key-auth', options }], models: exampleModels })).rejects.toThrow(message);
  });
});
