import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from '../../ext-proc/config/load.js';
import { restartOnlyChanges } from '../../ext-proc/config/restart-only.js';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { resolveEnvoyBin } from '../../scripts/envoy-bin.js';

/** Response compressors (before ext_proc: they compress what the plugins read) and request decompressors. */
const COMPRESSION_FILTERS = [
  'envoy.filters.http.compressor.br',
  'envoy.filters.http.compressor.gzip',
  'envoy.filters.http.decompressor.gzip',
  'envoy.filters.http.decompressor.br',
  'envoy.filters.http.decompressor.zstd',
];
import { renderEnvoyConfig, renderEnvoyYaml } from '../../envoy/render.js';

// Loose on purpose: the test walks deep into rendered Envoy YAML.
type Json = Record<string, any>;

const parse = (input: GatewayConfigInput) => parseConfigText(stringify(input), 'test config');

function base(extra: Partial<GatewayConfigInput> = {}, version: Record<string, unknown> = {}): GatewayConfigInput {
  return {
    models: {
      sentiment: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:9101', '127.0.0.1:9102'], ...version } } },
      iris: { protocol: 'tfserving', versions: { '1': { endpoints: ['127.0.0.1:9301'] } } },
      tinylm: { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:9201'] } } },
    },
    ...extra,
  };
}

function rendered(input: GatewayConfigInput): { cluster: (name: string) => Json; route: (name: string) => Json; routes: Json[]; hcm: Json; extProc: Json } {
  const out = renderEnvoyConfig(parse(input)) as Json;
  const resources = out.static_resources as Json;
  const hcm = resources.listeners[0].filter_chains[0].filters[0].typed_config as Json;
  const routes = hcm.route_config.virtual_hosts[0].routes as Json[];
  return {
    cluster: (name) => (resources.clusters as Json[]).find((c) => c.name === name) as Json,
    route: (name) => routes.find((r) => r.name === name) as Json,
    routes,
    hcm,
    extProc: (hcm.http_filters as Json[]).find((f) => f.name === 'envoy.filters.http.ext_proc')?.typed_config as Json,
  };
}

describe('load-balancing policy per version', () => {
  it('defaults to least-request, without a hash policy', () => {
    const r = rendered(base());
    expect(r.cluster('sentiment@v1').lb_policy).toBe('LEAST_REQUEST');
    expect(r.route('sentiment@v1').route.hash_policy).toBeUndefined();
  });

  it.each([
    ['round-robin', 'ROUND_ROBIN', undefined],
    ['ring-hash', 'RING_HASH', 'x-session-id'],
    ['maglev', 'MAGLEV', 'x-user'],
  ] as const)('renders %s as %s, hashing on the version route', (policy, envoy, hashHeader) => {
    const r = rendered(base({}, { loadBalancing: { policy, hashHeader } }));
    expect(r.cluster('sentiment@v1').lb_policy).toBe(envoy);
    expect(r.route('sentiment@v1').route.hash_policy).toEqual(hashHeader ? [{ header: { header_name: hashHeader } }] : undefined);
  });

  it('refuses a hashing policy without a header, and a header without a hashing policy', () => {
    expect(() => parse(base({}, { loadBalancing: { policy: 'ring-hash' } }))).toThrow(/versions\.v1\.loadBalancing\.hashHeader: policy "ring-hash" needs hashHeader/);
    expect(() => parse(base({}, { loadBalancing: { hashHeader: 'x-a' } }))).toThrow(/hashHeader only applies to ring-hash and maglev/);
  });
});

describe('retries, timeouts, outlier detection and circuit breakers', () => {
  it('retries only failures that cannot have reached a model, on other instances, within a budget', () => {
    const r = rendered(base({}, { retries: { attempts: 3, perTryTimeoutMs: 1500, budgetPercent: 10, minRetryConcurrency: 2 } }));
    const policy = r.route('sentiment@v1').route.retry_policy;
    expect(policy).toMatchObject({
      retry_on: 'connect-failure,reset,refused-stream,retriable-status-codes',
      num_retries: 3,
      retriable_status_codes: [503],
      per_try_timeout: '1.5s',
      retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
    });
    expect(policy.per_try_idle_timeout).toBeUndefined();
    expect(r.cluster('sentiment@v1').circuit_breakers.thresholds[0].retry_budget).toEqual({ budget_percent: { value: 10 }, min_retry_concurrency: 2 });
  });

  it('renders no retry policy when attempts is 0', () => {
    expect(rendered(base({}, { retries: { attempts: 0 } })).route('sentiment@v1').route.retry_policy).toBeUndefined();
  });

  it('keeps a streaming version free of whole-request timeouts: timeout 0, idle timeouts instead', () => {
    const route = rendered(base({}, { timeoutMs: 0, idleTimeoutMs: 60_000, retries: { perTryIdleTimeoutMs: 10_000 } })).route('sentiment@v1').route;
    expect(route.timeout).toBe('0s');
    expect(route.idle_timeout).toBe('60s');
    expect(route.retry_policy.per_try_idle_timeout).toBe('10s');
    expect(route.retry_policy.per_try_timeout).toBeUndefined();
  });

  it('enforces gateway-failure ejection (Envoy defaults it to 0 %) and never lets a health check end an ejection', () => {
    const od = rendered(base({}, { outlierDetection: { consecutive5xx: 4, consecutiveGatewayFailure: 2 } })).cluster('sentiment@v1').outlier_detection;
    expect(od).toMatchObject({
      consecutive_5xx: 4,
      enforcing_consecutive_5xx: 100,
      consecutive_gateway_failure: 2,
      enforcing_consecutive_gateway_failure: 100,
      successful_active_health_check_uneject_host: false,
    });
  });

  it('renders the per-version limits as circuit breakers', () => {
    const t = rendered(base({}, { limits: { maxRequests: 8, maxPendingRequests: 2, maxConnections: 8 } })).cluster('sentiment@v1').circuit_breakers.thresholds[0];
    expect(t).toMatchObject({ max_requests: 8, max_pending_requests: 2, max_connections: 8 });
  });
});

describe('local replies', () => {
  it("passes the ext-proc's own replies through first, and shapes every other mapper with the request id", () => {
    const mappers = rendered(base()).hcm.local_reply_config.mappers as Json[];
    expect(mappers[0]).toEqual({ filter: expect.objectContaining({ extension_filter: expect.anything() }) });
    expect(mappers[0]?.filter.extension_filter.typed_config.expression).toBe("response.code_details.startsWith('gateway_reply_')");
    for (const m of mappers.slice(1)) {
      expect(m.headers_to_add).toContainEqual({ header: { key: 'x-request-id', value: '%REQ(X-REQUEST-ID)%' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
      expect(m.body_format_override.content_type).toBe('application/json');
    }
  });
});

describe('fail-open', () => {
  it('is fail-closed by default: no static routes, the filter fails with 503', () => {
    const r = rendered(base());
    expect(r.routes.map((x) => x.name)).toEqual(['unsupported_content_encoding', 'sentiment@v1', 'iris@1', 'tinylm@v1', 'no_model_selected']);
    expect(r.extProc.failure_mode_allow).toBe(false);
    expect(r.extProc.status_on_error).toEqual({ code: 503 });
  });

  it('adds path routes for a fail-open model only, before the catch-all, allowing failure on them alone', () => {
    const input = base();
    (input.models.iris as Json).failOpen = true;
    const r = rendered(input);
    expect(r.routes.map((x) => x.name)).toEqual(['unsupported_content_encoding', 'sentiment@v1', 'iris@1', 'tinylm@v1', 'fail_open:iris@1', 'fail_open:iris@1', 'no_model_selected']);
    const [versioned, model] = r.routes.filter((x) => x.name === 'fail_open:iris@1') as [Json, Json];
    const regex = new RegExp(model.match.safe_regex.regex as string);
    expect(['/v1/models/iris:predict', '/v1/models/iris', '/v1/models/iris/labels/stable:predict'].every((p) => regex.test(p))).toBe(true);
    expect(['/v1/models/iris2:predict', '/v1/models/irisx'].some((p) => regex.test(p))).toBe(false);
    expect(new RegExp(versioned.match.safe_regex.regex as string).test('/v1/models/iris/versions/1:predict')).toBe(true);
    expect(model.typed_per_filter_config['envoy.filters.http.ext_proc'].overrides).toEqual({ failure_mode_allow: true });
    expect(model.route.cluster).toBe('iris@1');
  });

  it('the global failureModeAllow makes every model fail-open, each OpenAI model matched by its own name in the body', () => {
    const input = base({ envoy: { failureModeAllow: true } });
    input.models.other = { protocol: 'openai', versions: { a: { endpoints: ['127.0.0.1:1'] }, b: { endpoints: ['127.0.0.1:2'] } }, defaultVersion: 'b' };
    const r = rendered(input);
    expect(r.routes.filter((x) => String(x.name).startsWith('fail_open:'))).toHaveLength(6);
    expect(r.route('fail_open:tinylm@v1').match.dynamic_metadata[0].value).toEqual({ string_match: { exact: 'tinylm' } });
    // The default version serves a body that names the model.
    expect(r.route('fail_open:other@b').match.dynamic_metadata[0].value).toEqual({ string_match: { exact: 'other' } });
    expect(r.route('fail_open:other@b').route.cluster).toBe('other@b');
    expect(r.route('fail_open:other@a')).toBeUndefined();
  });
});

describe('fail-open for OpenAI models (Envoy reads the body\'s model)', () => {
  const twoOpenAi = (): GatewayConfigInput => {
    const input = base();
    (input.models.tinylm as Json).failOpen = true;
    input.models.tinychat = { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:9202'] } } };
    return input;
  };
  const filterNames = (r: ReturnType<typeof rendered>) => (r.hcm.http_filters as Json[]).map((f) => f.name);
  const JSON_TO_METADATA = 'envoy.filters.http.json_to_metadata';

  it('renders the json_to_metadata filter, and forwards its model to the ext-proc, only with an OpenAI model (here with nothing before routing that reads bodies)', () => {
    const withoutOpenAi = (failOpen: boolean) => {
      const input = base();
      delete input.models.tinylm;
      if (failOpen) (input.models.sentiment as Json).failOpen = true;
      return input;
    };
    for (const input of [withoutOpenAi(false), withoutOpenAi(true)]) {
      const r = rendered(input);
      expect(filterNames(r)).toEqual(['envoy.filters.http.header_mutation', ...COMPRESSION_FILTERS, 'envoy.filters.http.ext_proc', 'envoy.filters.http.router']);
      expect(r.extProc.metadata_options).toBeUndefined();
    }
    // An OpenAI model, fail-closed: Envoy reads the model for the ext-proc (no request-body round trip).
    const r = rendered(base());
    expect(filterNames(r)).toEqual(['envoy.filters.http.header_mutation', ...COMPRESSION_FILTERS, JSON_TO_METADATA, 'envoy.filters.http.ext_proc', 'envoy.filters.http.router']);
    expect(r.extProc.metadata_options).toEqual({ forwarding_namespaces: { untyped: ['gateway.request_body'] } });
  });

  it('reads the model before the ext_proc filter, and only on the OpenAI body endpoints', () => {
    const r = rendered(twoOpenAi());
    // Before ext_proc: ext_proc reads its per-route override once this filter lets the headers through.
    expect(filterNames(r)).toEqual(['envoy.filters.http.header_mutation', ...COMPRESSION_FILTERS, JSON_TO_METADATA, 'envoy.filters.http.ext_proc', 'envoy.filters.http.router']);
    const filter = (r.hcm.http_filters as Json[]).find((f) => f.name === JSON_TO_METADATA)?.typed_config as Json;
    const [skip] = filter.xds_matcher.matcher_list.matchers as [Json];
    expect(skip.on_match.action.typed_config['@type']).toBe('type.googleapis.com/envoy.extensions.filters.common.matcher.action.v3.SkipFilter');
    const single = skip.predicate.not_matcher.single_predicate;
    expect(single.input.typed_config.header_name).toBe(':path');
    const runsOn = new RegExp(single.value_match.safe_regex.regex as string);
    for (const p of ['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/chat/completions?api-version=1']) expect(runsOn.test(p), p).toBe(true);
    for (const p of ['/v2/models/sentiment/infer', '/v1/models/iris:predict', '/v1/models', '/v1/chat/completions/x', '/x/v1/embeddings']) expect(runsOn.test(p), p).toBe(false);
    const rules = filter.extension_config.typed_config.request_rules;
    expect(rules.rules).toEqual([
      { selectors: [{ key: 'model' }], on_present: { metadata_namespace: 'gateway.request_body', key: 'model', type: 'PROTOBUF_VALUE' } },
    ]);
  });

  it('routes the fail-open model by path and body model, to its default version; the other OpenAI model gets no static route', () => {
    const input = twoOpenAi();
    (input.models.tinylm as Json).versions = { v1: { endpoints: ['127.0.0.1:9201'] }, v2: { endpoints: ['127.0.0.1:9203'] } };
    (input.models.tinylm as Json).defaultVersion = 'v2';
    const r = rendered(input);
    expect(r.routes.map((x) => x.name)).toEqual(['unsupported_content_encoding', 'sentiment@v1', 'iris@1', 'tinylm@v1', 'tinylm@v2', 'tinychat@v1', 'fail_open:tinylm@v2', 'no_model_selected']);
    const route = r.route('fail_open:tinylm@v2');
    expect(new RegExp(route.match.safe_regex.regex as string).test('/v1/chat/completions')).toBe(true);
    expect(route.match.dynamic_metadata).toEqual([
      { filter: 'gateway.request_body', path: [{ key: 'model' }], value: { string_match: { exact: 'tinylm' } } },
    ]);
    expect(route.route.cluster).toBe('tinylm@v2');
    expect(route.typed_per_filter_config['envoy.filters.http.ext_proc'].overrides).toEqual({ failure_mode_allow: true });
  });

  it('with file-based xDS, the first OpenAI model asks for an Envoy restart (the filter is in the bootstrap); making one fail-open does not', () => {
    const prev = parse(base());
    const v2 = base();
    (v2.models.sentiment as Json).failOpen = true;
    const openai = base();
    (openai.models.tinylm as Json).failOpen = true;
    // Fail-open routes are only routes: the xDS files carry them, no restart.
    expect(restartOnlyChanges(prev, parse(v2), { envoyDynamic: true }).envoy).toBe(false);
    expect(restartOnlyChanges(prev, parse(openai), { envoyDynamic: true }).envoy).toBe(false);
    const noOpenAi = base();
    delete noOpenAi.models.tinylm;
    expect(restartOnlyChanges(parse(noOpenAi), prev, { envoyDynamic: true }).envoy).toBe(true);
  });
});

describe('the rendered bootstrap', () => {
  it('is accepted by Envoy 1.40 (--mode validate), with every resilience feature switched on', () => {
    const input = base({ envoy: { failureModeAllow: true } }, {
      loadBalancing: { policy: 'maglev', hashHeader: 'x-user' },
      retries: { perTryTimeoutMs: 1000, perTryIdleTimeoutMs: 500 },
      idleTimeoutMs: 30_000,
      limits: { maxRequests: 10 },
    });
    // Two fail-open OpenAI models: the json_to_metadata filter and metadata-matched routes.
    input.models.tinychat = { protocol: 'openai', versions: { v1: { endpoints: ['127.0.0.1:9202'] } } };
    const dir = mkdtempSync(join(tmpdir(), 'render-validate-'));
    try {
      const file = join(dir, 'envoy.yaml');
      writeFileSync(file, renderEnvoyYaml(parse(input)));
      const out = execFileSync(resolveEnvoyBin(), ['--mode', 'validate', '-c', file, '--log-level', 'error'], { encoding: 'utf8' });
      expect(out).toMatch(/OK/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
