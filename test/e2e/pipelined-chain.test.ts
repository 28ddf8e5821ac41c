import OpenAI from 'openai';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { BODY_LENGTH_HEADER } from '../../plugins/sdk/wire.js';
import { baseConfig, demoStats, extProcLog, postJson, useStack } from '../harness/e2e.js';

// Where the chain reads both bodies of every OpenAI request (openai-validation before routing,
// openai-usage on the answer), Envoy's pipelined ext_proc filter sends each body right behind
// its headers, and the ext-proc answers both at once: one round trip per direction instead of
// two (docs/performance.md). Everything a client sees stays as it was: routing by the body's
// model, header edits on both sides, the rewritten request body of a stream, refusals in the
// client's protocol, Envoy's 413 above maxRequestBytes.

const MAX_REQUEST_BYTES = 256 * 1024;
const base = baseConfig({ envoy: { maxRequestBytes: MAX_REQUEST_BYTES } });

// A model server that sends the gateway's internal body-length header itself (a wrong length):
// Envoy must strip it before the filter that turns it into content-length ever sees it.
const SPOOFED_ANSWER = JSON.stringify({ model_name: 'spoofer', outputs: [{ name: 'out', shape: [1], datatype: 'BYTES', data: ['the whole answer'] }] });
const spoofer = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(SPOOFED_ANSWER), [BODY_LENGTH_HEADER]: '3' }).end(SPOOFED_ANSWER));
});
beforeAll(async () => {
  await new Promise<void>((resolve) => spoofer.listen(0, '127.0.0.1', resolve));
  const { port } = spoofer.address() as AddressInfo;
  // The stack reads the config when it starts, after this hook: the model joins the same object.
  Object.assign(base.models ?? {}, { spoofer: { protocol: 'kserve-v2', versions: { v1: { endpoints: [`127.0.0.1:${port}`] } } } });
});
afterAll(() => new Promise<void>((resolve) => spoofer.close(() => resolve())));

const stack = useStack({
  ...base,
  plugins: [
    { type: 'api-key-auth', options: { consumers: [{ id: 'demo', keys: [hashKey('demo-key')] }] } },
    { type: 'openai-validation' },
    { type: 'model-router', name: 'router' },
    { type: 'consumer-limits', options: { consumers: { demo: { requestsPerSecond: 1000, burst: 1000 } } } },
    { type: 'openai-usage', options: { forceStreamUsage: true } },
  ],
});

const client = (apiKey = 'demo-key') => new OpenAI({ baseURL: `${stack().url}/v1`, apiKey, maxRetries: 0 });
const user = (content: string) => [{ role: 'user' as const, content }];
const auth = { authorization: 'Bearer demo-key' };

/** The ext_proc filters' counters from Envoy's admin: `first` the gateway's filter, `pipelined` the second. */
async function extProcStats(): Promise<{ first: Record<string, number>; pipelined: Record<string, number> }> {
  const res = await fetch(`${stack().adminUrl}/stats?format=json&filter=ext_proc`);
  const { stats } = (await res.json()) as { stats: { name: string; value?: number }[] };
  const out = { first: {} as Record<string, number>, pipelined: {} as Record<string, number> };
  for (const { name, value } of stats) {
    if (value === undefined) continue;
    const m = /\.ext_proc\.(?:(pipelined)\.)?([a-z_]+)$/.exec(name);
    if (!m || !name.startsWith('http.ingress.')) continue;
    out[m[1] ? 'pipelined' : 'first'][m[2] as string] = value;
  }
  return out;
}

describe('pipelined OpenAI bodies', () => {
  it('send a chat completion through the pipelined filter: one stream, four messages, no timeout, answered with both sides’ header edits', async () => {
    const before = await extProcStats();
    const res = await postJson(`${stack().url}/v1/chat/completions`, { model: 'tinylm', messages: user('the white rabbit'), max_tokens: 5 }, auth);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage?: { completion_tokens: number } };
    expect(body.usage?.completion_tokens).toBeGreaterThan(0);
    // consumer-limits' headers are set while the response headers are held, and still arrive.
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    const after = await extProcStats();
    const delta = (side: 'first' | 'pipelined', stat: string) => (after[side][stat] ?? 0) - (before[side][stat] ?? 0);
    expect(delta('pipelined', 'streams_started')).toBe(1);
    expect(delta('first', 'streams_started')).toBe(0);
    // Request headers and the whole body (the buffer filter hands it over in one chunk), response
    // headers and the body's chunks (the demo server's last one is empty, with end_of_stream).
    expect(delta('pipelined', 'stream_msgs_sent')).toBeGreaterThanOrEqual(4);
    expect(after.pipelined.message_timeouts ?? 0).toBe(0);
    expect(after.pipelined.spurious_msgs_received ?? 0).toBe(0);
  });

  it('answer with a content-length (Envoy drops it from STREAMED bodies): a small answer is not compressed, a large one is, and the length header never leaves', async () => {
    const post = (path: string, body: object) =>
      fetch(`${stack().url}/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip', ...auth }, body: JSON.stringify(body) });
    const small = await post('chat/completions', { model: 'tinylm', messages: user('the white rabbit'), max_tokens: 3 });
    expect(small.status).toBe(200);
    expect(small.headers.get('content-encoding')).toBeNull();
    const bytes = Buffer.from(await small.arrayBuffer());
    expect(bytes.length).toBeLessThan(1024);
    expect(small.headers.get('content-length')).toBe(String(bytes.length));
    expect(JSON.parse(bytes.toString())).toMatchObject({ object: 'chat.completion' });
    expect(small.headers.get('x-gateway-body-length')).toBeNull();

    const large = await post('embeddings', { model: 'tinylm', input: Array.from({ length: 8 }, (_, i) => `sentence number ${i}`) });
    expect(large.status).toBe(200);
    expect(large.headers.get('content-encoding')).toBe('gzip');
    // fetch inflates it: the model's whole JSON, past the threshold.
    const text = await large.text();
    expect(text.length).toBeGreaterThan(1024);
    expect(JSON.parse(text)).toMatchObject({ object: 'list' });
    expect(large.headers.get('x-gateway-body-length')).toBeNull();
  });

  it('never take the body length from a model server: one that sends the internal header gets its whole answer through, with its own length', async () => {
    const res = await postJson(`${stack().url}/v2/models/spoofer/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] }, auth);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SPOOFED_ANSWER);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(SPOOFED_ANSWER)));
    expect(res.headers.get(BODY_LENGTH_HEADER)).toBeNull();
  });

  it('rewrite a stream’s request body (forceStreamUsage) before it reaches the model server, and hide the usage chunk the client did not ask for', async () => {
    const s = await client().chat.completions.create({ model: 'tinylm', messages: user('the Queen said'), max_tokens: 8, stream: true });
    let finished = false;
    let usageSeen = false;
    for await (const chunk of s) {
      if (chunk.choices[0]?.finish_reason) finished = true;
      if (chunk.usage) usageSeen = true;
    }
    expect(finished).toBe(true);
    expect(usageSeen).toBe(false);
    const seen = await demoStats(stack().demos.get('tinylm@v1')?.[0]?.url as string);
    expect(JSON.parse(seen.last?.body ?? '{}')).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('answer the official client’s completions and embeddings, streamed or not, as before', async () => {
    const c = await client().completions.create({ model: 'tinylm', prompt: 'Alice', max_tokens: 4 });
    expect(c.choices[0]?.text.length).toBeGreaterThan(0);
    const e = await client().embeddings.create({ model: 'tinylm', input: ['one', 'two'] });
    expect(e.data).toHaveLength(2);
    const whole = await client().chat.completions.create({ model: 'tinylm', messages: user('the Hatter'), seed: 3, max_tokens: 6 });
    let text = '';
    for await (const chunk of await client().chat.completions.create({ model: 'tinylm', messages: user('the Hatter'), seed: 3, max_tokens: 6, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe(whole.choices[0]?.message.content);
  });

  it('refuse in the client’s protocol: no key at the headers (the body already on its way is dropped), a bad body, a body over maxRequestBytes', async () => {
    const noKey = await postJson(`${stack().url}/v1/chat/completions`, { model: 'tinylm', messages: user('x'.repeat(50_000)) });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as { error: { message: string } }).error.message).toBeTruthy();

    const bad = await postJson(`${stack().url}/v1/chat/completions`, { model: 'tinylm' }, auth);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/messages/);

    const huge = await postJson(`${stack().url}/v1/chat/completions`, { model: 'tinylm', messages: user('x'.repeat(MAX_REQUEST_BYTES)) }, auth);
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { message: string } }).error).toBeTruthy();

    // None of it left the pipelined stream in a state Envoy or the processor calls a protocol error.
    const stats = await extProcStats();
    expect(stats.pipelined.spurious_msgs_received ?? 0).toBe(0);
    const log = await extProcLog(stack(), (t) => t.includes('"status":401'));
    expect(log).not.toMatch(/out of order/);
  });

  it('leave every other protocol on the first filter, with its per-request mode overrides (a V2 request gets its response headers processed)', async () => {
    const before = await extProcStats();
    const res = await postJson(
      `${stack().url}/v2/models/sentiment/infer`,
      { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a lovely day'] }] },
      auth,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('1000');
    const after = await extProcStats();
    expect((after.first.streams_started ?? 0) - (before.first.streams_started ?? 0)).toBe(1);
    expect((after.pipelined.streams_started ?? 0) - (before.pipelined.streams_started ?? 0)).toBe(0);
  });
});
