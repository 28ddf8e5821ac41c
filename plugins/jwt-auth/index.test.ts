import { createServer, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway } from '../sdk/testing.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'inference-gateway';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

let dir: string;
let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let ec: Awaited<ReturnType<typeof generateKeyPair>>;
let stranger: Awaited<ReturnType<typeof generateKeyPair>>;
let jwks: { keys: JWK[] };

async function token(opts: { payload?: JWTPayload; alg?: 'RS256' | 'ES256'; kid?: string; exp?: number | string; nbf?: number; iat?: number; key?: CryptoKey } = {}) {
  const alg = opts.alg ?? 'RS256';
  const jwt = new SignJWT({ sub: 'team-a', ...opts.payload })
    .setProtectedHeader({ alg, kid: opts.kid ?? alg.toLowerCase() })
    .setIssuer(opts.payload?.iss ?? ISSUER)
    .setAudience(opts.payload?.aud ?? AUDIENCE)
    .setIssuedAt(opts.iat);
  if (opts.exp !== 0) jwt.setExpirationTime(opts.exp ?? '5m');
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(opts.key ?? (alg === 'RS256' ? rsa.privateKey : ec.privateKey));
}

const now = () => Math.floor(Date.now() / 1000);
const infer = (authorization?: string) => ({
  path: '/v2/models/sentiment/infer',
  headers: authorization === undefined ? {} : ({ authorization } as Record<string, string>),
  json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] },
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jwt-auth-'));
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  stranger = await generateKeyPair('RS256');
  jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rs256', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'es256', alg: 'ES256', use: 'sig' },
    ],
  };
  await writeFile(join(dir, 'jwks.json'), JSON.stringify(jwks));
});

const options = (extra: Record<string, unknown> = {}) => ({ jwks: { file: 'jwks.json' }, issuer: ISSUER, audience: AUDIENCE, ...extra });
const gateway = (extra: Record<string, unknown> = {}) =>
  createTestGateway({ plugins: [{ plugin: 'jwt-auth', options: options(extra) }, 'model-router'], models: exampleModels, configDir: dir });

describe('jwt-auth with a JWKS file', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await gateway();
  });
  afterAll(() => gw.close());

  it.each(['RS256', 'ES256'] as const)('accepts a valid %s token: consumer from sub, upstream header, no Authorization forwarded', async (alg) => {
    const res = await gw.request(infer(`Bearer ${await token({ alg })}`));
    expect(res.status).toBe(200);
    expect(res.vars.consumer).toEqual({ id: 'team-a' });
    expect(res.upstream?.headers['x-gateway-consumer']).toBe('team-a');
    expect(res.upstream?.headers.authorization).toBeUndefined();
  });

  it('tolerates small clock skew on exp and nbf', async () => {
    expect((await gw.request(infer(`Bearer ${await token({ exp: now() - 10 })}`))).status).toBe(200);
    expect((await gw.request(infer(`Bearer ${await token({ nbf: now() + 10 })}`))).status).toBe(200);
  });

  const cases: [string, () => Promise<string>, RegExp][] = [
    ['no Authorization header', async () => '', /token is required/],
    ['a non-JWT bearer', async () => 'Bearer not-a-jwt', /Bearer <JWT>/],
    ['an expired token', async () => `Bearer ${await token({ exp: now() - 120 })}`, /expired/],
    ['a token not valid yet', async () => `Bearer ${await token({ nbf: now() + 600 })}`, /"nbf"/],
    ['a token without exp', async () => `Bearer ${await token({ exp: 0 })}`, /"exp"/],
    ['another issuer', async () => `Bearer ${await token({ payload: { iss: 'https://evil.test' } })}`, /"iss"/],
    ['another audience', async () => `Bearer ${await token({ payload: { aud: 'someone-else' } })}`, /"aud"/],
    ['a signature by an unknown key under a known kid', async () => `Bearer ${await token({ key: stranger.privateKey as CryptoKey })}`, /signature/],
    ['an unknown kid', async () => `Bearer ${await token({ kid: 'nope' })}`, /No key/],
    ['alg none', async () => `Bearer ${b64({ alg: 'none', kid: 'rs256' })}.${b64({ sub: 'team-a', iss: ISSUER, aud: AUDIENCE, exp: now() + 60 })}.`, /algorithm/],
    [
      // The classic confusion: an HMAC over the token keyed with the RSA public key the attacker knows.
      'HS256 keyed with the RSA public key',
      async () => {
        const pem = await exportSPKI(rsa.publicKey);
        const input = `${b64({ alg: 'HS256', kid: 'rs256' })}.${b64({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 60 })}`;
        return `Bearer ${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
      /algorithm/,
    ],
    ['a tampered payload', async () => {
      const [h, , s] = (await token()).split('.');
      return `Bearer ${h}.${b64({ sub: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 60 })}.${s}`;
    }, /signature/],
    ['a sub that is not a valid consumer id', async () => `Bearer ${await token({ payload: { sub: 'has spaces\nand newline' } })}`, /consumer id/],
    ['garbage in JWT shape', async () => 'Bearer aaaa.bbbb.cccc', /malformed/],
  ];

  it.each(cases)('answers 401 with a challenge for %s, and no model server sees it', async (_label, make, message) => {
    const auth = await make();
    const res = await gw.request(infer(auth || undefined));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="inference-gateway"/);
    expect(res.json<{ error: string }>().error).toMatch(message);
    expect(res.upstream).toBeUndefined();
  });

  it('never logs the token', async () => {
    const t = await token({ exp: now() - 600 });
    await gw.request(infer(`Bearer ${t}`));
    expect(JSON.stringify(gw.logs)).not.toContain(t.split('.')[2]);
  });

  it('picks up a rotated JWKS file', async () => {
    const rotating = await gateway({ jwks: { file: 'rotating.json', reloadMs: 100 } }).catch((e: Error) => e);
    expect(rotating).toBeInstanceOf(Error); // the file does not exist yet: a config error at start-up
    await writeFile(join(dir, 'rotating.json'), JSON.stringify({ keys: [jwks.keys[1]] }));
    const gw2 = await gateway({ jwks: { file: 'rotating.json', reloadMs: 100 } });
    try {
      expect((await gw2.request(infer(`Bearer ${await token({ alg: 'RS256' })}`))).status).toBe(401);
      await new Promise((r) => setTimeout(r, 20)); // a distinct mtime
      await writeFile(join(dir, 'rotating.json'), JSON.stringify(jwks));
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = (await gw2.request(infer(`Bearer ${await token({ alg: 'RS256' })}`))).status;
      }
      expect(status).toBe(200);
    } finally {
      await gw2.close();
    }
  });
});

describe('jwt-auth config', () => {
  it.each([
    ['an HMAC algorithm', { algorithms: ['HS256'] }, /algorithms\[0\].*never "none", no HMAC/],
    ['alg none', { algorithms: ['none'] }, /algorithms\[0\]/],
    ['a plain-http JWKS URL off loopback', { jwks: { url: 'http://idp.example.com/jwks.json' } }, /https/],
    ['no issuer', { issuer: undefined }, /issuer/],
  ])('refuses %s', async (_label, extra, message) => {
    await expect(gateway(extra)).rejects.toThrow(message);
  });

  it.each([
    ['a symmetric key', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'x' }] }, /symmetric/],
    ['a private key', 'private', /private key material/],
    ['no keys', { keys: [] }, /no keys/],
  ])('refuses a JWKS file with %s', async (_label, doc, message) => {
    const body = doc === 'private' ? { keys: [{ ...(await exportJWK(rsa.privateKey)), kid: 'p' }] } : doc;
    await writeFile(join(dir, 'bad.json'), JSON.stringify(body));
    await expect(gateway({ jwks: { file: 'bad.json' } })).rejects.toThrow(message);
  });
});

describe('jwt-auth with a JWKS URL', () => {
  let server: Server;
  let fetches = 0;
  let url: string;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches the set once at start-up and serves tokens from the cache', async () => {
    const gw = await gateway({ jwks: { url } });
    try {
      const before = fetches;
      for (let i = 0; i < 3; i++) expect((await gw.request(infer(`Bearer ${await token()}`))).status).toBe(200);
      expect(fetches).toBe(before);
      expect(before).toBeGreaterThanOrEqual(1);
    } finally {
      await gw.close();
    }
  });

  it('answers 503 (not 401) when the identity provider cannot be reached', async () => {
    const gw = await gateway({ jwks: { url: 'http://127.0.0.1:1/jwks.json' } });
    try {
      const res = await gw.request(infer(`Bearer ${await token()}`));
      expect(res.status).toBe(503);
      expect(res.json()).toMatchObject({ code: 'jwks_unavailable' });
    } finally {
      await gw.close();
    }
  });
});
