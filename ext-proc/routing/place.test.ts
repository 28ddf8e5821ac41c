import { describe, expect, it } from 'vitest';
import { definePlugin, z, type PluginHooks } from '../../plugins/sdk/index.js';
import { createTestGateway, type TestGatewayOptions } from '../../plugins/sdk/testing.js';

/** A plugin whose hooks are given by the test. */
const hooks = (type: string, h: PluginHooks) => definePlugin({ type, options: z.object({}).strict(), setup: () => h });

/** Sets `vars.consumer` from `x-consumer`, and answers 401 without it, as an auth plugin does. */
const auth = hooks('test-auth', {
  requestHeaders(ctx) {
    const id = ctx.request.headers.get('x-consumer');
    if (!id) return ctx.fail(401, 'who are you?', { code: 'missing_api_key' });
    ctx.vars.consumer = { id };
  },
});

const models: TestGatewayOptions['models'] = {
  sentiment: {
    protocol: 'kserve-v2',
    versions: ['v1', 'v2'],
    traffic: { weights: { v1: 50, v2: 50 }, stickyKey: { consumer: true }, experiment: 'exp' },
  },
  tinylm: { protocol: 'openai', versions: ['v1', 'v2'], traffic: { weights: { v1: 0, v2: 1 } } },
};
const infer = (consumer?: string) => ({ path: '/v2/models/sentiment/infer', json: {}, ...(consumer && { headers: { 'x-consumer': consumer } }) });

describe("OpenAI: routing from the model Envoy read, only when the body reaching the step is the client's", () => {
  /** Maps a public model name to ours in the body, before the router: the router must route what it wrote. */
  const rename = hooks('test-rename', {
    requestBody(ctx) {
      const body = ctx.json() as { model?: string };
      if (body.model === 'gpt-4o') ctx.replaceJson({ ...body, model: 'tinylm' });
    },
  });
  const chat = (model: string) => ({ path: '/v1/chat/completions', json: { model, messages: [{ role: 'user', content: 'hi' }] } });

  it('a plugin before the router may rewrite the body: the router reads the body, not what Envoy read', async () => {
    const gw = await createTestGateway({ plugins: [rename, 'model-router'], models });
    const res = await gw.request(chat('gpt-4o'));
    expect(res.status).toBe(200);
    expect(res.upstream?.cluster).toBe('tinylm@v2');
    expect(res.messages.map((m) => m.phase)).toContain('requestBody');
  });

  it('the same plugin after the router: the router decides from what the client sent', async () => {
    const gw = await createTestGateway({ plugins: ['model-router', rename], models });
    expect((await gw.request(chat('tinylm'))).upstream?.cluster).toBe('tinylm@v2');
    const renamedTooLate = await gw.request(chat('gpt-4o'));
    expect(renamedTooLate.status).toBe(404);
    expect(renamedTooLate.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
  });
});

describe('where the core routes', () => {
  it('without a model-router entry: after the global chain, so the consumer a sticky key reads is known', async () => {
    const gw = await createTestGateway({ plugins: [auth], models });
    const seen = new Map<string, Set<string>>();
    for (let i = 0; i < 40; i++) {
      const who = `c${i % 10}`;
      const res = await gw.request(infer(who));
      expect(res.route.reason).toBe('sticky');
      seen.set(who, (seen.get(who) ?? new Set()).add(res.upstream?.cluster as string));
    }
    for (const clusters of seen.values()) expect(clusters.size).toBe(1);
    expect(new Set([...seen.values()].flatMap((s) => [...s])).size).toBe(2);
  });

  it('without a model-router entry: an unauthenticated request gets the 401 before any 404, and the core answers for routing', async () => {
    const gw = await createTestGateway({ plugins: [auth], models });
    expect((await gw.request({ path: '/v2/models/nope/infer', json: {} })).status).toBe(401);
    const unknown = await gw.request({ path: '/v2/models/nope/infer', json: {}, headers: { 'x-consumer': 'c1' } });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'model_not_found' });
    expect(unknown.outcome).toMatchObject({ answeredBy: 'gateway', errorCode: 'model_not_found' });
  });

  it('with a model-router entry: at its place, under its name; plugins after it see the version', async () => {
    const versions: (string | undefined)[] = [];
    const after = hooks('test-after', { requestHeaders: (ctx) => void versions.push(ctx.route.version) });
    const gw = await createTestGateway({ plugins: [{ plugin: 'model-router', name: 'router' }, after, auth], models });
    // The router runs before auth here: the consumer is unknown when the version is chosen (split, not sticky).
    const res = await gw.request(infer('c1'));
    expect(res.route.reason).toBe('split');
    expect(versions).toEqual([res.route.version]);
    const unknown = await gw.request({ path: '/v2/models/nope/infer', json: {} });
    expect(unknown.status).toBe(404);
    expect(unknown.outcome.answeredBy).toBe('router');
  });

  it("honours the model-router entry's options", async () => {
    const gw = await createTestGateway({
      plugins: [{ plugin: 'model-router', options: { versionHeader: 'X-Pick', openaiVersionSeparator: '#' } }],
      models,
    });
    expect((await gw.request({ ...infer(), headers: { 'x-pick': 'v2' } })).upstream?.cluster).toBe('sentiment@v2');
    expect((await gw.request({ ...infer(), headers: { 'x-model-version': 'v9' } })).status).toBe(200);
    const chat = await gw.request({ path: '/v1/chat/completions', json: { model: 'tinylm#v1', messages: [] } });
    expect(chat.upstream?.cluster).toBe('tinylm@v1');
    expect(chat.upstream?.json()).toMatchObject({ model: 'tinylm' });
    expect((await gw.request({ path: '/v1/chat/completions', json: { model: 'tinylm@v1', messages: [] } })).status).toBe(404);
  });
});

describe('hints and the one placement rule', () => {
  it('a model a plugin names before the step is kept, and its version placed by the traffic policy (not only the default)', async () => {
    const byHeader = hooks('test-by-header', { requestHeaders: (ctx) => ctx.setRoute({ model: 'tinylm' }) });
    const gw = await createTestGateway({ plugins: [byHeader], models });
    const res = await gw.request({ path: '/v1/chat/completions', json: { model: 'ignored', messages: [] } });
    expect(res.phases).toEqual(['requestHeaders', 'responseHeaders']);
    expect(res.upstream?.cluster).toBe('tinylm@v2');
    expect(res.route).toMatchObject({ model: 'tinylm', version: 'v2', reason: 'split' });
  });

  it('a model a plugin names after the step (which found none in the headers) is placed by the same rule when routing finishes', async () => {
    const late = hooks('test-late', { requestHeaders: (ctx) => ctx.setRoute({ model: 'tinylm' }) });
    const gw = await createTestGateway({ plugins: ['model-router', late], models });
    const res = await gw.request({ path: '/v1/chat/completions', json: { messages: [] } });
    expect(res.upstream?.cluster).toBe('tinylm@v2');
    expect(res.route).toMatchObject({ version: 'v2', reason: 'split' });
  });

  it('a plugin after the step may move the version; the same validation applies', async () => {
    const pin = hooks('test-pin', { requestHeaders: (ctx) => ctx.setRoute({ version: ctx.request.headers.get('x-pin') }) });
    const gw = await createTestGateway({ plugins: ['model-router', pin], models });
    expect((await gw.request({ ...infer(), headers: { 'x-pin': 'v1' } })).upstream?.cluster).toBe('sentiment@v1');
    const bad = await gw.request({ ...infer(), headers: { 'x-pin': 'v9' } });
    expect(bad.status).toBe(404);
    expect(bad.json()).toMatchObject({ code: 'version_not_found', error: "Model 'sentiment' has no version or alias 'v9'" });
  });

  it('answers the server-level paths with no plugin configured', async () => {
    const gw = await createTestGateway({ models });
    expect((await gw.request({ method: 'GET', path: '/v2/health/ready' })).json()).toEqual({ ready: true });
    expect((await gw.request({ method: 'GET', path: '/v1/models' })).json()).toMatchObject({ data: [{ id: 'tinylm' }] });
    expect((await gw.request({ method: 'GET', path: '/nowhere' })).json()).toMatchObject({ code: 'unknown_path' });
  });
});
