import { describe, expect, it } from 'vitest';
import { builtinPlugins } from '../plugins/index.js';
import { definePlugin, z, type PluginHost } from '../plugins/sdk/index.js';
import { ConfigError, parseConfigText } from './config/load.js';
import { createLogger } from './logger.js';
import { createRegistry } from './registry.js';
import { buildRuntime } from './runtime.js';

const limiter = definePlugin({
  type: 'limiter',
  options: z.object({ perMinute: z.number().int().positive(), burst: z.number().int().default(1) }).strict(),
  setup: () => ({}),
});

async function build(yaml: string) {
  const registry = await createRegistry([...builtinPlugins, limiter]);
  return buildRuntime({ config: parseConfigText(yaml), hash: 'h', path: '/etc/gw/gateway.yaml' }, registry, createLogger('silent'));
}

const model = 'sentiment: { protocol: kserve-v2, versions: { v1: { endpoints: ["127.0.0.1:1"] } }';

describe('chains from config', () => {
  it('builds the global and per-model chains in config order, with per-instance timeout and fail-open', async () => {
    const rt = await build(`
plugins:
  - { type: model-router, name: router }
  - { type: limiter, name: per-ip, options: { perMinute: 60 }, timeoutMs: 50, failOpen: true }
models:
  ${model}, plugins: [{ type: limiter, options: { perMinute: 5, burst: 2 } }] }
`);
    expect(rt.globalChain.map((p) => [p.name, p.type, p.timeoutMs, p.failOpen])).toEqual([
      ['router', 'model-router', 200, false],
      ['per-ip', 'limiter', 50, true],
    ]);
    expect(rt.modelChains.get('sentiment')?.map((p) => p.name)).toEqual(['limiter']);
  });

  it('tells each instance where it runs and what the whole config chains hold', async () => {
    const hosts: PluginHost[] = [];
    const spy = definePlugin({ type: 'spy', options: z.object({}).loose(), setup: (_o, host) => (hosts.push(host), {}) });
    const registry = await createRegistry([...builtinPlugins, spy]);
    const config = parseConfigText(`
plugins: [{ type: model-router, name: router }, { type: spy, name: g, options: { a: 1 } }]
models:
  ${model}, plugins: [{ type: spy }] }
`);
    await buildRuntime({ config, hash: 'h', path: '/etc/gw/gateway.yaml' }, registry, createLogger('silent'));
    expect(hosts.map((h) => [h.name, h.modelChain])).toEqual([
      ['g', undefined],
      ['spy', 'sentiment'],
    ]);
    expect(hosts[0]?.chains).toEqual({
      global: [
        { type: 'model-router', name: 'router', options: undefined },
        { type: 'spy', name: 'g', options: { a: 1 } },
      ],
      models: { sentiment: [{ type: 'spy', name: 'spy', options: undefined }] },
    });
  });

  it('names the instance and the field of a bad option', async () => {
    const err = await build(`
plugins: [{ type: limiter, name: per-ip, options: { perMinute: -1, extra: 1 } }]
models: { ${model} } }
`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('plugins[0] (per-ip).options.perMinute:');
    expect((err as Error).message).toMatch(/plugins\[0\] \(per-ip\)\.options: .*extra/);
  });

  it('names the model chain, a missing required option, and an unknown type', async () => {
    const missing = await build(`models: { ${model}, plugins: [{ type: model-router }, { type: limiter }] } }`).catch((e: Error) => e.message);
    expect(missing).toContain('models.sentiment.plugins[1] (limiter).options.perMinute:');
    const unknown = await build(`plugins: [{ type: limitter }]\nmodels: { ${model} } }`).catch((e: Error) => e.message);
    expect(unknown).toContain('plugins[0] (limitter).type: unknown plugin type "limitter"');
    expect(unknown).toContain('limiter');
  });

  it('refuses two instances with the same name in one chain', async () => {
    const msg = await build(`plugins: [{ type: limiter, options: { perMinute: 1 } }, { type: limiter, options: { perMinute: 2 } }]\nmodels: { ${model} } }`).catch((e: Error) => e.message);
    expect(msg).toContain('plugins[1] (limiter): duplicate plugin instance name');
  });

  it('rejects instance fields it does not know, and timeouts out of range', () => {
    expect(() => parseConfigText(`plugins: [{ type: limiter, timeout: 5 }]\nmodels: {}`)).toThrow(/plugins\[0\]/);
    expect(() => parseConfigText(`plugins: [{ type: limiter, timeoutMs: 0 }]\nmodels: {}`)).toThrow(/plugins\[0\]\.timeoutMs/);
  });

  it('reports a failing setup with the instance, and closes what was already built', async () => {
    let closed = 0;
    const closing = definePlugin({ type: 'closing', options: z.object({}), setup: () => ({ close: () => void closed++ }) });
    const broken = definePlugin({ type: 'broken', options: z.object({}), setup: () => { throw new Error('no key file'); } });
    const registry = await createRegistry([closing, broken]);
    const msg = await buildRuntime({ config: parseConfigText(`plugins: [{ type: closing }, { type: broken, name: b1 }]\nmodels: {}`), hash: 'h', path: '/x/g.yaml' }, registry, createLogger('silent')).catch((e: Error) => e.message);
    expect(msg).toBe('plugins[1] (b1): setup failed: no key file');
    // The instance set up before the failure holds resources (timers, sockets): it is closed.
    expect(closed).toBe(1);
  });
});
