import { beforeAll, describe, expect, it } from 'vitest';
import { createTestGateway, type TestGateway, type TestGatewayOptions, type TestResult } from '../../plugins/sdk/testing.js';

const models: TestGatewayOptions['models'] = {
  sentiment: {
    protocol: 'kserve-v2',
    versions: ['v1', 'v2', 'v3'],
    aliases: { stable: 'v1', canary: 'v2' },
    // Everything that names no version goes to v3: an explicit v1/v2 can only come from the request.
    traffic: { weights: { v1: 0, v2: 0, v3: 1 }, shadow: { version: 'v2', percent: 100 }, fallback: 'v1', experiment: 'exp' },
  },
  tinylm: {
    protocol: 'openai',
    versions: ['v1', 'v2'],
    aliases: { canary: 'v2' },
    traffic: { weights: { v1: 50, v2: 50 }, stickyKey: { header: 'x-user-id' } },
  },
  iris: { protocol: 'tfserving', versions: ['1', '2'], aliases: { stable: '1' }, traffic: { weights: { '2': 1 } } },
};

const v2Body = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] };
const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'hi' }] });

let gw: TestGateway;

/** What the ext-proc told Envoy to do with the headers of the messages of one direction. */
function mutationsOf(res: TestResult, direction: 'request' | 'response') {
  const set: Record<string, string> = {};
  const removed: string[] = [];
  let clearRouteCache = false;
  for (const m of res.messages.filter((m) => m.phase.startsWith(direction))) {
    Object.assign(set, m.headerMutation?.set);
    removed.push(...(m.headerMutation?.remove ?? []));
    clearRouteCache ||= m.clearRouteCache ?? false;
  }
  return { set, removed, clearRouteCache };
}

/** Sends the request through the simulated Envoy: the routing decision, and the gateway's own answer if it gave one. */
async function send(method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await gw.request({ method, path, ...(opts.headers && { headers: opts.headers }), ...(opts.body !== undefined && { json: opts.body }) });
  const immediate = res.immediate && { status: res.immediate.status, body: res.immediate.json() };
  return { res, mutations: mutationsOf(res, 'request'), immediate };
}

/** The response headers the ext-proc set and removed when the model server answered 200 with `headers`. */
async function responseMutations(path: string, headers: Record<string, string>) {
  const res = await gw.request({ method: 'POST', path }, { upstream: { status: 200, headers, json: {} } });
  return mutationsOf(res, 'response');
}

// The routing step is the core's: the same behaviour whether the config lists the
// compatibility entry `model-router` or has no plugin at all.
describe.each([
  ['with a model-router entry', ['model-router']],
  ['with an empty chain (routing is core)', []],
])('%s', (_chain, plugins) => {
  beforeAll(async () => {
    gw = await createTestGateway({ plugins, models });
  });

  describe('version resolution: an explicit version wins over the split', () => {
    it('takes the version from the V2 path', async () => {
      const { mutations } = await send('POST', '/v2/models/sentiment/versions/v1/infer', { body: v2Body });
      expect(mutations.set['x-gateway-cluster']).toBe('sentiment@v1');
      expect(mutations.clearRouteCache).toBe(true);
    });

    it('takes an alias from the path and rewrites the path to the real version', async () => {
      const { mutations } = await send('POST', '/v2/models/sentiment/versions/canary/infer?x=1', { body: v2Body });
      expect(mutations.set['x-gateway-cluster']).toBe('sentiment@v2');
      expect(mutations.set[':path']).toBe('/v2/models/sentiment/versions/v2/infer?x=1');
    });

    it('takes the version or an alias from x-model-version', async () => {
      expect((await send('POST', '/v2/models/sentiment/infer', { headers: { 'x-model-version': 'v2' } })).mutations.set['x-gateway-cluster']).toBe('sentiment@v2');
      expect((await send('POST', '/v2/models/sentiment/infer', { headers: { 'x-model-version': 'stable' } })).mutations.set['x-gateway-cluster']).toBe('sentiment@v1');
    });

    it('prefers the path over the header', async () => {
      const { mutations } = await send('POST', '/v2/models/sentiment/versions/v2/infer', { headers: { 'x-model-version': 'v1' } });
      expect(mutations.set['x-gateway-cluster']).toBe('sentiment@v2');
    });

    it('takes TF Serving labels and versions from the path', async () => {
      expect((await send('POST', '/v1/models/iris/labels/stable:predict')).mutations.set).toMatchObject({
        'x-gateway-cluster': 'iris@1',
        ':path': '/v1/models/iris/versions/1:predict',
      });
      expect((await send('POST', '/v1/models/iris:predict')).mutations.set['x-gateway-cluster']).toBe('iris@2');
    });

    it('takes OpenAI `model@version` and hands the model server its plain name', async () => {
      const { res, mutations } = await send('POST', '/v1/chat/completions', { body: chat('tinylm@canary') });
      expect(mutations.set['x-gateway-cluster']).toBe('tinylm@v2');
      expect(res.messages.find((m) => m.phase === 'requestBody')?.bodyReplaced).toBe(true);
      expect(res.upstream?.json()).toMatchObject({ model: 'tinylm' });
    });

    it('does not mirror or fall back a request that named its version', async () => {
      const { mutations } = await send('POST', '/v2/models/sentiment/versions/v3/infer', { body: v2Body });
      expect(mutations.set['x-gateway-cluster']).toBe('sentiment@v3');
      expect(mutations.set['x-gateway-shadow']).toBeUndefined();
    });
  });

  describe('version resolution: unknown versions and aliases are 404 in the client protocol', () => {
    it.each([
      ['path', '/v2/models/sentiment/versions/v9/infer', {}],
      ['alias in the path', '/v2/models/sentiment/versions/beta/infer', {}],
      ['header', '/v2/models/sentiment/infer', { 'x-model-version': 'v9' }],
    ])('KServe V2, %s', async (_what, path, headers) => {
      const { immediate, mutations } = await send('POST', path, { headers });
      expect(immediate?.status).toBe(404);
      expect(immediate?.body).toMatchObject({ error: expect.stringMatching(/v9|beta/), code: 'version_not_found' });
      expect(mutations.set['x-gateway-cluster']).toBeUndefined();
    });

    it('TF Serving, unknown label', async () => {
      const { immediate } = await send('POST', '/v1/models/iris/labels/canary:predict');
      expect(immediate).toMatchObject({ status: 404, body: { error: expect.stringContaining('canary') } });
    });

    it('OpenAI, unknown version inside `model`: an unknown model to the client', async () => {
      const { immediate } = await send('POST', '/v1/chat/completions', { body: chat('tinylm@v9') });
      expect(immediate).toMatchObject({
        status: 404,
        body: { error: { code: 'model_not_found', param: 'model', type: 'not_found_error', message: expect.stringContaining('tinylm@v9') } },
      });
    });

    it('OpenAI, unknown version in the header', async () => {
      const { immediate } = await send('POST', '/v1/chat/completions', { body: chat('tinylm'), headers: { 'x-model-version': 'nope' } });
      expect(immediate).toMatchObject({ status: 404, body: { error: { code: 'version_not_found' } } });
    });
  });

  describe("OpenAI: the model Envoy read from the body places the request with its headers", () => {
    const phases = (res: TestResult) => res.messages.map((m) => m.phase);

    it('routes from the request headers and skips the request body round trip', async () => {
      const { res, mutations } = await send('POST', '/v1/chat/completions', { body: chat('tinylm'), headers: { 'x-user-id': 'u1' } });
      expect(mutations.set['x-gateway-cluster']).toMatch(/^tinylm@v[12]$/);
      expect(phases(res)).not.toContain('requestBody');
      expect(res.messages[0]?.clearRouteCache).toBe(true);
      expect(res.upstream?.json()).toMatchObject({ model: 'tinylm' });
    });

    it('leaves `model@version`, unknown models and non-string models to the body phase, with its answers', async () => {
      const versioned = await send('POST', '/v1/chat/completions', { body: chat('tinylm@canary') });
      expect(phases(versioned.res)).toContain('requestBody');
      expect(versioned.mutations.set['x-gateway-cluster']).toBe('tinylm@v2');
      const unknown = await send('POST', '/v1/chat/completions', { body: chat('nope') });
      expect(phases(unknown.res)).toEqual(['requestHeaders', 'requestBody']);
      expect(unknown.immediate).toMatchObject({ status: 404, body: { error: { code: 'model_not_found', param: 'model' } } });
      const numeric = await send('POST', '/v1/chat/completions', { body: { ...chat('x'), model: 5 } });
      expect(phases(numeric.res)).toEqual(['requestHeaders', 'requestBody']);
      expect(numeric.immediate?.status).toBe(400);
    });

    it('answers an unknown version header from the request headers, as the body phase did', async () => {
      const { res, immediate } = await send('POST', '/v1/chat/completions', { body: chat('tinylm'), headers: { 'x-model-version': 'nope' } });
      expect(phases(res)).toEqual(['requestHeaders']);
      expect(immediate).toMatchObject({ status: 404, body: { error: { code: 'version_not_found' } } });
    });
  });

  describe('the traffic policy', () => {
    it('sends split requests to the aggregate (version, fallback) cluster and names the shadow cluster', async () => {
      const { mutations } = await send('POST', '/v2/models/sentiment/infer', { body: v2Body });
      expect(mutations.set['x-gateway-cluster']).toBe('sentiment@v3~v1');
      expect(mutations.set['x-gateway-shadow']).toBe('sentiment@v2');
    });

    it('keeps one x-user-id on one version', async () => {
      const seen = new Map<string, Set<string>>();
      for (let i = 0; i < 60; i++) {
        const user = `u${i % 20}`;
        const { mutations } = await send('POST', '/v1/chat/completions', { body: chat('tinylm'), headers: { 'x-user-id': user } });
        seen.set(user, (seen.get(user) ?? new Set()).add(mutations.set['x-gateway-cluster'] as string));
      }
      for (const versions of seen.values()) expect(versions.size).toBe(1);
      // Twenty users at 50/50: both versions get some (hashing is deterministic, so this cannot flake).
      expect(new Set([...seen.values()].flatMap((s) => [...s])).size).toBe(2);
    });
    // Client-sent routing headers are stripped by Envoy before the ext-proc sees them (test/e2e/skeleton, hostile).
  });

  describe('response headers tell the client what served it', () => {
    it('names version, variant, experiment and reason', async () => {
      const res = await responseMutations('/v2/models/sentiment/infer', { 'x-gateway-upstream-version': 'v3' });
      expect(res.set).toMatchObject({
        'x-gateway-model': 'sentiment',
        'x-gateway-model-version': 'v3',
        'x-gateway-variant': 'v3',
        'x-gateway-experiment': 'exp',
        'x-gateway-route-reason': 'split',
      });
      expect(res.removed).toContain('x-gateway-upstream-version');
      expect(res.set['x-gateway-fallback-from']).toBeUndefined();
    });

    it('reports the fallback when it answered', async () => {
      const res = await responseMutations('/v2/models/sentiment/infer', { 'x-gateway-upstream-version': 'v1' });
      expect(res.set).toMatchObject({ 'x-gateway-model-version': 'v1', 'x-gateway-fallback-from': 'v3' });
    });

    it('ignores a served-version stamp that is not the fallback', async () => {
      const res = await responseMutations('/v2/models/sentiment/infer', { 'x-gateway-upstream-version': 'v2' });
      expect(res.set['x-gateway-model-version']).toBe('v3');
      expect(res.set['x-gateway-fallback-from']).toBeUndefined();
    });
  });
});
