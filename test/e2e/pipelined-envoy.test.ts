// Pipelined OpenAI bodies through the real Envoy (envoy/pipelined.ts, docs/routing.md): where the
// ext-proc reads both bodies anyway, an OpenAI request goes through the second ext_proc filter
// alone, its body held whole by Envoy's buffer filter; everything else keeps the first filter.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { baseConfig, demoStats, postJson, useStack } from '../harness/e2e.js';
import { envoyStat } from '../harness/faults.js';

const LIMIT = 64 * 1024;
const config = baseConfig({
  envoy: { maxRequestBytes: LIMIT },
  // openai-validation reads the request body before routing, openai-usage the response: pipelined.
  plugins: [{ type: 'openai-validation' }, { type: 'model-router', name: 'router' }, { type: 'openai-usage' }],
});

const chat = { model: 'tinylm', messages: [{ role: 'user', content: 'the rabbit' }], max_tokens: 4 };
type StackOf = ReturnType<typeof useStack>;
const streams = async (stack: StackOf) => ({
  first: await envoyStat(stack().adminUrl, 'http.ingress.ext_proc.streams_started'),
  pipelined: await envoyStat(stack().adminUrl, 'http.ingress.ext_proc.pipelined.streams_started'),
});
const tinylmLastBody = async (stack: StackOf) => (await demoStats(stack().demos.get('tinylm@v1')?.[0]?.url as string)).last?.body;

/** A raw HTTP/1.1 exchange (the head asks to close); `parts` are written `gapMs` apart. */
function trickle(stack: StackOf, head: string, parts: string[], gapMs: number): Promise<{ status: number; body: string }> {
  const port = Number(new URL(stack().url).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', async () => {
      socket.write(head);
      for (const p of parts) {
        await new Promise((r) => setTimeout(r, gapMs));
        if (!socket.destroyed) socket.write(p);
      }
    });
    let data = '';
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      const end = data.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error(`no HTTP response: ${JSON.stringify(data.slice(0, 120))}`));
      let body = data.slice(end + 4);
      if (/\r\ntransfer-encoding: *chunked/i.test(data.slice(0, end))) {
        let out = '';
        for (let at = 0; ; ) {
          const eol = body.indexOf('\r\n', at);
          const size = parseInt(body.slice(at, eol), 16);
          if (!(size > 0)) break;
          out += body.slice(eol + 2, eol + 2 + size);
          at = eol + 2 + size + 2;
        }
        body = out;
      }
      resolve({ status: Number(data.slice(9, 12)), body });
    });
  });
}

const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
const CHUNKED_HEAD = 'POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n';

describe.each([
  ['a static bootstrap', false],
  ['file-based xDS (the route in the RDS file the ext-proc writes)', true],
])('pipelined OpenAI bodies through Envoy, %s', (_, envoyXds) => {
  const stack = useStack(config, { envoyXds });

  it('an OpenAI request takes the pipelined ext_proc filter alone, and the model gets its body', async () => {
    const before = await streams(stack);
    const res = await postJson(`${stack().url}/v1/chat/completions`, chat);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { usage?: unknown }).usage).toBeDefined();
    expect(await tinylmLastBody(stack)).toBe(JSON.stringify(chat));
    const after = await streams(stack);
    expect(after.pipelined - before.pipelined).toBe(1);
    expect(after.first - before.first).toBe(0);
  });

  it('V2, TF Serving and GET /v1/models keep the first filter (mode_override and all)', async () => {
    const before = await streams(stack);
    const v2 = await postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a lovely day'] }] });
    expect(v2.status).toBe(200);
    const tf = await postJson(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(tf.status).toBe(200);
    expect((await fetch(`${stack().url}/v1/models`)).status).toBe(200);
    const after = await streams(stack);
    expect(after.first - before.first).toBe(3);
    expect(after.pipelined - before.pipelined).toBe(0);
  });

  it('a chunked upload trickled in slower than the ext_proc message timeout reaches the model whole (Envoy buffers it first)', async () => {
    const body = JSON.stringify({ ...chat, messages: [{ role: 'user', content: 'slowly, slowly' }] });
    const parts = [body.slice(0, 20), body.slice(20, 40), body.slice(40)].map(chunk);
    // Each gap longer than messageTimeoutMs (1 s).
    const res = await trickle(stack, CHUNKED_HEAD, [...parts, '0\r\n\r\n'], 1_200);
    expect(res.status).toBe(200);
    expect(await tinylmLastBody(stack)).toBe(body);
    expect(await envoyStat(stack().adminUrl, 'http.ingress.ext_proc.pipelined.message_timeouts')).toBe(0);
  });

  it.each([
    ['content-length', () => postJson(`${stack().url}/v1/chat/completions`, { ...chat, messages: [{ role: 'user', content: 'x'.repeat(LIMIT) }] }).then(async (r) => ({ status: r.status, body: await r.text() }))],
    ['chunked', () => trickle(stack, CHUNKED_HEAD, [chunk('a'.repeat(LIMIT + 1)), '0\r\n\r\n'], 0)],
  ])('a body over maxRequestBytes (%s) gets 413 request_too_large in the OpenAI shape', async (_, send) => {
    const res = await send();
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'request_too_large', type: 'invalid_request_error' } });
  });
});
