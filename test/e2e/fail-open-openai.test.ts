// Fail-open for one of two OpenAI models, through the real Envoy. The model is named in the
// body, so with the ext-proc down Envoy reads it itself (json_to_metadata) to tell a fail-open
// model's requests from a fail-closed model's. `tinylm` is fail-open, `tinychat` (the same demo
// model under another name) is fail-closed; both sit behind an API key.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { hashKey } from '../../plugins/sdk/keys.js';
import { baseModel, demoStats, postJson, useStack } from '../harness/e2e.js';
import { envoyStat, eventually } from '../harness/faults.js';

const MESSAGE_TIMEOUT_MS = 500;
const KEY = 'fail-open-test-key';

const stack = useStack({
  envoy: { messageTimeoutMs: MESSAGE_TIMEOUT_MS },
  plugins: [
    { type: 'api-key-auth', options: { consumers: [{ id: 'tester', keys: [hashKey(KEY)] }] } },
    { type: 'model-router', name: 'router' },
  ],
  models: {
    tinylm: { ...baseModel('tinylm'), failOpen: true },
    tinychat: baseModel('tinylm'),
  },
});

const withKey = { authorization: `Bearer ${KEY}` };
const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'the white rabbit' }], max_tokens: 3, ...extra });
const send = (model: string, headers: Record<string, string> = withKey, extra: Record<string, unknown> = {}) =>
  postJson(`${stack().url}/v1/chat/completions`, chat(model, extra), headers);

/** Inference requests each demo server has answered so far. */
async function served(): Promise<{ tinylm: number; tinychat: number }> {
  const count = async (key: string) => (await demoStats(stack().demos.get(key)?.[0]?.url as string)).requests;
  return { tinylm: await count('tinylm@v1'), tinychat: await count('tinychat@v1') };
}

const isGatewayUnavailable = async (res: Response) => {
  expect(res.status).toBe(503);
  expect(await res.json()).toMatchObject({ error: { type: 'server_error', code: 'gateway_unavailable', param: null } });
};

describe('OpenAI fail-open with the ext-proc up: nothing changes', () => {
  it('the fail-open model still needs its API key: the ext-proc runs on its route', async () => {
    const before = await served();
    const missing = await send('tinylm', {});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 'missing_api_key' } });
    const wrong = await send('tinylm', { authorization: 'Bearer not-the-key' });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    expect(await served()).toEqual(before);
  });

  it('both models are served processed, name@version honoured, an unknown model is a 404', async () => {
    for (const model of ['tinylm', 'tinychat', 'tinylm@v1']) {
      const res = await send(model);
      expect(res.status, model).toBe(200);
      expect(res.headers.get('x-gateway-model'), model).toBe(model.replace(/@.*/, ''));
      expect((await res.json()) as { model: string }).toMatchObject({ model: model.replace(/@.*/, '') });
    }
    const unknown = await send('nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found' } });
  });
});

describe('OpenAI fail-open with the ext-proc down', () => {
  it('hung: after the message timeout the fail-open model is served, the fail-closed one gets the JSON 503', async () => {
    for (const e of stack().extProcs) e.child.proc.kill('SIGSTOP');
    try {
      const [open, closed] = await Promise.all([send('tinylm'), send('tinychat')]);
      expect(open.status).toBe(200);
      expect(open.headers.get('x-gateway-model')).toBeNull();
      await open.arrayBuffer();
      await isGatewayUnavailable(closed);
    } finally {
      for (const e of stack().extProcs) e.child.proc.kill('SIGCONT');
    }
  });

  it('stopped: only a request naming the fail-open model exactly reaches a model, unprocessed, counted and logged', async () => {
    await Promise.all(stack().extProcs.map((e) => e.child.stop('SIGKILL')));
    const allowedBefore = await envoyStat(stack().adminUrl, 'http.ingress.ext_proc.failure_mode_allowed');
    const before = await served();

    // No key needed now (no plugin runs): that is what fail-open means.
    const open = await send('tinylm', { 'x-request-id': 'openai-fail-open-probe' });
    expect(open.status).toBe(200);
    expect(open.headers.get('x-gateway-model')).toBeNull();
    expect(open.headers.get('x-demo-instance')).toMatch(/^tinylm@v1/);
    expect(await open.json()).toMatchObject({ object: 'chat.completion', model: 'tinylm' });

    // A streamed answer passes through as it comes.
    const stream = await send('tinylm', {}, { stream: true });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await stream.text()).toMatch(/data: \[DONE\]\s*$/);

    await isGatewayUnavailable(await send('tinychat'));
    // Neither an unknown model nor a pinned version (only the ext-proc strips `@v1` for the
    // model server), a body without a model, or a body that is not JSON reach any model.
    await isGatewayUnavailable(await send('nope'));
    await isGatewayUnavailable(await send('tinylm@v1'));
    await isGatewayUnavailable(await postJson(`${stack().url}/v1/chat/completions`, { messages: [] }));
    await isGatewayUnavailable(await postJson(`${stack().url}/v1/chat/completions`, 'model=tinylm'));
    // A forged routing header can't use the outage to reach the fail-open model's cluster.
    await isGatewayUnavailable(await send('tinychat', { 'x-gateway-cluster': 'tinylm@v1' }));

    expect(await served()).toEqual({ tinylm: before.tinylm + 2, tinychat: before.tinychat });
    expect(await envoyStat(stack().adminUrl, 'http.ingress.ext_proc.failure_mode_allowed')).toBe(allowedBefore + 2);
    const logLine = async () =>
      (await readFile(stack().envoy.logFile, 'utf8')).split('\n').find((l) => l.includes('"request_id":"openai-fail-open-probe"'));
    await eventually('Envoy logs the fail-open request', async () => (await logLine()) !== undefined);
    expect(JSON.parse((await logLine()) as string)).toMatchObject({
      event: 'ext_proc_fail_open',
      route: 'fail_open:tinylm@v1',
      cluster: 'tinylm@v1',
      path: '/v1/chat/completions',
      status: 200,
    });
  });

  it('a body request on another path never meets the body-reading filter', async () => {
    const read = () => envoyStat(stack().adminUrl, 'json_to_metadata.rq.success');
    const before = await read();
    const res = await postJson(`${stack().url}/v1/models/tinylm:predict`, { model: 'tinylm', instances: [] });
    expect(res.status).toBe(503);
    await res.arrayBuffer();
    expect(await read()).toBe(before);
    // The counter does move for an OpenAI body request.
    await (await send('tinylm')).arrayBuffer();
    expect(await read()).toBe(before + 1);
  });
});
