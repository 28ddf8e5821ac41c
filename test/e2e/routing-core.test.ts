// Routing is the core's (issue 11.2): a config with NO plugin at all — no model-router — routes
// by weights, sticky keys, aliases, the version header, the default version and an OpenAI body's
// `model`, through a real Envoy, and tells the client what served it.
import { describe, expect, it } from 'vitest';
import { baseModel, postJson, useStack } from '../harness/e2e.js';
import { call, extProcMetrics, metric, runConcurrently, servedBy, v2Input, type Seen } from '../harness/traffic.js';

const stack = useStack({
  plugins: [],
  models: {
    sentiment: {
      ...baseModel('sentiment'),
      traffic: { weights: { v1: 70, v2: 30 }, stickyKey: { header: 'x-user-id' }, experiment: 'core-split' },
    },
    tinylm: {
      ...baseModel('tinylm'),
      versions: { v1: baseModel('tinylm').versions.v1!, v2: baseModel('tinylm').versions.v1! },
      aliases: { canary: 'v2' },
      traffic: { weights: { v1: 0, v2: 100 } },
    },
    iris: baseModel('iris'),
  },
});
const infer = (path = '') => `${stack().url}/v2/models/sentiment${path}/infer`;
const chat = (model: string) => ({ model, messages: [{ role: 'user', content: 'rabbit' }], max_tokens: 2 });

describe('routing with no plugin configured, through Envoy', () => {
  it('splits by weight, and every answer names the version that really served it', async () => {
    const results: Seen[] = await runConcurrently(300, 6, () => call(infer(), v2Input()));
    expect(results.filter((s) => s.status !== 200)).toEqual([]);
    for (const s of results) {
      expect(servedBy(s)).toBe(s.version);
      expect(s.reason).toBe('split');
      expect(s.experiment).toBe('core-split');
    }
    const share = results.filter((s) => s.version === 'v2').length / results.length;
    expect(share).toBeGreaterThan(0.15);
    expect(share).toBeLessThan(0.45);
  });

  it('keeps a sticky key on one version', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const seen = new Map<string, Set<string>>();
    for (const s of await runConcurrently(90, 6, (i) => call(infer(), v2Input(), { 'x-user-id': users[i % users.length] as string }).then((r) => [i, r] as const))) {
      const [i, r] = s;
      expect(r.status).toBe(200);
      expect(r.reason).toBe('sticky');
      expect(servedBy(r)).toBe(r.version);
      const user = users[i % users.length] as string;
      seen.set(user, (seen.get(user) ?? new Set()).add(r.version as string));
    }
    for (const versions of seen.values()) expect(versions.size).toBe(1);
    expect(new Set([...seen.values()].flatMap((v) => [...v]))).toEqual(new Set(['v1', 'v2']));
  });

  it('resolves an alias in the path (the model server sees the real version), and the version header', async () => {
    const alias = await call(infer('/versions/canary'), v2Input());
    expect(alias).toMatchObject({ status: 200, version: 'v2', reason: 'alias:canary' });
    expect(servedBy(alias)).toBe('v2');
    const header = await call(infer(), v2Input(), { 'x-model-version': 'v1' });
    expect(header).toMatchObject({ status: 200, version: 'v1', reason: 'header' });
    expect(servedBy(header)).toBe('v1');
  });

  it('falls back to the default version for a model without weights', async () => {
    const res = await call(`${stack().url}/v1/models/iris:predict`, { instances: [[5.1, 3.5, 1.4, 0.2]] });
    expect(res).toMatchObject({ status: 200, version: '1', reason: 'default' });
    expect(servedBy(res)).toBe('1');
  });

  it("routes OpenAI by the body's model: the policy, `model@version`, an alias, and the model server sees the plain name", async () => {
    const url = `${stack().url}/v1/chat/completions`;
    const split = await call(url, chat('tinylm'));
    expect(split).toMatchObject({ status: 200, version: 'v2', reason: 'split' });
    expect(servedBy(split)).toBe('v2');
    // The demo server answers 404 to any model name but `tinylm`: a 200 means the gateway rewrote it.
    const named = await call(url, chat('tinylm@v1'));
    expect(named).toMatchObject({ status: 200, version: 'v1', reason: 'model' });
    expect(servedBy(named)).toBe('v1');
    expect(await call(url, chat('tinylm@canary'))).toMatchObject({ status: 200, version: 'v2', reason: 'alias:canary' });
  });

  it("places OpenAI requests by the model Envoy read from the body: no request-body round trip unless one is needed", async () => {
    const url = `${stack().url}/v1/chat/completions`;
    const bodyPhases = async () => metric(await extProcMetrics(stack()), 'gateway_ext_proc_phase_duration_seconds_count', { phase: 'requestBody' });
    const headerPhases = async () => metric(await extProcMetrics(stack()), 'gateway_ext_proc_phase_duration_seconds_count', { phase: 'requestHeaders' });
    const [bodyBefore, headersBefore] = [await bodyPhases(), await headerPhases()];
    for (let i = 0; i < 5; i++) {
      const res = await call(url, chat('tinylm'));
      expect(res).toMatchObject({ status: 200, version: 'v2', reason: 'split' });
      expect(servedBy(res)).toBe('v2');
    }
    expect(await headerPhases()).toBe(headersBefore + 5);
    expect(await bodyPhases()).toBe(bodyBefore);
    // `model@version` is rewritten in the body: that one still takes the body phase.
    expect(await call(url, chat('tinylm@v1'))).toMatchObject({ status: 200, version: 'v1', reason: 'model' });
    expect(await bodyPhases()).toBe(bodyBefore + 1);
  });

  it('bad OpenAI bodies still get the body phase and a 4xx in OpenAI form when Envoy reads the model', async () => {
    const url = `${stack().url}/v1/chat/completions`;
    const numeric = await postJson(url, { ...chat('x'), model: 5 });
    expect(numeric.status).toBe(400);
    expect(await numeric.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'model' } });
    const notJson = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": "tinylm",' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const unknown = await postJson(url, chat('nope'));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
  });

  it('answers unknown models and versions with a 404 in the client protocol', async () => {
    const openai = await postJson(`${stack().url}/v1/chat/completions`, chat('tinylm@v9'));
    expect(openai.status).toBe(404);
    expect(await openai.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });
    const v2 = await postJson(`${stack().url}/v2/models/sentiment/versions/v9/infer`, v2Input());
    expect(v2.status).toBe(404);
    expect(await v2.json()).toMatchObject({ code: 'version_not_found' });
  });
});
