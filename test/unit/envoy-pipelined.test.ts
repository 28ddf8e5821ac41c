// Pipelined OpenAI bodies (envoy/pipelined.ts): where Envoy sends an OpenAI request's headers and
// whole body without waiting for the headers' answer, and where everything stays as before.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BODY_LENGTH_FILTER, BUFFER_FILTER, PIPELINED_EXT_PROC_FILTER, PIPELINED_ROUTE, pipelinesOpenAiBodies } from '../../envoy/pipelined.js';
import { BODY_LENGTH_HEADER } from '../../plugins/sdk/wire.js';
import { mergeResources, modelResources, renderEnvoyConfig, renderEnvoyYaml } from '../../envoy/render.js';
import { parseConfigText } from '../../ext-proc/config/load.js';
import { restartOnlyChanges } from '../../ext-proc/config/restart-only.js';
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

const MODES = {
  request_header_mode: 'SEND',
  response_header_mode: 'SEND',
  request_body_mode: 'STREAMED',
  response_body_mode: 'STREAMED',
  request_trailer_mode: 'SKIP',
  response_trailer_mode: 'SKIP',
};

function rendered(config: GatewayConfig, opts: { xdsDir?: string } = {}): { routes: Json[]; filters: Json[]; extProc: Json; pipelined: Json | undefined } {
  const out = renderEnvoyConfig(config, opts) as Json;
  const hcm = out.static_resources.listeners[0].filter_chains[0].filters[0].typed_config as Json;
  const filters = hcm.http_filters as Json[];
  return {
    routes: hcm.route_config?.virtual_hosts[0].routes ?? [],
    filters,
    extProc: filters.find((f) => f.name === EXT_PROC)?.typed_config,
    pipelined: filters.find((f) => f.name === PIPELINED_EXT_PROC_FILTER),
  };
}

/** Nothing of pipelining in the bootstrap: every request as before (headers first, bodies buffered). */
function expectNotPipelined(config: GatewayConfig): void {
  expect(pipelinesOpenAiBodies(config)).toBe(false);
  const r = rendered(config);
  expect(r.extProc.send_body_without_waiting_for_header_response).toBeUndefined();
  expect(r.filters.map((f) => f.name)).not.toContain(BUFFER_FILTER);
  expect(r.pipelined).toBeUndefined();
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
  it('adds a second ext_proc filter right after the first, off by default, that sends STREAMED bodies without waiting; the first keeps its modes and mode_override', () => {
    const { filters, extProc, pipelined } = rendered(example());
    const names = filters.map((f) => f.name);
    expect(names.indexOf(PIPELINED_EXT_PROC_FILTER)).toBe(names.indexOf(EXT_PROC) + 1);
    expect(names.at(-1)).toBe('envoy.filters.http.router');
    // Envoy ignores mode_override on every stream of a filter with the flag: never on the first one.
    expect(extProc.send_body_without_waiting_for_header_response).toBeUndefined();
    expect(extProc.allow_mode_override).toBe(true);
    expect(extProc.processing_mode).toMatchObject({ request_body_mode: 'BUFFERED', response_body_mode: 'NONE' });
    expect(pipelined?.disabled).toBe(true);
    const config = pipelined?.typed_config as Json;
    expect(config.send_body_without_waiting_for_header_response).toBe(true);
    expect(config.processing_mode).toEqual(MODES);
    // Same processor, same timeouts, same failure answer as the first filter.
    for (const key of ['grpc_service', 'failure_mode_allow', 'status_on_error', 'message_timeout', 'mutation_rules']) expect(config[key], key).toEqual(extProc[key]);
    expect(config.metadata_options).toBeUndefined();
    // Its stats count apart: http.ingress.ext_proc.pipelined.*
    expect(config.stat_prefix).toBe('pipelined');
    expect(extProc.stat_prefix).toBeUndefined();
  });

  it('routes OpenAI body paths (query strings too) to a twin of the catch-all, right before it, on the second filter instead of the first', () => {
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
    const perRoute = 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute';
    expect(route.typed_per_filter_config[EXT_PROC]).toEqual({ '@type': perRoute, disabled: true });
    expect(route.typed_per_filter_config[PIPELINED_EXT_PROC_FILTER]).toEqual({ '@type': perRoute, overrides: { processing_mode: MODES } });
    // No other route turns the second filter on.
    expect(routes.filter((r) => r.typed_per_filter_config?.[PIPELINED_EXT_PROC_FILTER] !== undefined).map((r) => r.name)).toEqual([PIPELINED_ROUTE]);
  });

  it('holds the request until its body is whole on that route only: the buffer filter, right before the ext_proc filters, disabled unless the route turns it on', () => {
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

  it('gives a pipelined response its content-length back between the ext_proc filters and the compressors, from a header model servers cannot send', () => {
    const out = renderEnvoyConfig(parse(pipelining()), {}) as Json;
    const hcm = out.static_resources.listeners[0].filter_chains[0].filters[0].typed_config as Json;
    const names = (hcm.http_filters as Json[]).map((f) => f.name);
    const at = names.indexOf(BODY_LENGTH_FILTER);
    // Filters run in reverse on the way back: after the ext-proc answered, before a compressor decides.
    expect(at).toBeGreaterThan(names.lastIndexOf('envoy.filters.http.compressor.gzip'));
    expect(at).toBeLessThan(names.indexOf(EXT_PROC));
    expect(JSON.stringify((hcm.http_filters as Json[])[at])).toContain(`%RESP(${BODY_LENGTH_HEADER})%`);
    expect(hcm.route_config.virtual_hosts[0].response_headers_to_remove).toEqual([BODY_LENGTH_HEADER]);
    // Not pipelined: no filter, but model servers still cannot send the header (routes may come by xDS later).
    const plain = renderEnvoyConfig(parse(pipelining({ envoy: { pipelineBodies: false } })), {}) as Json;
    const plainHcm = plain.static_resources.listeners[0].filter_chains[0].filters[0].typed_config as Json;
    expect((plainHcm.http_filters as Json[]).map((f) => f.name)).not.toContain(BODY_LENGTH_FILTER);
    expect(plainHcm.route_config.virtual_hosts[0].response_headers_to_remove).toEqual([BODY_LENGTH_HEADER]);
  });

  it('comes after fail-open routes of other protocols (which keep the filter defaults)', () => {
    const { routes } = rendered(parse(pipelining({ models: { tinylm, iris: { ...iris, failOpen: true } } })));
    expect(routes.map((x) => x.name).slice(-4)).toEqual(['fail_open:iris@1', 'fail_open:iris@1', PIPELINED_ROUTE, 'no_model_selected']);
  });

  it('with file-based xDS: the route is in the model resources, the filters in the bootstrap', () => {
    const config = example();
    const bootstrap = rendered(config, { xdsDir: '/tmp/xds' });
    expect(bootstrap.routes).toEqual([]);
    expect(bootstrap.filters.map((f) => f.name)).toContain(BUFFER_FILTER);
    expect(bootstrap.pipelined?.typed_config.send_body_without_waiting_for_header_response).toBe(true);
    const routes = modelResources(config).routeConfig.virtual_hosts as Json[];
    expect((routes[0]?.routes as Json[]).map((x) => x.name).slice(-2)).toEqual([PIPELINED_ROUTE, 'no_model_selected']);
  });

  it('with file-based xDS, a reload that turns pipelining on or off asks for an Envoy restart (the filters are in the bootstrap)', () => {
    const on = parse(pipelining());
    const off = parse(pipelining({ plugins: [{ type: 'openai-validation' }] }));
    expect(restartOnlyChanges(off, on, { envoyDynamic: true }).envoy).toBe(true);
    expect(restartOnlyChanges(on, off, { envoyDynamic: true }).envoy).toBe(true);
    expect(restartOnlyChanges(on, parse(pipelining({ plugins: [{ type: 'openai-validation' }, { type: 'openai-usage', name: 'tokens' }] })), { envoyDynamic: true }).envoy).toBe(false);
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
