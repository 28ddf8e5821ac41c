import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, exampleModels, type TestGateway } from '../sdk/testing.js';

let gw: TestGateway;
beforeAll(async () => {
  gw = await createTestGateway({ plugins: [{ plugin: 'openai-validation', options: { maxBodyBytes: 64 * 1024 } }, 'model-router'], models: exampleModels });
});
afterAll(() => gw.close());

const user = [{ role: 'user', content: 'hi' }];
type OpenAiError = { error: { message: string; type: string; param: string | null; code: string | null } };

describe('openai-validation: valid requests pass untouched', () => {
  it.each([
    ['/v1/chat/completions', { model: 'tinylm', messages: user }],
    ['/v1/chat/completions', {
      model: 'tinylm',
      messages: [
        { role: 'developer', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'data:,' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '42' },
      ],
      temperature: 2, top_p: 0, n: 1, max_tokens: 1, stream: true, stream_options: { include_usage: true }, stop: ['a', 'b'],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }], tool_choice: 'auto',
      response_format: { type: 'json_object' }, seed: 7, logit_bias: { '50256': -100 }, reasoning_effort: 'low',
    }],
    ['/v1/completions', { model: 'tinylm', prompt: 'Once upon', max_tokens: 5, n: 2, best_of: 3, logprobs: 0, echo: true }],
    ['/v1/completions', { model: 'tinylm', prompt: [[1, 2, 3]] }],
    ['/v1/embeddings', { model: 'tinylm', input: ['a', 'b'], encoding_format: 'float', dimensions: 8 }],
    ['/v1/embeddings', { model: 'tinylm', input: [1, 2, 3] }],
  ])('%s %j', async (path, json) => {
    const res = await gw.request({ path, json });
    expect(res.status).toBe(200);
    expect(res.upstream?.json()).toEqual(json);
  });
});

describe('openai-validation: invalid bodies are 400s naming the field, in OpenAI shape', () => {
  it.each([
    ['/v1/chat/completions', { messages: user }, 'model', 'missing_required_parameter'],
    ['/v1/chat/completions', { model: 'tinylm' }, 'messages', 'missing_required_parameter'],
    ['/v1/chat/completions', { model: 'tinylm', messages: [] }, 'messages', 'invalid_value'],
    ['/v1/chat/completions', { model: 42, messages: user }, 'model', 'invalid_type'],
    ['/v1/chat/completions', { model: '', messages: user }, 'model', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: 'hi' }, 'messages', 'invalid_type'],
    ['/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'user' }] }, 'messages[0].content', 'missing_required_parameter'],
    ['/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', 'missing_required_parameter'],
    ['/v1/chat/completions', { model: 'tinylm', messages: [{ role: 'assistant' }] }, 'messages[0].content', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, temperature: 2.5 }, 'temperature', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, temperature: -0.1 }, 'temperature', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, temperature: '1' }, 'temperature', 'invalid_type'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, top_p: 1.5 }, 'top_p', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, n: 0 }, 'n', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, n: 1.5 }, 'n', 'invalid_type'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, max_tokens: 0 }, 'max_tokens', 'invalid_value'],
    ['/v1/chat/completions', '{"model":"tinylm","messages":[{"role":"user","content":"hi"}],"max_tokens":1e400}', 'max_tokens', 'invalid_type'],
    ['/v1/chat/completions', '{"model":"tinylm","messages":[{"role":"user","content":"hi"}],"temperature":-1e400}', 'temperature', 'invalid_type'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, stream: 'yes' }, 'stream', 'invalid_type'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, stream_options: { include_usage: true } }, 'stream_options', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, presence_penalty: 3 }, 'presence_penalty', 'invalid_value'],
    ['/v1/chat/completions', { model: 'tinylm', messages: user, tools: [{ type: 'function', function: { name: 'bad name!' } }] }, 'tools[0].function.name', 'invalid_value'],
    ['/v1/completions', { model: 'tinylm' }, 'prompt', 'missing_required_parameter'],
    ['/v1/completions', { model: 'tinylm', prompt: { text: 'x' } }, 'prompt', 'invalid_value'],
    ['/v1/completions', { model: 'tinylm', prompt: 'x', n: 3, best_of: 2 }, 'best_of', 'invalid_value'],
    ['/v1/completions', { model: 'tinylm', prompt: 'x', logprobs: 6 }, 'logprobs', 'invalid_value'],
    ['/v1/embeddings', { model: 'tinylm' }, 'input', 'missing_required_parameter'],
    ['/v1/embeddings', { model: 'tinylm', input: '' }, 'input', 'invalid_value'],
    ['/v1/embeddings', { model: 'tinylm', input: [] }, 'input', 'invalid_value'],
    ['/v1/embeddings', { model: 'tinylm', input: 'x', encoding_format: 'int8' }, 'encoding_format', 'invalid_value'],
    ['/v1/embeddings', { model: 'tinylm', input: 'x', dimensions: 0 }, 'dimensions', 'invalid_value'],
  ])('%s %j → %s', async (path, json, param, code) => {
    const res = await gw.request({ path, body: typeof json === 'string' ? json : JSON.stringify(json), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    const body = res.json<OpenAiError>();
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param, code });
    expect(body.error.message).toContain(param);
    expect(res.upstream).toBeUndefined();
  });

  it('refuses __proto__ and constructor keys anywhere in the body', async () => {
    for (const body of [
      `{"model":"tinylm","messages":[{"role":"user","content":"hi"}],"__proto__":{"admin":true}}`,
      `{"model":"tinylm","messages":[{"role":"user","content":"hi","constructor":{"prototype":{}}}]}`,
    ]) {
      const res = await gw.request({ path: '/v1/chat/completions', body, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.json<OpenAiError>().error.code).toBe('forbidden_key');
    }
  });
});

describe('openai-validation: HTTP-level checks', () => {
  it('answers 405 with Allow for a wrong method', async () => {
    const res = await gw.request({ method: 'GET', path: '/v1/chat/completions' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json<OpenAiError>().error.code).toBe('method_not_allowed');
    const list = await gw.request({ method: 'DELETE', path: '/v1/models' });
    expect(list.status).toBe(405);
    expect(list.headers.allow).toBe('GET');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x'])(
    'answers 415 for content-type %s',
    async (type) => {
      const res = await gw.request({ path: '/v1/chat/completions', body: '{}', headers: { 'content-type': type } });
      expect(res.status).toBe(415);
      expect(res.json<OpenAiError>().error.code).toBe('unsupported_media_type');
    },
  );

  it('accepts application/json with a UTF-8 charset', async () => {
    const res = await gw.request({ path: '/v1/chat/completions', body: JSON.stringify({ model: 'tinylm', messages: user }), headers: { 'content-type': 'application/json; charset=UTF-8' } });
    expect(res.status).toBe(200);
  });

  it('answers 413 for a declared length over the limit, before the body is read', async () => {
    const body = JSON.stringify({ model: 'tinylm', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    const res = await gw.request({ path: '/v1/chat/completions', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(413);
    expect(res.phases).toEqual(['requestHeaders']);
    expect(res.json<OpenAiError>().error.code).toBe('request_too_large');
  });

  it.each([
    ['a truncated body', '{"model":"tinylm","messages":[', /not valid JSON/],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), /UTF-8/],
    ['an array', '[]', /JSON object/],
    ['deep nesting', `{"model":"tinylm","messages":${'['.repeat(5000)}${']'.repeat(5000)}}`, /nests deeper/],
  ])('answers 400 for %s', async (_label, body, message) => {
    const res = await gw.request({ path: '/v1/chat/completions', body, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.json<OpenAiError>().error.message).toMatch(message);
  });

  it.each(['12a', '-5', '+5', '1.0', ' 12', '0x10', '1234567890123456', '１２'])('answers 400 for content-length %j', async (length) => {
    const res = await gw.request({ path: '/v1/chat/completions', body: '{}', headers: { 'content-type': 'application/json', 'content-length': length } });
    expect(res.status).toBe(400);
    expect(res.json<OpenAiError>().error).toMatchObject({ message: 'Invalid content-length', code: 'invalid_request' });
    expect(res.phases).toEqual(['requestHeaders']);
  });

  it('takes the method in any case, as before', async () => {
    const res = await gw.request({ method: 'post', path: '/v1/chat/completions', json: { model: 'tinylm', messages: user } });
    expect(res.status).toBe(200);
    const wrong = await gw.request({ method: 'get', path: '/v1/chat/completions' });
    expect(wrong.status).toBe(405);
    expect(wrong.json<OpenAiError>().error.message).toBe('Method GET is not allowed on /v1/chat/completions; use POST');
  });

  it('answers 400 when the request has no body at all', async () => {
    const res = await gw.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.json<OpenAiError>().error.message).toMatch(/body is required/);
  });

  it('leaves unknown paths to the router (404) and other protocols alone', async () => {
    expect((await gw.request({ method: 'GET', path: '/v1/nope' })).status).toBe(404);
    expect((await gw.request({ path: '/v1/models/iris:predict', json: { instances: [[1, 2, 3, 4]], inputs: [] } })).status).toBe(200);
  });
});
