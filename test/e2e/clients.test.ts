// Official clients work unchanged through the gateway with every check in the chain: the
// `openai` npm package (chat, completions, embeddings, streaming, and its typed errors), and a
// KServe V2 client following the spec (server ready → model ready → metadata → infer), and a
// TF Serving REST client (status → metadata → predict), each told precisely when a request
// does not fit the signature the model server publishes.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { baseConfig, demoStats, extProcLog, useStack } from '../harness/e2e.js';

const base = baseConfig();
const stack = useStack({
  ...base,
  plugins: [
    { type: 'api-key-auth', options: { consumers: [{ id: 'demo', keys: [hashKey('demo-key')] }, { id: 'iris-only', keys: [hashKey('iris-key')] }] } },
    { type: 'openai-validation' },
    { type: 'tfserving-validation', options: { metadata: { fetch: true } } },
    { type: 'model-router', name: 'router' },
    { type: 'model-access', options: { consumers: { demo: ['*'], 'iris-only': ['iris'] } } },
  ],
  models: {
    ...base.models,
    sentiment: { ...base.models.sentiment!, plugins: [{ type: 'kserve-v2-validation', options: { metadata: { fetch: true } } }] },
  },
});

const client = (apiKey = 'demo-key') => new OpenAI({ baseURL: `${stack().url}/v1`, apiKey, maxRetries: 0 });
const user = (content: string) => [{ role: 'user' as const, content }];

describe('the official openai client, unchanged, pointed at the gateway', () => {
  it('chat completions', async () => {
    const r = await client().chat.completions.create({ model: 'tinylm', messages: user('Tell me about the rabbit'), max_tokens: 6, temperature: 0.7 });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(r.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('streaming chat completions, with usage, equal to the non-streamed text', async () => {
    const req = { model: 'tinylm', messages: user('the Queen said'), seed: 7, max_tokens: 10 };
    const whole = await client().chat.completions.create(req);
    const stream = await client().chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(chunks).toBeGreaterThan(3);
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it('legacy completions, streamed and not', async () => {
    const r = await client().completions.create({ model: 'tinylm', prompt: 'the white rabbit', max_tokens: 3, temperature: 0 });
    expect(r.object).toBe('text_completion');
    const stream = await client().completions.create({ model: 'tinylm', prompt: 'the white rabbit', max_tokens: 3, temperature: 0, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(r.choices[0]?.text);
  });

  it('embeddings (the client asks for base64 by default)', async () => {
    const r = await client().embeddings.create({ model: 'tinylm', input: ['the white rabbit ran', 'cakes and ale'] });
    expect(r.data).toHaveLength(2);
    expect(r.data[0]?.embedding.length).toBeGreaterThan(0);
  });

  it("surfaces the gateway's errors as the client's typed errors, naming the field", async () => {
    const tinylm = stack().demos.get('tinylm@v1')?.[0]?.url as string;
    const before = (await demoStats(tinylm)).requests;
    await expect(client().chat.completions.create({ model: 'tinylm', messages: user('hi'), temperature: 3 })).rejects.toMatchObject({
      constructor: OpenAI.BadRequestError,
      status: 400,
      param: 'temperature',
      code: 'invalid_value',
      type: 'invalid_request_error',
    });
    await expect(client().chat.completions.create({ model: 'tinylm', messages: [{ role: 'wizard' as 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 400,
      param: 'messages[0].role',
    });
    await expect(client('not-a-key').chat.completions.create({ model: 'tinylm', messages: user('hi') })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client('iris-key').embeddings.create({ model: 'tinylm', input: 'hi' })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    await expect(client().chat.completions.create({ model: 'gpt-nope', messages: user('hi') })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await demoStats(tinylm)).requests).toBe(before);
  });

  // openai-validation answers common chat bodies with a pre-check before zod (fast-path.ts);
  // on either side of each bound it checks itself, the answer is still the schema's.
  it('chat bodies at the bounds of the validator’s pre-check: accepted up to each bound, refused past it with the field named', async () => {
    const r = await client().chat.completions.create({
      model: 'tinylm',
      messages: [
        { role: 'system', content: '', name: 'n'.repeat(256) },
        { role: 'developer', content: 'be brief' },
        { role: 'assistant', content: 'Hello' },
        { role: 'user', content: 'hi' },
      ],
      temperature: 2,
      top_p: 1,
      presence_penalty: -2,
      frequency_penalty: 2,
      max_tokens: 1,
      seed: 0,
      user: 'u'.repeat(512),
      store: null,
    });
    expect(r.object).toBe('chat.completion');

    const tinylm = stack().demos.get('tinylm@v1')?.[0]?.url as string;
    const before = (await demoStats(tinylm)).requests;
    const refused: [Record<string, unknown>, string, string][] = [
      [{ model: 'x'.repeat(257) }, 'model', 'invalid_value'],
      [{ messages: [{ role: 'user', content: 'hi', name: '' }] }, 'messages[0].name', 'invalid_value'],
      [{ messages: [{ role: 'user', content: null }] }, 'messages[0].content', 'invalid_type'],
      [{ user: 'u'.repeat(513) }, 'user', 'invalid_value'],
      [{ n: 129 }, 'n', 'invalid_value'],
      [{ max_completion_tokens: 0 }, 'max_completion_tokens', 'invalid_value'],
      [{ seed: 1.5 }, 'seed', 'invalid_type'],
      [{ logprobs: 'yes' }, 'logprobs', 'invalid_type'],
      [{ stream_options: { include_usage: true } }, 'stream_options', 'invalid_value'],
      [{ stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage', 'invalid_type'],
    ];
    for (const [fields, param, code] of refused) {
      const body = { model: 'tinylm', messages: user('hi'), ...fields } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
      await expect(client().chat.completions.create(body), param).rejects.toMatchObject({ constructor: OpenAI.BadRequestError, status: 400, param, code });
    }
    expect((await demoStats(tinylm)).requests).toBe(before);
  });
});

/** A minimal KServe V2 (Open Inference Protocol) REST client, as the spec describes the flow. */
class V2Client {
  constructor(
    private readonly url: string,
    private readonly key: string,
  ) {}
  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as T };
  }
  serverReady = () => this.call<{ ready: boolean }>('GET', '/v2/health/ready');
  modelReady = (model: string) => this.call<{ ready: boolean }>('GET', `/v2/models/${model}/ready`);
  metadata = (model: string) =>
    this.call<{ name: string; inputs: { name: string; datatype: string; shape: number[] }[]; outputs: { name: string }[] }>('GET', `/v2/models/${model}`);
  infer = (model: string, body: unknown) =>
    this.call<{ model_name: string; outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[]; error?: string }>('POST', `/v2/models/${model}/infer`, body);
}

describe('a KServe V2 client following the spec', () => {
  it('server ready → model ready → metadata → infer built from the metadata', async () => {
    const v2 = new V2Client(stack().url, 'demo-key');
    expect(await v2.serverReady()).toEqual({ status: 200, json: { ready: true } });
    expect((await v2.modelReady('sentiment')).json.ready).toBe(true);
    const meta = await v2.metadata('sentiment');
    expect(meta.status).toBe(200);
    const input = meta.json.inputs[0] as { name: string; datatype: string };
    const texts = ['what a wonderful day', 'this is awful'];
    const res = await v2.infer('sentiment', {
      inputs: [{ name: input.name, datatype: input.datatype, shape: [texts.length], data: texts }],
      outputs: meta.json.outputs.map((o) => ({ name: o.name })),
    });
    expect(res.status).toBe(200);
    expect(res.json.model_name).toBe('sentiment');
    expect(res.json.outputs.find((o) => o.name === 'label')?.data).toEqual(['positive', 'negative']);
  });

  it("is told precisely when a request does not fit the model's published signature", async () => {
    const v2 = new V2Client(stack().url, 'demo-key');
    const before = (await demoStats(stack().demos.get('sentiment@v1')?.[0]?.url as string)).requests;
    const wrongName = await v2.infer('sentiment', { inputs: [{ name: 'txt', datatype: 'BYTES', shape: [1], data: ['x'] }] });
    expect(wrongName).toEqual({ status: 400, json: { error: "inputs[0].name: model 'sentiment' has no input 'txt' (inputs: text)", code: 'signature_mismatch', param: 'inputs[0].name' } });
    const wrongType = await v2.infer('sentiment', { inputs: [{ name: 'text', datatype: 'FP32', shape: [1], data: [1] }] });
    expect(wrongType.json.error).toBe("inputs[0].datatype: input 'text' is BYTES, not FP32");
    const wrongRank = await v2.infer('sentiment', { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['x'] }] });
    expect(wrongRank.json.error).toMatch(/has shape \[-1\]/);
    expect((await demoStats(stack().demos.get('sentiment@v1')?.[0]?.url as string)).requests).toBe(before);
  });

  it('TF Serving: model status and predict', async () => {
    const headers = { authorization: 'Bearer iris-key', 'content-type': 'application/json' };
    const status = await fetch(`${stack().url}/v1/models/iris`, { headers });
    expect(status.status).toBe(200);
    await status.arrayBuffer();
    const res = await fetch(`${stack().url}/v1/models/iris:predict`, { method: 'POST', headers, body: JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { predictions: number[][] }).predictions).toHaveLength(1);
  });
});

/** TF Serving's REST API as a client uses it; `ok` is false for a non-2xx answer. */
async function tf<T>(path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${stack().url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: 'Bearer iris-key', ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

interface TfMetadata {
  metadata: { signature_def: { signature_def: Record<string, { inputs: Record<string, { dtype: string; tensor_shape: { dim: { size: string }[] } }> }> } };
}

describe('a TF Serving REST client', () => {
  it('status → metadata → predict built from the metadata', async () => {
    expect((await tf<{ model_version_status: { state: string }[] }>('/v1/models/iris')).json.model_version_status[0]?.state).toBe('AVAILABLE');
    const meta = await tf<TfMetadata>('/v1/models/iris/metadata');
    expect(meta.status).toBe(200);
    const [name, input] = Object.entries(meta.json.metadata.signature_def.signature_def.serving_default?.inputs ?? {})[0] ?? [];
    expect(input?.tensor_shape.dim.map((d) => d.size)).toEqual(['-1', '4']);
    const res = await tf<{ predictions: number[][] }>('/v1/models/iris:predict', { instances: [{ [name as string]: [5.1, 3.5, 1.4, 0.2] }] });
    expect(res.status).toBe(200);
    expect(res.json.predictions[0]).toHaveLength(3);
  });

  it("is told by the gateway when a predict does not fit the published signature; the model server never sees it", async () => {
    const iris = stack().demos.get('iris@1')?.[0]?.url as string;
    const predicts = async () => ((await demoStats(iris)) as { byPath?: Record<string, number> }).byPath?.['/v1/models/iris:predict'] ?? 0;
    const before = await predicts();

    const wrongShape = await tf('/v1/models/iris:predict', { instances: [[5.1, 3.5, 1.4]] });
    expect(wrongShape).toEqual({
      status: 400,
      json: { error: "instances[0]: input 'features' has shape [-1, 4] (-1 = any), so each instance is [4]; got [3]", code: 'signature_mismatch', param: 'instances[0]' },
    });
    const wrongName = await tf('/v1/models/iris:predict', { inputs: { petals: [[5.1, 3.5, 1.4, 0.2]] } });
    expect(wrongName).toEqual({
      status: 400,
      json: { error: "inputs.petals: model 'iris' (signature 'serving_default') has no input 'petals' (inputs: features)", code: 'signature_mismatch', param: 'inputs.petals' },
    });
    const wrongSignature = await tf<{ error: string }>('/v1/models/iris:predict', { signature_name: 'classify', instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(wrongSignature.status).toBe(400);
    expect(wrongSignature.json.error).toBe("signature_name: model 'iris' has no signature 'classify' (signatures: predict, serving_default)");
    expect(await predicts()).toBe(before);

    const valid = await tf<{ outputs: { probabilities: number[][]; classes: string[] } }>('/v1/models/iris:predict', {
      signature_name: 'predict',
      inputs: { features: [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]] },
    });
    expect(valid.status).toBe(200);
    expect(valid.json.outputs.classes).toHaveLength(2);
    expect(await predicts()).toBe(before + 1);

    // Like every validation failure: an access-log line with the code, and the rejection metric.
    const rejectedLines = (text: string) => text.split('\n').filter((l) => l.includes('"errorCode":"signature_mismatch"') && l.includes('"model":"iris"'));
    const log = await extProcLog(stack(), (text) => rejectedLines(text).length >= 2);
    expect(rejectedLines(log)).toHaveLength(2);
    expect(JSON.parse(rejectedLines(log)[0] as string)).toMatchObject({ msg: 'request', status: 400, path: '/v1/models/iris:predict', consumer: 'iris-only' });
    const metrics = await (await fetch(`http://127.0.0.1:${stack().extProcs[0]?.httpPort}/metrics`)).text();
    const count = (code: string) =>
      Number(metrics.split('\n').find((l) => l.startsWith('gateway_rejections_total{') && l.includes(`code="${code}"`) && l.includes('model="iris"') && l.includes('reason="validation"'))?.split(' ').pop());
    expect(count('signature_mismatch')).toBe(2);
    expect(count('unknown_signature')).toBe(1);
  });
});
