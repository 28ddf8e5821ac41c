// The hostile-input corpus: malformed and malicious requests, each of which must get the right
// 4xx with a JSON error body, from the ext-proc or from Envoy itself, while the ext-proc stays
// up and no model server sees any of them.
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { baseConfig, demoStats, useStack } from '../harness/e2e.js';

const LIMIT = 256 * 1024;
const stack = useStack(
  baseConfig({
    envoy: { maxRequestBytes: LIMIT },
    // Below Envoy's 100 headers: the ext-proc's own bound answers 431 in the client's protocol.
    extProc: { limits: { maxHeaders: 64 } },
    plugins: [
      { type: 'api-key-auth', options: { consumers: [{ id: 'demo', keys: [hashKey('demo-key')] }, { id: 'iris-only', keys: [hashKey('iris-key')] }] } },
      { type: 'openai-validation', options: { maxBodyBytes: 200_000 } },
      {
        type: 'kserve-v2-validation',
        options: { maxBodyBytes: 200_000, signatures: { sentiment: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }] } } },
      },
      {
        type: 'tfserving-validation',
        options: { maxBodyBytes: 200_000, signatures: { iris: { serving_default: { inputs: { features: { dtype: 'DT_FLOAT', shape: [-1, 4] } } } } } },
      },
      { type: 'model-router', name: 'router' },
      { type: 'model-access', options: { consumers: { demo: ['*'], 'iris-only': ['iris'] } } },
    ],
  }),
);

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const KEY = { authorization: 'Bearer demo-key' };
const JSON_CT = { 'content-type': 'application/json' };
const v2ok = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['fine'] }] };
const chatOk = { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }] };

async function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Reply> {
  const res = await fetch(`${stack().url}${path}`, { method, headers, body: Buffer.isBuffer(body) ? new Uint8Array(body) : body });
  return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
}
const post = (path: string, body: unknown, headers: Record<string, string> = { ...KEY, ...JSON_CT }) =>
  send('POST', path, headers, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));

/** Raw bytes on a socket, for requests fetch refuses to send; reads one response. */
function raw(request: string | Buffer): Promise<Reply> {
  const port = Number(new URL(stack().url).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let data = Buffer.alloc(0);
    const done = () => {
      socket.destroy();
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error(`no HTTP response (got ${JSON.stringify(text.slice(0, 80))})`));
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: data.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8') });
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end))?.[1];
      if (end !== -1 && length !== undefined && data.length >= end + 4 + Number(length)) done();
    });
    socket.on('end', done);
    socket.on('error', () => done());
    setTimeout(done, 3000);
  });
}
const rawReq = (lines: string[], body = '') => `${lines.join('\r\n')}\r\n\r\n${body}`;

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
const chunked = (size: number) =>
  rawReq(['POST /v1/chat/completions HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'content-type: application/json', 'transfer-encoding: chunked'], `${size.toString(16)}\r\n${'a'.repeat(size)}\r\n0\r\n\r\n`);

type Shape = 'openai' | 'plain';
interface Case {
  name: string;
  status: number;
  shape: Shape;
  send: () => Promise<Reply>;
}

const cases: Case[] = [
  // ---- credentials ------------------------------------------------------------------------
  { name: 'no credentials (V2)', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, JSON_CT) },
  { name: 'no credentials (OpenAI)', status: 401, shape: 'openai', send: () => post('/v1/chat/completions', chatOk, JSON_CT) },
  { name: 'wrong bearer key', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...JSON_CT, authorization: 'Bearer demo-kez' }) },
  { name: 'wrong x-api-key', status: 401, shape: 'openai', send: () => post('/v1/embeddings', { model: 'tinylm', input: 'x' }, { ...JSON_CT, 'x-api-key': 'nope' }) },
  { name: 'empty bearer', status: 401, shape: 'plain', send: () => post('/v1/models/iris:predict', { instances: [[1, 2, 3, 4]] }, { ...JSON_CT, authorization: 'Bearer' }) },
  { name: 'Basic credentials', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...JSON_CT, authorization: `Basic ${Buffer.from('demo:demo-key').toString('base64')}` }) },
  { name: 'a 10 KB bearer', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...JSON_CT, authorization: `Bearer ${'k'.repeat(10_000)}` }) },
  { name: 'a JWT-shaped bearer when only keys are accepted', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...JSON_CT, authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.' }) },
  { name: 'the key in the query string', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer?api_key=demo-key', v2ok, JSON_CT) },
  { name: 'two Authorization headers', status: 401, shape: 'plain', send: () => raw(rawReq(['POST /v2/models/sentiment/infer HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'authorization: Bearer other', 'content-type: application/json', 'content-length: 2'], '{}')) },
  { name: 'non-ASCII bytes in the key', status: 401, shape: 'plain', send: () => raw(Buffer.concat([Buffer.from('POST /v2/models/sentiment/infer HTTP/1.1\r\nhost: gw\r\nx-api-key: demo-k\xe9y\r\ncontent-length: 2\r\n\r\n{}', 'latin1')])) },
  { name: 'the stored hash sent as the key', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...JSON_CT, 'x-api-key': hashKey('demo-key') }) },
  // ---- spoofed routing and identity --------------------------------------------------------
  { name: 'a forged cluster header without credentials', status: 401, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...JSON_CT, 'x-gateway-cluster': 'sentiment@v2' }) },
  { name: 'a forged consumer header without credentials', status: 401, shape: 'openai', send: () => post('/v1/chat/completions', chatOk, { ...JSON_CT, 'x-gateway-consumer': 'demo' }) },
  { name: 'a consumer reaching for a model it may not use', status: 403, shape: 'openai', send: () => post('/v1/chat/completions', chatOk, { ...JSON_CT, 'x-api-key': 'iris-key', 'x-gateway-consumer': 'demo' }) },
  { name: 'a consumer naming a forbidden version', status: 403, shape: 'plain', send: () => post('/v2/models/sentiment/versions/v2/infer', v2ok, { ...JSON_CT, 'x-api-key': 'iris-key' }) },
  // ---- paths and model names ----------------------------------------------------------------
  { name: 'traversal with encoded slashes', status: 400, shape: 'plain', send: () => raw(rawReq(['POST /v2/models/..%2F..%2Fetc/infer HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'content-length: 2'], '{}')) },
  { name: 'traversal with encoded backslashes', status: 400, shape: 'plain', send: () => raw(rawReq(['POST /v2/models/sentiment/versions/..%5C..%5Cv2/infer HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'content-length: 2'], '{}')) },
  { name: 'traversal with dot segments', status: 404, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/../../../etc/passwd HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key'])) },
  { name: 'traversal with encoded dots', status: 404, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/%2e%2e/%2e%2e/etc/passwd HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key'])) },
  { name: 'a NUL in the model name', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment%00/infer', v2ok) },
  { name: 'a broken escape in the model name', status: 400, shape: 'plain', send: () => post('/v2/models/%ZZ/infer', v2ok) },
  // Used to escape the request-headers phase as a URI error: Envoy answered 503 gateway_unavailable.
  { name: 'a lone % as the model name (OpenAI retrieve)', status: 400, shape: 'openai', send: () => send('GET', '/v1/models/%', KEY) },
  { name: 'a lone % before a TF verb', status: 400, shape: 'plain', send: () => post('/v1/models/%:predict', { instances: [[1, 2, 3, 4]] }) },
  { name: 'an escape that is not UTF-8', status: 400, shape: 'plain', send: () => post('/v2/models/%C3%28/infer', v2ok) },
  { name: 'shell characters in the model name', status: 404, shape: 'plain', send: () => post('/v2/models/sentiment;rm%20-rf/infer', v2ok) },
  { name: 'an 8 KB model name', status: 404, shape: 'plain', send: () => post(`/v2/models/${'m'.repeat(8192)}/infer`, v2ok) },
  { name: 'a traversal in the version header', status: 404, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...KEY, ...JSON_CT, 'x-model-version': '../v1' }) },
  { name: 'a traversal in the OpenAI model', status: 404, shape: 'openai', send: () => post('/v1/chat/completions', { ...chatOk, model: 'tinylm@../../etc' }) },
  { name: 'an unknown path', status: 404, shape: 'plain', send: () => send('GET', '/admin/config', KEY) },
  { name: 'an unknown TF Serving verb', status: 404, shape: 'plain', send: () => post('/v1/models/iris:explode', {}) },
  // ---- methods ------------------------------------------------------------------------------
  { name: 'GET on chat completions', status: 405, shape: 'openai', send: () => send('GET', '/v1/chat/completions', KEY) },
  { name: 'DELETE on V2 infer', status: 405, shape: 'plain', send: () => send('DELETE', '/v2/models/sentiment/infer', KEY) },
  { name: 'PUT on TF predict', status: 405, shape: 'plain', send: () => send('PUT', '/v1/models/iris:predict', { ...KEY, ...JSON_CT }, '{"instances":[[1,2,3,4]]}') },
  { name: 'POST on V2 model metadata', status: 405, shape: 'plain', send: () => post('/v2/models/sentiment', {}) },
  // ---- content type and framing -------------------------------------------------------------
  { name: 'text/plain', status: 415, shape: 'openai', send: () => post('/v1/chat/completions', JSON.stringify(chatOk), { ...KEY, 'content-type': 'text/plain' }) },
  { name: 'a form body', status: 415, shape: 'plain', send: () => post('/v2/models/sentiment/infer', 'inputs=1', { ...KEY, 'content-type': 'application/x-www-form-urlencoded' }) },
  { name: 'UTF-16 JSON', status: 415, shape: 'plain', send: () => post('/v1/models/iris:predict', Buffer.from('{"instances":[[1]]}', 'utf16le'), { ...KEY, 'content-type': 'application/json; charset=utf-16' }) },
  { name: 'the V2 binary tensor extension', status: 415, shape: 'plain', send: () => post('/v2/models/sentiment/infer', Buffer.alloc(16), { ...KEY, 'content-type': 'application/octet-stream', 'inference-header-content-length': '4' }) },
  { name: 'a POST without a body', status: 400, shape: 'openai', send: () => raw(rawReq(['POST /v1/chat/completions HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'content-type: application/json'])) },
  { name: 'content-length: 0', status: 400, shape: 'plain', send: () => raw(rawReq(['POST /v2/models/sentiment/infer HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'content-type: application/json', 'content-length: 0'])) },
  { name: 'content-length and transfer-encoding together (smuggling)', status: 400, shape: 'plain', send: () => raw(rawReq(['POST /v2/models/sentiment/infer HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'content-length: 4', 'transfer-encoding: chunked'], '0\r\n\r\n')) },
  // ---- JSON well-formedness -----------------------------------------------------------------
  { name: 'truncated JSON', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', '{"model":"tinylm","messages":[{"role":"us') },
  { name: 'invalid UTF-8', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', Buffer.from([0x7b, 0x22, 0x69, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])) },
  { name: '100k levels of [[[[', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', deep(100_000)) },
  { name: '20k levels of {"a":', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`) },
  { name: 'deep nesting inside a valid request', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', `{"model":"tinylm@v1","messages":${deep(5000)}}`) },
  { name: 'trailing garbage', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', '{"instances":[[1,2,3,4]]} extra') },
  { name: 'a top-level array', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', '[{"name":"text"}]') },
  { name: 'NaN', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', '{"model":"tinylm","messages":[],"temperature":NaN}') },
  { name: 'a byte-order mark', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', `\ufeff${JSON.stringify(v2ok)}`) },
  // ---- types and ranges ---------------------------------------------------------------------
  { name: 'a string temperature', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', { ...chatOk, temperature: 'hot' }) },
  { name: 'temperature 1e400', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', '{"model":"tinylm","messages":[{"role":"user","content":"hi"}],"temperature":1e400}') },
  { name: 'max_tokens -1', status: 400, shape: 'openai', send: () => post('/v1/completions', { model: 'tinylm', prompt: 'x', max_tokens: -1 }) },
  { name: 'n = 10^10', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', { ...chatOk, n: 1e10 }) },
  { name: 'an unknown role', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'root', content: 'x' }] }) },
  { name: 'a model that is an object', status: 400, shape: 'openai', send: () => post('/v1/embeddings', { model: { $ne: null }, input: 'x' }) },
  { name: 'V2 data count ≠ shape product', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', { inputs: [{ ...v2ok.inputs[0], shape: [3] }] }) },
  { name: 'V2 shape of 10^15 elements', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', { inputs: [{ ...v2ok.inputs[0], shape: [1e15] }] }) },
  { name: 'V2 numbers for BYTES', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', { inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: [1, 2] }] }) },
  { name: 'V2 unknown datatype', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', { inputs: [{ ...v2ok.inputs[0], datatype: 'FP128' }] }) },
  { name: 'V2 input the model does not have', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', { inputs: [{ ...v2ok.inputs[0], name: 'prompt' }] }) },
  { name: 'TF instances and inputs together', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', { instances: [[1, 2, 3, 4]], inputs: [[1, 2, 3, 4]] }) },
  { name: 'TF empty instances', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', { instances: [] }) },
  { name: 'TF input the model does not have', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', { instances: [{ petals: [1, 2, 3, 4] }] }) },
  { name: 'TF instance of the wrong shape', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', { instances: [[1, 2, 3]] }) },
  { name: 'TF strings for DT_FLOAT', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', { inputs: [['1', '2', '3', '4']] }) },
  { name: 'TF ragged columns', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', { inputs: [[1, 2, 3, 4], [1]] }) },
  { name: 'TF signature_name "constructor"', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', { signature_name: 'constructor', instances: [[1, 2, 3, 4]] }) },
  // ---- prototype pollution ------------------------------------------------------------------
  { name: '__proto__ at the top (OpenAI)', status: 400, shape: 'openai', send: () => post('/v1/chat/completions', '{"model":"tinylm","messages":[{"role":"user","content":"hi"}],"__proto__":{"isAdmin":true}}') },
  { name: 'constructor.prototype inside a V2 input', status: 400, shape: 'plain', send: () => post('/v2/models/sentiment/infer', '{"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["x"],"constructor":{"prototype":{"polluted":1}}}]}') },
  { name: '__proto__ inside a TF instance', status: 400, shape: 'plain', send: () => post('/v1/models/iris:predict', '{"instances":[{"x":1,"__proto__":{"polluted":1}}]}') },
  // ---- sizes --------------------------------------------------------------------------------
  { name: 'a declared body over the limit', status: 413, shape: 'openai', send: () => post('/v1/chat/completions', JSON.stringify({ ...chatOk, messages: [{ role: 'user', content: 'x'.repeat(210_000) }] })) },
  { name: 'a chunked body over Envoy’s buffer', status: 413, shape: 'openai', send: () => raw(chunked(LIMIT + 10_000)) },
  { name: 'a 64 KB header', status: 431, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/1.1', 'host: gw', `x-big: ${'a'.repeat(64_000)}`])) },
  { name: '80 headers, over the ext-proc’s bound (OpenAI)', status: 431, shape: 'openai', send: () => post('/v1/chat/completions', chatOk, { ...KEY, ...JSON_CT, ...Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`x-h${i}`, 'v'])) }) },
  { name: '80 headers, over the ext-proc’s bound (V2)', status: 431, shape: 'plain', send: () => post('/v2/models/sentiment/infer', v2ok, { ...KEY, ...JSON_CT, ...Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`x-h${i}`, 'v'])) }) },
  { name: '150 headers', status: 431, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/1.1', 'host: gw', ...Array.from({ length: 150 }, (_, i) => `x-h${i}: v`)])) },
  // ---- header injection and malformed HTTP --------------------------------------------------
  { name: 'a NUL in a header value', status: 400, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'x-a: a\0b'])) },
  { name: 'a space in a header name', status: 400, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/1.1', 'host: gw', 'authorization: Bearer demo-key', 'x a: b'])) },
  // A folded line or a bare CR stays inside the value (the key never counts); a bare LF ends the line,
  // and the routing header it smuggles is dropped like any client-sent one.
  { name: 'a folded line smuggling credentials', status: 401, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/1.1', 'host: gw', 'x-a: b', ' authorization: Bearer demo-key'])) },
  { name: 'a CR smuggling credentials into a value', status: 401, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/1.1', 'host: gw', 'x-a: b\rx-api-key: demo-key'])) },
  { name: 'an LF smuggling a routing header', status: 401, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/1.1', 'host: gw', 'x-a: b\nx-gateway-cluster: tinylm@v1'])) },
  { name: 'an unknown HTTP version', status: 426, shape: 'plain', send: () => raw(rawReq(['GET /v2/models/sentiment HTTP/9.9', 'host: gw', 'authorization: Bearer demo-key'])) },
];

let before: Map<string, number>;
let extProcPid: number | undefined;

async function modelServerRequests(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [key, servers] of stack().demos) for (const s of servers) counts.set(`${key} ${s.url}`, (await demoStats(s.url)).requests);
  return counts;
}

describe(`hostile input corpus (${cases.length} cases)`, () => {
  beforeAll(async () => {
    before = await modelServerRequests();
    extProcPid = stack().extProcs[0]?.child.proc.pid;
  });

  it('has at least 50 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const reply = await c.send();
    expect(reply.status, reply.body.slice(0, 300)).toBe(c.status);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(reply.body) as { error: unknown };
    if (c.shape === 'openai') {
      expect(body.error).toMatchObject({ message: expect.any(String), type: expect.any(String) });
      expect(body.error).toHaveProperty('param');
      expect(body.error).toHaveProperty('code');
    } else {
      expect(typeof body.error).toBe('string');
      expect((body.error as string).length).toBeGreaterThan(0);
    }
  });

  it('left the ext-proc up (same process, healthy) and no model server saw any of it', async () => {
    const health = await fetch(`http://127.0.0.1:${stack().extProcs[0]?.httpPort}/healthz`);
    expect(health.status).toBe(200);
    expect(stack().extProcs[0]?.child.proc.exitCode).toBeNull();
    expect(stack().extProcs[0]?.child.proc.pid).toBe(extProcPid);
    const after = await modelServerRequests();
    if (JSON.stringify([...after]) !== JSON.stringify([...before])) {
      for (const [, servers] of stack().demos) for (const srv of servers) console.log(srv.url, JSON.stringify((await (await fetch(`${srv.url}/__demo/stats`)).json()).recent?.map((r: { method: string; path: string }) => `${r.method} ${r.path}`)));
    }
    expect(after).toEqual(before);
    // And it still serves: one good request goes through afterwards.
    const ok = await post('/v2/models/sentiment/versions/v1/infer', v2ok);
    expect(ok.status).toBe(200);
  });
});
