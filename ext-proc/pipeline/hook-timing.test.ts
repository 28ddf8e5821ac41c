// Sync hooks run without a promise (chain-runner.ts walks the chain synchronously until a hook
// returns one); these pin down that mixing sync and async hooks changes nothing a plugin or a
// client sees: order, ctx.log tagging, timeouts, stops, late joiners, end hooks.
import { describe, expect, it } from 'vitest';
import { definePlugin, z, type PluginHooks } from '../../plugins/sdk/index.js';
import { createTestGateway, exampleModels, type TestPlugin } from '../../plugins/sdk/testing.js';

function hooks(type: string, h: PluginHooks) {
  return definePlugin({ type, options: z.object({}).strict(), setup: () => h });
}

const later = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

const gateway = (plugins: TestPlugin[], modelPlugins: Record<string, TestPlugin[]> = {}) =>
  createTestGateway({
    plugins: ['model-router', ...plugins],
    models: Object.fromEntries(Object.entries(exampleModels).map(([name, m]) => [name, { ...m, plugins: modelPlugins[name] ?? [] }])),
  });

const v2 = { path: '/v2/models/sentiment/versions/v1/infer', json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['ok'] }] } };
const chat = { path: '/v1/chat/completions', json: { model: 'tinylm', messages: [{ role: 'user', content: 'hi' }] } };

/** A plugin recording every hook it runs; `async` ones wait a timer tick first. */
function recorder(type: string, order: string[], async: boolean): TestPlugin {
  const note = (what: string) => {
    if (!async) return void order.push(`${type}:${what}`);
    return later().then(() => void order.push(`${type}:${what}`));
  };
  return hooks(type, {
    requestHeaders: (ctx) => {
      ctx.log.info('headers seen');
      return note('requestHeaders');
    },
    requestBody: () => note('requestBody'),
    responseHeaders: () => note('responseHeaders'),
    responseBody: () => note('responseBody'),
    end: () => note('end'),
  });
}

describe('sync and async hooks in one chain', () => {
  it('run in chain order in every phase, end hooks included, and ctx.log names the plugin running', async () => {
    const order: string[] = [];
    const gw = await gateway([recorder('a', order, false), recorder('b', order, true), recorder('c', order, false), recorder('d', order, true)]);
    const res = await gw.request(v2, { upstream: { json: { outputs: [] } } });
    expect(res.status).toBe(200);
    const phases = ['requestHeaders', 'requestBody', 'responseHeaders', 'responseBody', 'end'];
    expect(order).toEqual(phases.flatMap((p) => ['a', 'b', 'c', 'd'].map((x) => `${x}:${p}`)));
    expect(res.logs.filter((l) => l.msg === 'headers seen').map((l) => [l.plugin, l.hook])).toEqual([
      ['a', 'requestHeaders'],
      ['b', 'requestHeaders'],
      ['c', 'requestHeaders'],
      ['d', 'requestHeaders'],
    ]);
  });

  it('an async hook still times out: 500 plugin_timeout, and no later hook of the phase runs', async () => {
    const order: string[] = [];
    const slow = hooks('slow', { requestHeaders: () => new Promise<void>(() => {}) });
    const gw = await gateway([recorder('a', order, false), { plugin: slow, timeoutMs: 20 }, recorder('c', order, false)]);
    const res = await gw.request(v2);
    expect(res.status).toBe(500);
    expect(res.json()).toMatchObject({ code: 'plugin_timeout' });
    expect(order).toEqual(['a:requestHeaders', 'a:end', 'c:end']);
  });

  it('an async hook that times out in a fail-open plugin is skipped; the sync hooks after it still run', async () => {
    const order: string[] = [];
    const slow = hooks('slow', { requestHeaders: () => new Promise<void>(() => {}) });
    const gw = await gateway([{ plugin: slow, timeoutMs: 20, failOpen: true }, recorder('c', order, false)]);
    const res = await gw.request(v2);
    expect(res.status).toBe(200);
    expect(order[0]).toBe('c:requestHeaders');
    expect(res.logs.find((l) => l.code === 'plugin_timeout')).toMatchObject({ plugin: 'slow', failOpen: true });
  });

  it('an async hook that answers stops the chain: the sync hook after it never runs', async () => {
    const order: string[] = [];
    const deny = hooks('deny', {
      requestHeaders: async (ctx) => {
        await later();
        return ctx.fail(403, 'no');
      },
    });
    const gw = await gateway([deny, recorder('c', order, false)]);
    const res = await gw.request(v2);
    expect(res.status).toBe(403);
    expect(res.outcome).toMatchObject({ answeredBy: 'deny' });
    expect(order).toEqual(['c:end']);
  });

  it('an async hook that throws is a 500 with an error id; in a fail-open plugin it is skipped', async () => {
    const boom = hooks('boom', {
      requestHeaders: async () => {
        await later();
        throw new Error('broke');
      },
    });
    const closed = await gateway([boom]);
    const res = await closed.request(v2);
    expect(res.status).toBe(500);
    expect(res.headers['x-gateway-error-id']).toMatch(/^[0-9a-f]{12}$/);
    const open = await gateway([{ plugin: boom, failOpen: true }]);
    expect((await open.request(v2)).status).toBe(200);
  });

  it('a late-joining model plugin whose requestHeaders is async runs it before its own requestBody hook', async () => {
    const order: string[] = [];
    const gw = await gateway([recorder('g', order, false)], { tinylm: [recorder('m', order, true)] });
    // An Envoy that does not read the body's model: the model is known only in the body phase.
    const res = await gw.request(chat, { envoyReadsBodyModel: false });
    expect(res.status).toBe(200);
    expect(order.slice(0, 4)).toEqual(['g:requestHeaders', 'g:requestBody', 'm:requestHeaders', 'm:requestBody']);
  });

  it('an async end hook over its budget is logged; the end hooks after it run once each', async () => {
    const order: string[] = [];
    const stuck = hooks('stuck', { end: () => new Promise<void>(() => {}) });
    const gw = await gateway([{ plugin: stuck, timeoutMs: 20 }, recorder('c', order, false), recorder('d', order, true)]);
    const res = await gw.request(v2);
    expect(res.status).toBe(200);
    expect(order.filter((o) => o.endsWith(':end'))).toEqual(['c:end', 'd:end']);
    expect(res.logs.find((l) => l.msg === 'end hook failed')).toMatchObject({ plugin: 'stuck', hook: 'end' });
  });
});
