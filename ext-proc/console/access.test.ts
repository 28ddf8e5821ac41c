// Who may open the console and who may change the gateway through it.
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { decideAccess, isLoopbackHost, presentedKey, sameOriginWrite } from './access.js';

const req = (headers: Record<string, string>) => ({ headers: { host: '127.0.0.1:9464', ...headers } });
const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
const keys = [hashKey('s3cret-admin')];

describe('console access', () => {
  it('knows loopback bind addresses', () => {
    for (const h of ['127.0.0.1', '127.0.0.53', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'gateway.internal', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('is open on loopback without keys, to loopback host names only (no DNS rebinding)', () => {
    expect(decideAccess(req({}), '127.0.0.1', [])).toEqual({ ok: true });
    expect(decideAccess(req({ host: 'localhost:9464' }), '127.0.0.1', [])).toEqual({ ok: true });
    expect(decideAccess(req({ host: '[::1]:9464' }), '::1', [])).toEqual({ ok: true });
    expect(decideAccess(req({ host: 'evil.example:9464' }), '127.0.0.1', [])).toMatchObject({ ok: false, status: 403 });
  });

  it('bound beyond loopback, stays closed until an admin key is configured', () => {
    expect(decideAccess(req({ host: '10.0.0.5:9464' }), '0.0.0.0', [])).toMatchObject({ ok: false, status: 403, error: expect.stringContaining('console.adminKeys') });
  });

  it('with admin keys, needs one: Bearer, or the password of the browser prompt (Basic)', () => {
    const bound = '0.0.0.0';
    expect(decideAccess(req({}), bound, keys)).toMatchObject({ ok: false, status: 401, challenge: true });
    expect(decideAccess(req({ authorization: 'Bearer wrong' }), bound, keys)).toMatchObject({ ok: false, status: 401 });
    expect(decideAccess(req({ authorization: basic('wrong') }), bound, keys)).toMatchObject({ ok: false, status: 401 });
    expect(decideAccess(req({ authorization: 'Bearer s3cret-admin' }), bound, keys)).toEqual({ ok: true });
    expect(decideAccess(req({ authorization: basic('s3cret-admin') }), bound, keys)).toEqual({ ok: true });
    // Configured keys are required on loopback too.
    expect(decideAccess(req({}), '127.0.0.1', keys)).toMatchObject({ ok: false, status: 401 });
    // The refusal never echoes what was presented.
    expect(JSON.stringify(decideAccess(req({ authorization: 'Bearer almost-s3cret' }), bound, keys))).not.toContain('almost');
  });

  it('reads keys from Authorization only in the two schemes it knows', () => {
    expect(presentedKey(undefined)).toBeUndefined();
    expect(presentedKey('Bearer abc')).toBe('abc');
    expect(presentedKey(basic('p:w'))).toBe('p:w');
    expect(presentedKey('Basic !!!')).toBeUndefined();
    expect(presentedKey('Digest abc')).toBeUndefined();
  });

  it('takes changes only from its own page: custom header, same origin', () => {
    expect(sameOriginWrite(req({}))).toContain('x-gateway-console');
    expect(sameOriginWrite(req({ 'x-gateway-console': '1' }))).toBeUndefined();
    expect(sameOriginWrite(req({ 'x-gateway-console': '1', origin: 'http://127.0.0.1:9464' }))).toBeUndefined();
    expect(sameOriginWrite(req({ 'x-gateway-console': '1', origin: 'https://evil.example' }))).toContain('cross-origin');
    expect(sameOriginWrite(req({ 'x-gateway-console': '1', origin: 'null' }))).toContain('opaque');
  });
});
