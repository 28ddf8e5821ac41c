// The console over HTTP on the status server: who gets the page, the state and the actions.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { startStatusServer, type StatusServer } from '../http-status.js';
import type { ConfigActions } from './actions.js';
import { consoleRoutes } from './routes.js';
import { ConsoleSchema, type ConsoleConfig } from '../config/console.js';

let server: StatusServer | undefined;
afterEach(async () => server?.close());

const logged: string[] = [];
const log = pino({ level: 'trace' }, { write: (line: string) => void logged.push(line) });

async function start(settings: Partial<ConsoleConfig>, boundHost = '127.0.0.1', state: () => Promise<unknown> = async () => ({ models: [] })) {
  const calls: unknown[] = [];
  const actions = {
    weights: async (model: string, weights: Record<string, number>) => {
      calls.push({ model, weights });
      return { applied: true as const, hash: 'h' };
    },
  } as unknown as ConfigActions;
  const full = ConsoleSchema.parse(settings);
  server = await startStatusServer({
    host: '127.0.0.1',
    port: 0,
    log,
    ready: () => true,
    routes: consoleRoutes({ boundHost, settings: () => full, state, actions }),
  });
  return { base: `http://127.0.0.1:${server.port}`, calls };
}

const post = (url: string, body: unknown, headers: Record<string, string> = { 'x-gateway-console': '1' }) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('console routes', () => {
  it('serves the page, its modules and its state on loopback, with a strict CSP', async () => {
    const { base } = await start({});
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('/console/app.js');
    for (const file of ['app.js', 'charts.js', 'dom.js', 'actions.js', 'style.css']) expect((await fetch(`${base}/console/${file}`)).status, file).toBe(200);
    expect(await (await fetch(`${base}/console/api/state`)).json()).toEqual({ models: [] });
  });

  it('with admin keys, asks the browser for one and opens with it', async () => {
    const { base } = await start({ adminKeys: [hashKey('admin-key')] }, '0.0.0.0');
    const denied = await fetch(`${base}/console/api/state`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toContain('Basic');
    const basic = `Basic ${Buffer.from('x:admin-key').toString('base64')}`;
    expect((await fetch(`${base}/`, { headers: { authorization: basic } })).status).toBe(200);
    expect((await fetch(`${base}/console/api/state`, { headers: { authorization: 'Bearer admin-key' } })).status).toBe(200);
  });

  it('never logs an admin key, presented right or wrong, even when a route fails', async () => {
    const { base } = await start({ adminKeys: [hashKey('admin-key')] }, '0.0.0.0', async () => {
      throw new Error('state failed');
    });
    await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong-admin-key' } });
    const failed = await fetch(`${base}/console/api/state`, { headers: { authorization: 'Bearer admin-key' } });
    expect(failed.status).toBe(500);
    expect(logged.join('')).toContain('status route failed');
    expect(logged.join('')).not.toMatch(/admin-key/);
  });

  it('bound beyond loopback without keys: closed', async () => {
    const { base } = await start({}, '0.0.0.0');
    expect((await fetch(`${base}/`)).status).toBe(403);
  });

  it('takes actions only when enabled, from its own page, with a well-formed body', async () => {
    const off = await start({});
    expect((await post(`${off.base}/console/api/weights`, { model: 'sentiment', weights: { v1: 1 } })).status).toBe(403);
    expect(off.calls).toEqual([]);
    await server?.close();
    server = undefined;

    const { base, calls } = await start({ actions: true });
    expect((await post(`${base}/console/api/weights`, { model: 'sentiment', weights: { v1: 1 } }, {})).status).toBe(403);
    expect((await post(`${base}/console/api/weights`, { model: 'sentiment', weights: { v1: 1 } }, { 'x-gateway-console': '1', origin: 'http://evil.example' })).status).toBe(403);
    const bad = await post(`${base}/console/api/weights`, { model: 'sentiment', weights: { v1: -1 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('weights.v1');
    expect((await fetch(`${base}/console/api/weights`, { method: 'POST', headers: { 'x-gateway-console': '1' }, body: '{' })).status).toBe(400);
    expect(calls).toEqual([]);
    const ok = await post(`${base}/console/api/weights`, { model: 'sentiment', weights: { v1: 1, v2: 0 } });
    expect(ok.status).toBe(200);
    expect(calls).toEqual([{ model: 'sentiment', weights: { v1: 1, v2: 0 } }]);
  });

  it('is gone when disabled', async () => {
    const { base } = await start({ enabled: false });
    expect((await fetch(`${base}/`)).status).toBe(404);
  });
});
