import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../sdk/keys.js';
import { createTestGateway, type TestGateway, type TestModel } from '../sdk/testing.js';
import type { ModelInfo } from '../sdk/types.js';
import { allowedVersions, parseRule } from './rules.js';

const model = (over: Partial<ModelInfo> = {}): ModelInfo => ({
  name: 'sentiment',
  protocol: 'kserve-v2',
  versions: ['v1', 'v2', 'v3'],
  aliases: { stable: 'v1', canary: 'v2' },
  defaultVersion: 'v1',
  traffic: {},
  ...over,
});

describe('allow-list rules', () => {
  it.each([
    [['sentiment'], ['v1', 'v2', 'v3']],
    [['sentiment@*'], ['v1', 'v2', 'v3']],
    [['*'], ['v1', 'v2', 'v3']],
    [['senti*@v?'], ['v1', 'v2', 'v3']],
    [['sentiment@v1'], ['v1']],
    [['sentiment@stable'], ['v1']],
    [['sentiment@canary', 'sentiment@v3'], ['v2', 'v3']],
    [['tinylm', 'sentiment@v9'], []],
    [['sent'], []],
  ])('%j allows %j', (entries, versions) => {
    expect([...allowedVersions(entries.map(parseRule), model())].sort()).toEqual(versions);
  });
});

const models: Record<string, TestModel> = {
  sentiment: { protocol: 'kserve-v2', versions: ['v1', 'v2'], aliases: { stable: 'v1', canary: 'v2' }, weights: { v1: 0, v2: 1 } },
  tinylm: { protocol: 'openai', versions: ['v1'] },
  iris: { protocol: 'tfserving', versions: ['1'] },
};
const v2 = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['hi'] }] };
const chat = { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }] };
const keys = { consumers: [{ id: 'full', keys: [hashKey('full')] }, { id: 'stable-only', keys: [hashKey('stable-only')] }, { id: 'nobody', keys: [hashKey('nobody')] }] };
const access = { consumers: { full: ['*'], 'stable-only': ['sentiment@stable', 'iris'] } };

describe('model-access after the router', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({
      plugins: [{ plugin: 'api-key-auth', options: keys }, 'model-router', { plugin: 'model-access', options: access }],
      models,
    });
  });
  afterAll(() => gw.close());
  const as = (key: string) => ({ 'x-api-key': key });

  it('lets a consumer use what its list allows', async () => {
    expect((await gw.request({ path: '/v2/models/sentiment/versions/v2/infer', headers: as('full'), json: v2 })).status).toBe(200);
    expect((await gw.request({ path: '/v1/chat/completions', headers: as('full'), json: chat })).status).toBe(200);
    expect((await gw.request({ path: '/v1/models/iris:predict', headers: as('stable-only'), json: { instances: [1] } })).status).toBe(200);
  });

  it('answers 403 for a version the consumer named but may not use', async () => {
    for (const path of ['/v2/models/sentiment/versions/v2/infer', '/v2/models/sentiment/versions/canary/infer']) {
      const res = await gw.request({ path, headers: as('stable-only'), json: v2 });
      expect(res.status).toBe(403);
      expect(res.json()).toEqual({ error: "Consumer 'stable-only' may not use version 'v2' of model 'sentiment'", code: 'model_access_denied' });
      expect(res.upstream).toBeUndefined();
    }
  });

  it('answers 403 in the OpenAI shape once the body names a model the consumer may not use', async () => {
    const res = await gw.request({ path: '/v1/chat/completions', headers: as('stable-only'), json: chat });
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ error: { message: "Consumer 'stable-only' may not use model 'tinylm'", type: 'permission_error', param: 'model', code: 'model_access_denied' } });
    expect(res.upstream).toBeUndefined();
  });

  it('steers a split that picked a forbidden version to an allowed one', async () => {
    // The split sends everything to v2; this consumer may only use stable (v1).
    for (let i = 0; i < 5; i++) {
      const res = await gw.request({ path: '/v2/models/sentiment/infer', headers: as('stable-only'), json: v2 });
      expect(res.status).toBe(200);
      expect(res.upstream?.cluster).toBe('sentiment@v1');
    }
    const full = await gw.request({ path: '/v2/models/sentiment/infer', headers: as('full'), json: v2 });
    expect(full.upstream?.cluster).toBe('sentiment@v2');
  });

  it('denies an authenticated consumer with no list everything (default: [])', async () => {
    const res = await gw.request({ path: '/v2/models/sentiment/versions/v1/infer', headers: as('nobody'), json: v2 });
    expect(res.status).toBe(403);
  });
});

describe('model-access and the versions a request rides along to', () => {
  // v3 is the canary everyone is split onto; v2 gets a mirrored copy; v1 answers when v3 cannot.
  const guarded: Record<string, TestModel> = {
    sentiment: { protocol: 'kserve-v2', versions: ['v1', 'v2', 'v3'], traffic: { weights: { v3: 1 }, shadow: { version: 'v2', percent: 100 }, fallback: 'v1' } },
  };
  const lists = { consumers: { full: ['sentiment'], 'v3-only': ['sentiment@v3'], 'v1-only': ['sentiment@v1'] } };
  const ids = { consumers: ['full', 'v3-only', 'v1-only'].map((id) => ({ id, keys: [hashKey(id)] })) };
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await createTestGateway({ plugins: [{ plugin: 'api-key-auth', options: ids }, 'model-router', { plugin: 'model-access', options: lists }], models: guarded });
  });
  afterAll(() => gw.close());
  const send = (key: string) => gw.request({ path: '/v2/models/sentiment/infer', headers: { 'x-api-key': key }, json: v2 });

  it('keeps the shadow and fallback for a consumer allowed them', async () => {
    const res = await send('full');
    expect(res.route).toMatchObject({ version: 'v3', shadow: 'v2', fallback: 'v1' });
  });

  it('drops a shadow and a fallback the consumer may not use: its request reaches only its own versions', async () => {
    const res = await send('v3-only');
    expect(res.status).toBe(200);
    expect(res.route.version).toBe('v3');
    expect(res.route.shadow).toBeUndefined();
    expect(res.route.fallback).toBeUndefined();
    expect(res.upstream?.cluster).toBe('sentiment@v3');
  });

  it('drops a fallback that the steering made the chosen version', async () => {
    const res = await send('v1-only');
    expect(res.route.version).toBe('v1');
    expect(res.route.fallback).toBeUndefined();
    expect(res.upstream?.cluster).toBe('sentiment@v1');
  });
});

describe('model-access placement', () => {
  it('answers 401 when no auth plugin named a consumer', async () => {
    const gw = await createTestGateway({ plugins: ['model-router', { plugin: 'model-access', options: access }], models });
    const res = await gw.request({ path: '/v2/models/sentiment/versions/v1/infer', json: v2 });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="inference-gateway"');
    await gw.close();
  });

  it.each([
    ['V2', { path: '/v2/models/sentiment/versions/v1/infer', json: v2 }],
    ['OpenAI', { path: '/v1/chat/completions', json: chat }],
  ])('fails closed (500, never upstream) when placed before the router (%s)', async (_label, request) => {
    const gw = await createTestGateway({
      plugins: [{ plugin: 'api-key-auth', options: keys }, { plugin: 'model-access', options: access }, 'model-router'],
      models,
    });
    const res = await gw.request({ ...request, headers: { 'x-api-key': 'full' } });
    expect(res.status).toBe(500);
    expect(res.upstream).toBeUndefined();
    await gw.close();
  });

  it('works in a model chain too', async () => {
    const gw = await createTestGateway({
      plugins: [{ plugin: 'api-key-auth', options: keys }, 'model-router'],
      models: { ...models, tinylm: { protocol: 'openai', versions: ['v1'], plugins: [{ plugin: 'model-access', options: access }] } },
    });
    expect((await gw.request({ path: '/v1/chat/completions', headers: { 'x-api-key': 'full' }, json: chat })).status).toBe(200);
    expect((await gw.request({ path: '/v1/chat/completions', headers: { 'x-api-key': 'stable-only' }, json: chat })).status).toBe(403);
    await gw.close();
  });
});
