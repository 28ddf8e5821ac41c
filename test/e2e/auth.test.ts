// Consumers through the real Envoy: API keys and JWTs (JWKS over HTTP, cached and refreshed on
// rotation), per-consumer model access, the consumer id upstream / in the access log / in
// metrics, and credentials that never reach a model server or the log.
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { baseConfig, baseModel, demoStats, extProcLog, postJson, useStack } from '../harness/e2e.js';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'inference-gateway';

// The identity provider: a JWKS URL the ext-proc fetches from, with a key that can be rotated.
const first = await generateKeyPair('ES256', { extractable: true });
const rotated = await generateKeyPair('ES256', { extractable: true });
const rsa = await generateKeyPair('RS256', { extractable: true });
const jwks: { keys: JWK[] } = {
  keys: [
    { ...(await exportJWK(first.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' },
    { ...(await exportJWK(rsa.publicKey)), kid: 'r1', alg: 'RS256', use: 'sig' },
  ],
};
let jwksFetches = 0;
const idp = createServer((_req, res) => {
  jwksFetches++;
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
});
await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
afterAll(() => new Promise<void>((r) => idp.close(() => r())));

const stack = useStack(
  baseConfig({
    plugins: [
      {
        type: 'api-key-auth',
        options: {
          required: false, // requests with a JWT go on to jwt-auth
          consumers: [
            { id: 'team-a', keys: [hashKey('sk-alpha-7f3a')] },
            { id: 'team-b', keys: [hashKey('sk-bravo-91c2')] },
            { id: 'team-c', keys: [{ hash: hashKey('sk-charlie-2019'), expires: '2020-01-01' }] },
          ],
        },
      },
      {
        type: 'jwt-auth',
        options: {
          jwks: { url: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks.json`, cooldownMs: 0 },
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: ['ES256', 'RS256'],
        },
      },
      { type: 'model-router', name: 'router' },
      { type: 'model-access', options: { consumers: { 'team-a': ['*'], 'team-b': ['sentiment@stable', 'iris'], 'svc-jwt': ['sentiment'] } } },
    ],
    models: {
      ...baseConfig().models,
      // Every split-routed request is mirrored to the canary: only consumers allowed it may feed it.
      sentiment: { ...baseModel('sentiment'), traffic: { weights: { v1: 90, v2: 10 }, shadow: { version: 'v2', percent: 100 } } },
    },
  }),
);

const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a wonderful day'] }] };
const chat = { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 };
const demo = (key: string) => stack().demos.get(key)?.[0]?.url as string;
const infer = (headers: Record<string, string>, path = '/v2/models/sentiment/versions/v1/infer') => postJson(`${stack().url}${path}`, v2, headers);
const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function jwt(opts: { key?: CryptoKey; kid?: string; alg?: string; sub?: string; exp?: number; aud?: string } = {}): Promise<string> {
  return new SignJWT({ sub: opts.sub ?? 'svc-jwt' })
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? 'k1' })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? now() + 300)
    .sign(opts.key ?? (first.privateKey as CryptoKey));
}

describe('API keys through Envoy', () => {
  it('accepts a key as Bearer or x-api-key; the model server learns the consumer, never the key', async () => {
    for (const headers of [{ authorization: 'Bearer sk-alpha-7f3a' }, { 'x-api-key': 'sk-alpha-7f3a' }] as Record<string, string>[]) {
      const res = await infer(headers);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const seen = (await demoStats(demo('sentiment@v1'))).last?.headers ?? {};
      expect(seen['x-gateway-consumer']).toBe('team-a');
      expect(seen.authorization).toBeUndefined();
      expect(seen['x-api-key']).toBeUndefined();
    }
  });

  it('answers 401 with WWW-Authenticate in each protocol when credentials are missing or wrong', async () => {
    const before = await demoStats(demo('sentiment@v1'));
    const missing = await infer({});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="inference-gateway"');
    expect(await missing.json()).toMatchObject({ error: expect.stringContaining('required'), code: 'missing_token' });

    const wrong = await postJson(`${stack().url}/v1/chat/completions`, chat, { authorization: 'Bearer sk-zulu-0000' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await wrong.json()).toEqual({ error: { message: 'Invalid API key', type: 'authentication_error', param: null, code: 'invalid_api_key' } });
    expect((await demoStats(demo('sentiment@v1'))).requests).toBe(before.requests);
  });

  it('drops a client-sent x-gateway-consumer: a consumer cannot claim to be another', async () => {
    const res = await infer({ 'x-api-key': 'sk-bravo-91c2', 'x-gateway-consumer': 'team-a' });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect((await demoStats(demo('sentiment@v1'))).last?.headers['x-gateway-consumer']).toBe('team-b');
    const anonymous = await infer({ 'x-gateway-consumer': 'team-a' });
    expect(anonymous.status).toBe(401);
  });
});

describe('JWTs through Envoy (JWKS over HTTP)', () => {
  it('accepts a valid token and names the consumer from sub', async () => {
    const res = await infer({ authorization: `Bearer ${await jwt()}` });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const seen = (await demoStats(demo('sentiment@v1'))).last?.headers ?? {};
    expect(seen['x-gateway-consumer']).toBe('svc-jwt');
    expect(seen.authorization).toBeUndefined();
  });

  it.each([
    ['expired', async () => jwt({ exp: now() - 3600 }), /expired/],
    ['for another audience', async () => jwt({ aud: 'other' }), /"aud"/],
    ['signed by a stranger under a known kid', async () => jwt({ key: (await generateKeyPair('ES256')).privateKey as CryptoKey }), /signature/],
    ['unsigned (alg none)', async () => `${b64({ alg: 'none', kid: 'k1' })}.${b64({ sub: 'team-a', iss: ISSUER, aud: AUDIENCE, exp: now() + 60 })}.`, /algorithm/],
    [
      'HS256 keyed with the RSA public key (algorithm confusion)',
      async () => {
        const input = `${b64({ alg: 'HS256', kid: 'r1' })}.${b64({ sub: 'team-a', iss: ISSUER, aud: AUDIENCE, exp: now() + 60 })}`;
        return `${input}.${createHmac('sha256', await exportSPKI(rsa.publicKey)).update(input).digest('base64url')}`;
      },
      /algorithm/,
    ],
  ])('answers 401 for a token %s', async (_label, make, message) => {
    const res = await infer({ authorization: `Bearer ${await make()}` });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('serves from the cached key set, and refetches it when a token names a new key', async () => {
    const cached = jwksFetches;
    for (let i = 0; i < 3; i++) expect((await infer({ authorization: `Bearer ${await jwt()}` })).status).toBe(200);
    expect(jwksFetches).toBe(cached);

    jwks.keys.push({ ...(await exportJWK(rotated.publicKey)), kid: 'k2', alg: 'ES256', use: 'sig' });
    const res = await infer({ authorization: `Bearer ${await jwt({ key: rotated.privateKey as CryptoKey, kid: 'k2' })}` });
    expect(res.status).toBe(200);
    expect(jwksFetches).toBe(cached + 1);
  });
});

describe('an expired API key through Envoy', () => {
  it('gets a 401 expired_api_key in the client protocol, and no model server sees the request', async () => {
    const before = await demoStats(demo('sentiment@v1'));
    const res = await infer({ authorization: 'Bearer sk-charlie-2019' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await res.json()).toEqual({ error: 'The API key has expired', code: 'expired_api_key' });
    const chatRes = await postJson(`${stack().url}/v1/chat/completions`, chat, { 'x-api-key': 'sk-charlie-2019' });
    expect(chatRes.status).toBe(401);
    expect(await chatRes.json()).toMatchObject({ error: { code: 'expired_api_key', type: 'authentication_error' } });
    expect((await demoStats(demo('sentiment@v1'))).requests).toBe(before.requests);
  });
});

describe('per-consumer model access through Envoy', () => {
  it('answers 403 for a model or version outside the allow-list, in the client protocol', async () => {
    const canary = await infer({ 'x-api-key': 'sk-bravo-91c2' }, '/v2/models/sentiment/versions/canary/infer');
    expect(canary.status).toBe(403);
    expect(await canary.json()).toEqual({ error: "Consumer 'team-b' may not use version 'v2' of model 'sentiment'", code: 'model_access_denied' });
    const chatRes = await postJson(`${stack().url}/v1/chat/completions`, chat, { 'x-api-key': 'sk-bravo-91c2' });
    expect(chatRes.status).toBe(403);
    expect(await chatRes.json()).toMatchObject({ error: { type: 'permission_error', param: 'model', code: 'model_access_denied' } });
    const svc = await postJson(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] }, { authorization: `Bearer ${await jwt()}` });
    expect(svc.status).toBe(403);
  });

  it('keeps a consumer limited to stable off the canary even when the split picks it, mirrored copies included', async () => {
    const v2Before = (await demoStats(demo('sentiment@v2'))).requests;
    for (let i = 0; i < 30; i++) {
      const res = await infer({ 'x-api-key': 'sk-bravo-91c2' }, '/v2/models/sentiment/infer');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-gateway-model-version')).toBe('v1');
      await res.arrayBuffer();
    }
    // A consumer allowed the canary feeds it (served or mirrored); mirrors land after the answer.
    await (await infer({ 'x-api-key': 'sk-alpha-7f3a' }, '/v2/models/sentiment/infer')).arrayBuffer();
    let v2After = v2Before;
    for (let i = 0; i < 40 && v2After === v2Before; i++) {
      await new Promise((r) => setTimeout(r, 50));
      v2After = (await demoStats(demo('sentiment@v2'))).requests;
    }
    expect(v2After).toBe(v2Before + 1);
  });
});

describe('the consumer in logs and metrics; secrets in neither', () => {
  it('access lines and request metrics carry the consumer id; no key or token is ever logged', async () => {
    const token = await jwt();
    await (await infer({ authorization: `Bearer ${token}` })).arrayBuffer();
    await (await infer({ 'x-api-key': 'sk-alpha-7f3a' })).arrayBuffer();
    await (await infer({ authorization: 'Bearer sk-wrong-5e5e' })).arrayBuffer();
    const metrics = await (await fetch(`http://127.0.0.1:${stack().extProcs[0]?.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/gateway_requests_total\{[^}]*consumer="svc-jwt"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/gateway_requests_total\{[^}]*consumer="team-a"[^}]*\} [1-9]/);

    // Wait for the access lines themselves: other lines may name the consumer first.
    const accessOf = (text: string, consumer: string) => text.split('\n').some((l) => l.includes('"log":"access"') && l.includes(`"consumer":"${consumer}"`));
    const log = await extProcLog(stack(), (text) => accessOf(text, 'svc-jwt') && accessOf(text, 'team-a'));
    const access = log.split('\n').filter((l) => l.includes('"log":"access"')).map((l) => JSON.parse(l) as { consumer?: string; status: number });
    expect(access.some((a) => a.consumer === 'svc-jwt' && a.status === 200)).toBe(true);
    expect(access.some((a) => a.consumer === 'team-a' && a.status === 200)).toBe(true);
    for (const secret of ['sk-alpha-7f3a', 'sk-bravo-91c2', 'sk-wrong-5e5e', 'sk-zulu-0000', token.split('.')[2] as string]) expect(log).not.toContain(secret);
  });
});
