import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../scripts/envoy-bin.js';
import { baseConfig, baseModel, demoStats, extProcLog, postJson, useStack } from '../harness/e2e.js';
import { readStream, type StreamRead } from '../harness/sse.js';
import { currentConfig, reloads } from '../harness/traffic.js';

// Plugins through real Envoy: a team's plugin loaded from pluginSources, failures turned into
// 500s with an error id (or skipped when fail-open), and the ext_proc round trips each kind
// of route costs, counted by Envoy itself.

const base = baseConfig();
const stack = useStack({
  ...base,
  pluginSources: [join(REPO_ROOT, 'examples/plugin-template'), join(REPO_ROOT, 'test/fixtures/plugins')],
  plugins: [
    { type: 'model-router', name: 'router' },
    { type: 'acme/team-tag', name: 'team', options: { team: 'search' } },
    { type: 'chaos', name: 'chaos-strict', options: { header: 'x-chaos-strict' }, timeoutMs: 100 },
    { type: 'chaos', name: 'chaos-open', options: { header: 'x-chaos-open' }, timeoutMs: 100, failOpen: true },
  ],
  models: {
    ...base.models,
    sentiment: { ...baseModel('sentiment'), plugins: [{ type: 'sentiment-text' }] },
    tinylm: { ...baseModel('tinylm'), plugins: [{ type: 'sse-content-filter', options: { words: ['zzz-never-generated'], buffered: false } }] },
  },
});

/** Envoy's own count of ext_proc messages it sent (`http.<prefix>.ext_proc.stream_msgs_sent`) and got back. */
async function extProcMessages(): Promise<{ sent: number; received: number }> {
  const text = await (await fetch(`${stack().adminUrl}/stats?filter=ext_proc\\.stream_msgs`)).text();
  const read = (name: string) => Number(new RegExp(`^http\\.ingress\\.ext_proc\\.${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { sent: read('stream_msgs_sent'), received: read('stream_msgs_received') };
}

/** Runs `send` (which must consume the whole response) and returns how many messages Envoy exchanged with the ext-proc for it. */
async function messagesFor(send: () => Promise<void>): Promise<number> {
  const before = await extProcMessages();
  await send();
  const after = await extProcMessages();
  // Every message Envoy sent got exactly one answer.
  expect(after.received - before.received).toBe(after.sent - before.sent);
  return after.sent - before.sent;
}

const v2Input = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['I love this'] }] };
const chat = (extra: Record<string, unknown> = {}) => ({ model: 'tinylm', messages: [{ role: 'user', content: 'Tell me about the rabbit' }], max_tokens: 12, ...extra });

describe('a team plugin loaded from pluginSources acts on real traffic', () => {
  it('tags what the model server receives and what the client gets', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-team')).toBe('search');
    expect(res.headers.get('x-team-wait-ms')).toMatch(/^\d+$/);
    await res.arrayBuffer();
    const seen = await demoStats(stack().demos.get('sentiment@v1')?.[0]?.url as string);
    // The split may pick v2; whichever answered saw the tag.
    const v2 = await demoStats(stack().demos.get('sentiment@v2')?.[0]?.url as string);
    const last = res.headers.get('x-gateway-model-version') === 'v1' ? seen.last : v2.last;
    expect(last?.headers['x-team']).toBe('search');
  });

  it('its error answer reaches the client in the client protocol', async () => {
    const res = await postJson(`${stack().url}/v1/chat/completions`, chat(), { 'x-team': 'ads' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'team_header_forbidden' } });
  });
});

describe('a plugin that fails', () => {
  it('throwing: the client gets a 500 with an error id, the log names plugin, hook and request id, and the next request is fine', async () => {
    const res = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input, { 'x-chaos-strict': 'throw', 'x-request-id': 'chaos-throw-1' });
    expect(res.status).toBe(500);
    const errorId = res.headers.get('x-gateway-error-id') as string;
    expect(errorId).toMatch(/^[0-9a-f]{12}$/);
    const body = (await res.json()) as { error: string; code: string };
    expect(body).toMatchObject({ code: 'plugin_error' });
    expect(body.error).toContain(errorId);
    expect(body.error).not.toContain('asked for it');

    const log = await extProcLog(stack(), (text) => text.includes(errorId));
    const line = log.split('\n').find((l) => l.includes(errorId));
    expect(JSON.parse(line as string)).toMatchObject({ plugin: 'chaos-strict', hook: 'requestHeaders', reqId: 'chaos-throw-1', errorId });

    const after = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input);
    expect(after.status).toBe(200);
    await after.arrayBuffer();
  });

  it('timing out: 500 plugin_timeout; a fail-open instance is skipped and the request served', async () => {
    const hung = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input, { 'x-chaos-strict': 'hang' });
    expect(hung.status).toBe(500);
    expect(await hung.json()).toMatchObject({ code: 'plugin_timeout' });

    for (const mode of ['hang', 'throw']) {
      const open = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input, { 'x-chaos-open': mode });
      expect(open.status).toBe(200);
      expect(open.headers.get('x-gateway-error-id')).toBeNull();
      await open.arrayBuffer();
    }
  });
});

describe('pay only for what is used: ext_proc messages per request, counted by Envoy', () => {
  it('a route whose chain has no body hooks: request and response headers only', async () => {
    const n = await messagesFor(async () => {
      const res = await postJson(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    });
    expect(n).toBe(2);
  });

  it('a standard V2 request to a model with sentiment-text: the request body is read, the response is not buffered', async () => {
    const n = await messagesFor(async () => {
      const res = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    });
    expect(n).toBe(3);
  });

  it('a friendly sentiment request: its response-body hook costs exactly one buffered body round trip', async () => {
    const n = await messagesFor(async () => {
      const res = await postJson(`${stack().url}/v2/models/sentiment/infer`, { text: 'I love this' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ label: 'positive', score: expect.any(Number) });
    });
    expect(n).toBe(4);
  });

  it('a non-streamed completion with a stream-only filter: no body round trip either way (Envoy read the model)', async () => {
    const n = await messagesFor(async () => {
      const res = await postJson(`${stack().url}/v1/chat/completions`, chat());
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    });
    // Request and response headers: the router places the request from the model Envoy read from the body.
    expect(n).toBe(2);
  });

  it('an SSE response with a responseEvent hook stays STREAMED: one round trip per chunk, arriving incrementally', async () => {
    let read: StreamRead | undefined;
    const n = await messagesFor(async () => {
      const res = await postJson(`${stack().url}/v1/chat/completions`, chat({ stream: true }));
      expect(res.status).toBe(200);
      read = await readStream(res);
    });
    const { arrivals, spreadMs, events } = read as StreamRead;
    // Headers both ways (the router has the model Envoy read from the body), then the response
    // body chunk by chunk as the model writes it (a chunk may hold more than one event). BUFFERED would be 1.
    const bodyMessages = n - 2;
    expect(bodyMessages).toBeGreaterThanOrEqual(5);
    expect(bodyMessages).toBeLessThanOrEqual(events.length + 1);
    // The demo model pauses ~15 ms per token: a buffered body would arrive in one or two reads.
    expect(arrivals.length).toBeGreaterThanOrEqual(5);
    expect(spreadMs).toBeGreaterThan(100);
  });
});

describe('plugin sources on reload', () => {
  it('a source added to the config while running loads, and its plugin acts on the next request', async () => {
    const before = await reloads(stack(), 'success');
    const next = currentConfig(stack());
    next.pluginSources = [...(next.pluginSources ?? []), join(REPO_ROOT, 'test/fixtures/plugins-late')];
    next.plugins = [...(next.plugins ?? []), { type: 'late-stamp', name: 'stamp', options: { value: 'reloaded' } }];
    await stack().writeConfig(next);
    await vi.waitFor(async () => expect(await reloads(stack(), 'success')).toBeGreaterThan(before), { timeout: 5000 });
    const res = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-late-stamp')).toBe('reloaded');
    await res.arrayBuffer();
  });

  it('a source that cannot load refuses the reload and keeps the config in force', async () => {
    const failed = await reloads(stack(), 'failure');
    const next = currentConfig(stack());
    next.pluginSources = [...(next.pluginSources ?? []), join(REPO_ROOT, 'test/fixtures/no-such-plugins')];
    await stack().writeConfig(next);
    await vi.waitFor(async () => expect(await reloads(stack(), 'failure')).toBeGreaterThan(failed), { timeout: 5000 });
    const log = await extProcLog(stack(), (text) => text.includes('no-such-plugins'));
    expect(log).toMatch(/pluginSources\[\d\]: cannot load/);
    const res = await postJson(`${stack().url}/v2/models/sentiment/infer`, v2Input);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-late-stamp')).toBe('reloaded');
    await res.arrayBuffer();
  });
});
