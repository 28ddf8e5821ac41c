import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseJson, sendJson, startDemoServer, type DemoServer } from './common.js';

let server: DemoServer;
const post = (path: string, body: unknown) =>
  fetch(server.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const fault = async (spec: unknown) => expect((await post('/__demo/fault', spec)).status).toBe(200);
const stats = async () => (await fetch(`${server.url}/__demo/stats`)).json();

beforeAll(async () => {
  server = await startDemoServer({
    port: 0,
    name: 'unit-a',
    maxBodyBytes: 64 * 1024,
    errorBody: (err) => ({ problem: err.message }),
    routes: [
      { pattern: /^\/health$/, kind: 'health', methods: { GET: ({ res, ready }) => sendJson(res, ready ? 200 : 503, { ready }) } },
      { pattern: /^\/info$/, kind: 'other', methods: { GET: ({ res }) => sendJson(res, 200, { info: true }) } },
      { pattern: /^\/infer$/, kind: 'inference', methods: { POST: ({ res, body }) => sendJson(res, 200, { echo: parseJson(body) }) } },
    ],
  });
});
afterAll(() => server.close());
beforeEach(async () => {
  await fault({ mode: 'ok' });
  await post('/__demo/reset-stats', {});
});

describe('demo control surface', () => {
  it('labels every response, including errors and control endpoints', async () => {
    for (const res of [await fetch(`${server.url}/info`), await fetch(`${server.url}/nope`), await fetch(`${server.url}/__demo/stats`)]) {
      expect(res.headers.get('x-demo-instance')).toBe('unit-a');
    }
  });

  it('counts requests apart from health checks and keeps the last body', async () => {
    await fetch(`${server.url}/health`);
    await fetch(`${server.url}/health`);
    await fetch(`${server.url}/info`, { headers: { 'x-trace': 'abc' } });
    await post('/infer', { big: 'x'.repeat(10_000) });
    const s = await stats();
    expect(s).toMatchObject({ requests: 2, healthChecks: 2, byPath: { '/health': 2, '/info': 1, '/infer': 1 } });
    expect(s.last.method).toBe('POST');
    expect(s.last.path).toBe('/infer');
    expect(s.last.headers['content-type']).toBe('application/json');
    expect(s.last.body).toHaveLength(4096);
    expect(s.last.bodyBytes).toBeGreaterThan(10_000);
    expect(s.recent.map((r: { path: string }) => r.path)).toEqual(['/info', '/infer']);
    expect(s.recent[0].headers['x-trace']).toBe('abc');
  });

  it('keeps only the last 50 requests and resets', async () => {
    await Promise.all(Array.from({ length: 55 }, () => fetch(`${server.url}/info`).then((r) => r.arrayBuffer())));
    const s = await stats();
    expect(s.requests).toBe(55);
    expect(s.recent).toHaveLength(50);
    await post('/__demo/reset-stats', {});
    expect(await stats()).toMatchObject({ requests: 0, healthChecks: 0, byPath: {}, last: null, recent: [] });
  });

  it('answers 404/405/413 in the protocol error shape', async () => {
    expect(await (await fetch(`${server.url}/nope`)).json()).toEqual({ problem: 'no route for GET /nope' });
    const res405 = await fetch(`${server.url}/infer`);
    expect(res405.status).toBe(405);
    expect(res405.headers.get('allow')).toBe('POST');
    const res413 = await post('/infer', { big: 'x'.repeat(70_000) });
    expect(res413.status).toBe(413);
    expect((await res413.json()).problem).toMatch(/exceeds limit/);
  });

  it('slow delays inference only', async () => {
    await fault({ mode: 'slow', delayMs: 300 });
    let t = Date.now();
    expect((await fetch(`${server.url}/info`)).status).toBe(200);
    expect(Date.now() - t).toBeLessThan(250);
    t = Date.now();
    expect(await (await post('/infer', { a: 1 })).json()).toEqual({ echo: { a: 1 } });
    expect(Date.now() - t).toBeGreaterThanOrEqual(290);
  });

  it('error returns the chosen status with a protocol-shaped body', async () => {
    await fault({ mode: 'error', status: 503 });
    const res = await post('/infer', {});
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ problem: 'demo fault injected: status 503' });
    await fault({ mode: 'error' });
    expect((await post('/infer', {})).status).toBe(500);
  });

  it('notready fails health but not inference', async () => {
    await fault({ mode: 'notready' });
    expect((await fetch(`${server.url}/health`)).status).toBe(503);
    expect((await post('/infer', { a: 1 })).status).toBe(200);
    await fault({ mode: 'ok' });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('reset drops the connection without a response', async () => {
    await fault({ mode: 'reset' });
    await expect(post('/infer', {})).rejects.toThrow();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('a counted fault reverts to ok after N inference requests', async () => {
    await fault({ mode: 'error', status: 502, count: 2 });
    expect((await post('/infer', {})).status).toBe(502);
    expect((await post('/infer', {})).status).toBe(502);
    expect((await post('/infer', {})).status).toBe(200);
    expect(await (await fetch(`${server.url}/__demo/fault`)).json()).toEqual({ mode: 'ok' });
  });

  it('rejects an invalid fault spec', async () => {
    expect((await post('/__demo/fault', { mode: 'explode' })).status).toBe(400);
    expect((await fetch(`${server.url}/__demo/fault`, { method: 'POST', body: '{' })).status).toBe(400);
  });
});

describe('CLI', () => {
  it('announces its port, serves, and exits cleanly on SIGTERM', async () => {
    const script = fileURLToPath(new URL('./sentiment/server.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, '--port', '0', '--name', 'cli-x', '--method', 'naive-bayes'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const event = JSON.parse(line);
      expect(event).toEqual({ event: 'listening', port: expect.any(Number) });
      const res = await fetch(`http://127.0.0.1:${event.port}/v2/models/sentiment`);
      expect(res.headers.get('x-demo-instance')).toBe('cli-x');
      expect((await res.json()).versions).toEqual(['v2']);
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
