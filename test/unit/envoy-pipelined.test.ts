// Pipelined OpenAI bodies (envoy/pipelined.ts): where Envoy sends an OpenAI request's headers and
// whole body without waiting for the headers' answer, and where everything stays as before.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BUFFER_FILTER, PIPELINED_ROUTE, pipelinesOpenAiBodies } from '../../envoy/pipelined.js';
import { mergeResources, modelResources, renderEnvoyConfig, renderEnvoyYaml } from '../../envoy/render.js';
import { parseConfigText } from '../../ext-proc/config/load.js';
import type { GatewayConfig, GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { REPO_ROOT, resolveEnvoyBin } from '../../scripts/envoy-bin.js';

// Loose on purpose: the test walks deep into rendered Envoy YAML.
type Json = Record<string, any>;

const EXT_PROC = 'envoy.filters.http.ext_proc';
const parse = (input: GatewayConfigInput): GatewayConfig => parseConfigText(stringify(input), 'test config');
const example = (): GatewayConfig => parseConfigText(readFileSync(join(REPO_ROOT, 'examples/gateway.yaml'), 'utf8'), 'examples/gateway.yaml');

const tinylm = { protocol: 'openai' as const, versions: { v1: { endpoints: ['127.0.0.1:9201'] } } };
const iris = { protocol: 'tfserving' as const, versions: { '1': { endpoints: ['127.0.0.1:9301'] } } };
const auth = { type: 'api-key-auth', options: { consumers: [{ id: 'demo', keys: ['sha256:c48a01f49fd0f2cc404bc3cbbc80e91457a3d41bb429a695243de4c61794155c'] }] } };
/** Both bodies go to the ext-proc: openai-validation reads the request's before routing, openai-usage the response's. */
const pipelining = (extra: Partial<GatewayConfigInput> = {}): GatewayConfigInput => ({
  plugins: [auth, { type: 'openai-validation' }, { type: 'model-router' }, { type: 'openai-usage' }],
  models: { tinylm, iris },
  ...extra,
});

function rendered(config: GatewayConfig): { routes: Json[]; filters: Json[]; extProc: Json } {
  const out = renderEnvoyConfig(config) as Json;
  const hcm = out.static_resources.listeners[0].filter_chains[0].filters[0].typed_config as Json;
  const filters = hcm.http_filters as Json[];
  return { routes: hcm.route_config.virtual_hosts[0].routes, filters, extProc: filters.find((f) => f.name === EXT_PROC)?.typed_config };
}

/** Nothing of pipelining in the bootstrap: every request as before (headers first, bodies buffered). */
function expectNotPipelined(config: GatewayConfig): void {
  expect(pipelinesOpenAiBodies(config)).toBe(false);
  const r = rendered(config);
  expect(r.extProc.send_body_without_waiting_for_header_response).toBeUndefined();
  expect(r.filters.map((f) => f.name)).not.toContain(BUFFER_FILTER);
  expect(r.routes.map((x) => x.name)).not.toContain(PIPELINED_ROUTE);
}

describe('pipelined OpenAI bodies: where', () => {
  it('the example config pipelines (openai-validation reads request bodies before routing, openai-usage reads responses)', () => {
    expect(pipelinesOpenAiBodies(example())).toBe(true);
    expect(pipelinesOpenAiBodies(parse(pipelining()))).toBe(true);
  });

  it('not without an openai-usage plugin in the global chain (no response body to read)', () => {
    expectNotPipelined(parse(pipelining({ plugins: [{ type: 'openai-validation' }, { type: 'model-router' }] })));
    // A model's own chain does not count: the global chain decides the route's modes for every OpenAI request.
    expectNotPipelined(parse(pipelining({ plugins: [{ type: 'openai-validation' }], models: { tinylm: { ...tinylm, plugins: [{ type: 'openai-usage' }] } } })));
  });

  it('not where Envoy reads the body\'s model: the ext-proc routes from the headers, no request-body round trip to save', () => {
    expectNotPipelined(parse(pipelining({ plugins: [auth, { type: 'model-router' }, { type: 'openai-usage' }] })));
  });

  it('not for a fail-open OpenAI model (Envoy reads the model for its route)', () => {
    expectNotPipelined(parse(pipelining({ models: { tinylm: { ...tinylm, failOpen: true }, iris } })));
    expectNotPipelined(parse(pipelining({ envoy: { failureModeAllow: true } })));
  });

  it('not with envoy.pipelineBodies: false, nor without an OpenAI model', () => {
    expectNotPipelined(parse(pipelining({ envoy: { pipelineBodies: false } })));
    expectNotPipelined(parse(pipelining({ models: { iris } })));
  });
});

describe('pipelined OpenAI bodies: the rendered Envoy config', () => {
  it('sets the ext_proc flag that sends STREAMED bodies without waiting; the filter defaults stay BUFFERED / NONE for every other route', () => {
    const { extProc } = rendered(example());
    expect(extProc.send_body_without_waiting_for_header_response).toBe(true);
    expect(extProc.processing_mode).toMatchObject({ request_body_mode: 'BUFFERED', response_body_mode: 'NONE' });
  });

  it('routes OpenAI body paths (query strings too) to a twin of the catch-all, right before it, with STREAMED modes', () => {
    const { routes } = rendered(example());
    const names = routes.map((x) => x.name);
    expect(names.slice(-2)).toEqual([PIPELINED_ROUTE, 'no_model_selected']);
    const route = routes.at(-2) as Json;
    const catchAll = routes.at(-1) as Json;
    expect(route.direct_response).toEqual(catchAll.direct_response);
    // Envoy matches the path without its query string.
    const regex = new RegExp(route.match.safe_regex.regex as string);
    for (const p of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings']) expect(regex.test(p), p).toBe(true);
    for (const p of ['/v1/models', '/v1/models/iris:predict', '/v2/models/sentiment/infer', '/v1/chat/completions/x', '/x/v1/embeddings']) expect(regex.test(p), p).toBe(false);
    expect(route.match.prefix).toBeUndefined();
    expect(route.typed_per_filter_config[EXT_PROC]).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute',
      overrides: {
        processing_mode: {
          request_header_mode: 'SEND',
          response_header_mode: 'SEND',
          request_body_mode: 'STREAMED',
          response_body_mode: 'STREAMED',
          request_trailer_mode: 'SKIP',
          response_trailer_mode: 'SKIP',
        },
      },
    });
  });

  it('holds the request until its body is whole on that route only: the buffer filter, right before ext_proc, disabled unless the route turns it on', () => {
    const config = parse(pipelining({ envoy: { maxRequestBytes: 65_536 } }));
    const { routes, filters } = rendered(config);
    const names = filters.map((f) => f.name);
    expect(names.indexOf(BUFFER_FILTER)).toBe(names.indexOf(EXT_PROC) - 1);
    expect(filters[names.indexOf(BUFFER_FILTER)]).toEqual({
      name: BUFFER_FILTER,
      disabled: true,
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer', max_request_bytes: 65_536 },
    });
    const enabledOn = routes.filter((r) => r.typed_per_filter_config?.[BUFFER_FILTER] !== undefined).map((r) => r.name);
    expect(enabledOn).toEqual([PIPELINED_ROUTE]);
    expect(routes.find((r) => r.name === PIPELINED_ROUTE)?.typed_per_filter_config[BUFFER_FILTER]).toEqual({
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute',
      buffer: { max_request_bytes: 65_536 },
    });
  });

  it('comes after fail-open routes of other protocols (which keep the filter defaults)', () => {
    const { routes } = rendered(parse(pipelining({ models: { tinylm, iris: { ...iris, failOpen: true } } })));
    expect(routes.map((x) => x.name).slice(-4)).toEqual(['fail_open:iris@1', 'fail_open:iris@1', PIPELINED_ROUTE, 'no_model_selected']);
  });

  it('with file-based xDS: the route is in the model resources, the flag and the buffer filter in the bootstrap', () => {
    const config = example();
    const bootstrap = renderEnvoyConfig(config, { xdsDir: '/tmp/xds' }) as Json;
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config as Json;
    expect(hcm.route_config).toBeUndefined();
    expect((hcm.http_filters as Json[]).map((f) => f.name)).toContain(BUFFER_FILTER);
    expect((hcm.http_filters as Json[]).find((f) => f.name === EXT_PROC)?.typed_config.send_body_without_waiting_for_header_response).toBe(true);
    const routes = modelResources(config).routeConfig.virtual_hosts[0].routes as Json[];
    expect(routes.map((x) => x.name).slice(-2)).toEqual([PIPELINED_ROUTE, 'no_model_selected']);
  });

  it('merged with an older generation (a reload), keeps the pipelined route and the catch-all last', () => {
    const prev = modelResources(parse(pipelining({ models: { tinylm: { ...tinylm, versions: { v0: { endpoints: ['127.0.0.1:9200'] } } }, iris } })));
    const next = modelResources(parse(pipelining()));
    const merged = mergeResources(prev, next).routeConfig.virtual_hosts as Json[];
    const names = (merged[0]?.routes as Json[]).map((x) => x.name);
    expect(names).toContain('tinylm@v0');
    expect(names.slice(-2)).toEqual([PIPELINED_ROUTE, 'no_model_selected']);
    expect(names.filter((n) => n === PIPELINED_ROUTE)).toHaveLength(1);
    // Pipelining turned off by the reload: the older generation's route does not linger.
    const off = mergeResources(next, modelResources(parse(pipelining({ envoy: { pipelineBodies: false } })))).routeConfig.virtual_hosts as Json[];
    expect((off[0]?.routes as Json[]).map((x) => x.name)).not.toContain(PIPELINED_ROUTE);
  });

  it('is accepted by Envoy 1.40 (--mode validate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'render-pipelined-'));
    try {
      const file = join(dir, 'envoy.yaml');
      writeFileSync(file, renderEnvoyYaml(parse(pipelining({ models: { tinylm, iris: { ...iris, failOpen: true } } }))));
      expect(execFileSync(resolveEnvoyBin(), ['--mode', 'validate', '-c', file, '--log-level', 'error'], { encoding: 'utf8' })).toMatch(/OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
