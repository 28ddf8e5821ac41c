// Hook contexts are class instances (context.ts): what plugins rely on must still hold — the
// functions work detached, `body` follows replacements, every phase sees the same live state.
import { describe, expect, it } from 'vitest';
import { definePlugin, z, type PluginHooks } from '../../plugins/sdk/index.js';
import { createTestGateway, exampleModels } from '../../plugins/sdk/testing.js';

const hooks = (type: string, h: PluginHooks) => definePlugin({ type, options: z.object({}).strict(), setup: () => h });
const v2 = { path: '/v2/models/sentiment/versions/v1/infer', json: { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['ok'] }] } };

describe('hook contexts', () => {
  it('hand out functions that work detached from the context', async () => {
    const gw = await createTestGateway({
      plugins: [
        hooks('detached', {
          requestHeaders: ({ setRoute }) => setRoute({ model: 'sentiment', version: 'v2' }),
          requestBody: ({ json, replaceJson }) => replaceJson({ ...(json() as object), tagged: true }),
          responseHeaders: ({ fail, response }) => (response.status === 418 ? fail(502, 'teapot') : undefined),
        }),
      ],
      models: exampleModels,
    });
    const ok = await gw.request(v2);
    expect(ok.upstream?.cluster).toBe('sentiment@v2');
    expect(ok.upstream?.json()).toMatchObject({ tagged: true });
    const refused = await gw.request(v2, { upstream: { status: 418, json: {} } });
    expect(refused.status).toBe(502);
    expect(refused.json()).toMatchObject({ error: 'teapot' });
  });

  it('read live state: body after a replacement, route and vars set by an earlier plugin, log and signal', async () => {
    const seen: Record<string, unknown> = {};
    const gw = await createTestGateway({
      plugins: [
        'model-router',
        hooks('writer', {
          requestBody: (ctx) => {
            ctx.replaceBody('{"inputs":[]}');
            ctx.vars.consumer = { id: 'c1' };
          },
        }),
        hooks('reader', {
          requestBody: (ctx) => {
            seen.body = ctx.body.toString();
            seen.consumer = ctx.vars.consumer?.id;
            seen.model = ctx.route.model;
            seen.phase = ctx.phase;
            seen.aborted = ctx.signal.aborted;
            ctx.log.info('reader ran');
          },
          responseBody: (ctx) => {
            seen.response = ctx.json();
            seen.status = ctx.response.status;
          },
        }),
      ],
      models: exampleModels,
    });
    const res = await gw.request(v2, { upstream: { status: 201, json: { outputs: [1] } } });
    expect(seen).toEqual({ body: '{"inputs":[]}', consumer: 'c1', model: 'sentiment', phase: 'requestBody', aborted: false, response: { outputs: [1] }, status: 201 });
    expect(res.logs.find((l) => l.msg === 'reader ran')).toMatchObject({ plugin: 'reader', hook: 'requestBody' });
  });
});
