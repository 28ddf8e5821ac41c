// What each bench target runs: the fast upstream, plain Envoy, and the gateway modes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { GatewayConfigInput } from '../ext-proc/config/schema.js';
import { REPO_ROOT } from '../scripts/envoy-bin.js';

type Json = Record<string, unknown>;

/** A canned OpenAI chat completion (with usage): the fast upstream answers every request with it. */
export const UPSTREAM_BODY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 200, completion_tokens: 1, total_tokens: 201 },
});

function hcm(statPrefix: string, routes: Json[], httpFilters: Json[]): Json {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      stat_prefix: statPrefix,
      codec_type: 'AUTO',
      route_config: { name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] },
      http_filters: httpFilters,
    },
  };
}
const ROUTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

/** The fastest upstream on hand: an Envoy answering every request itself (direct_response). */
export function upstreamEnvoy(port: number, adminPort: number): Json {
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'upstream',
          address: { socket_address: { address: '127.0.0.1', port_value: port } },
          filter_chains: [
            {
              filters: [
                hcm(
                  'upstream',
                  [
                    {
                      match: { prefix: '/' },
                      direct_response: { status: 200, body: { inline_string: UPSTREAM_BODY } },
                      response_headers_to_add: [{ header: { key: 'content-type', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
                    },
                  ],
                  [ROUTER],
                ),
              ],
            },
          ],
        },
      ],
    },
  };
}

/**
 * Plain Envoy: the gateway's own rendered bootstrap (same listener, cluster, health checks)
 * with the ext_proc and header filters removed and one route straight to the cluster.
 */
export function plainEnvoy(rendered: Json, cluster: string): Json {
  const copy = structuredClone(rendered) as {
    static_resources: { listeners: { filter_chains: { filters: { typed_config: Json }[] }[] }[]; clusters: { name: string }[] };
  };
  const tc = copy.static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config as Json;
  tc.http_filters = [ROUTER];
  tc.route_config = { name: 'plain', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '30s' } }] }] };
  copy.static_resources.clusters = copy.static_resources.clusters.filter((c) => c.name === cluster);
  return copy as unknown as Json;
}

/** A JSON body of exactly `size` bytes. */
export function body(kind: 'openai' | 'v2', model: string, size = 1024): string {
  const make = (pad: string) =>
    kind === 'openai'
      ? JSON.stringify({ model, messages: [{ role: 'user', content: pad }], max_tokens: 16 })
      : JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [pad] }] });
  const base = make('').length;
  return make('x'.repeat(Math.max(0, size - base)));
}

export interface Mode {
  key: string;
  title: string;
  config: GatewayConfigInput;
  path: string;
  body: string;
  headers: Record<string, string>;
  /** ext-proc processes behind Envoy's ext_proc cluster. */
  replicas: number;
  /** Start a redis-server for the run; the ext-procs find its URL in $GATEWAY_REDIS_URL. */
  redis?: boolean;
}

const endpoint = (port: number) => ({ endpoints: [`127.0.0.1:${port}`], healthCheck: { path: '/health', intervalMs: 1000 } });

/**
 * Credentials for the full example chain: the demo consumer's key from examples/gateway.yaml
 * (its hash is in the config). BENCH_HEADERS='{"authorization":"Bearer ..."}' overrides it.
 */
export function fullChainHeaders(): Record<string, string> {
  if (process.env.BENCH_HEADERS) return JSON.parse(process.env.BENCH_HEADERS) as Record<string, string>;
  return { authorization: 'Bearer demo-key' };
}

/**
 * The full example chain with its `consumer-limits` instance in Redis (`store: redis`): every
 * request of the demo consumer is one admission script and one pipelined release, against a
 * local redis-server. Compared with `full`, the row is what the shared store adds.
 */
function fullWithRedis(example: GatewayConfigInput, full: Mode): Mode {
  const config = structuredClone(example);
  for (const p of config.plugins ?? []) {
    if (p.type !== 'consumer-limits') continue;
    // A generous wait (and hook budget): a bench at saturation must measure Redis, not the
    // failure policy; 503s (onFailure: closed) in the row say it was hit all the same.
    p.options = { ...(p.options as object), store: 'redis', redis: { urlEnv: 'GATEWAY_REDIS_URL', timeoutMs: 500, onFailure: 'closed' } };
    p.timeoutMs = 900;
  }
  return { ...full, key: 'full-redis', title: 'full example chain + limits in Redis', config, redis: true };
}

export async function modes(upstreamPort: number, fullReplicas: number): Promise<Mode[]> {
  const router = [{ type: 'model-router' }];
  const example = parse(await readFile(join(REPO_ROOT, 'examples/gateway.yaml'), 'utf8')) as GatewayConfigInput;
  for (const m of Object.values(example.models)) {
    for (const v of Object.values(m.versions)) Object.assign(v, endpoint(upstreamPort));
  }
  const full = (replicas: number): Mode => ({
    key: replicas === 1 ? 'full' : `full-x${replicas}`,
    title: replicas === 1 ? 'full example chain' : `full example chain, ${replicas} ext-proc processes`,
    config: example,
    path: '/v1/chat/completions',
    body: body('openai', 'tinylm'),
    headers: { 'content-type': 'application/json', ...fullChainHeaders() },
    replicas,
  });
  const out: Mode[] = [
    {
      key: 'headers',
      title: 'headers only (model from the path)',
      config: { plugins: router, models: { bench: { protocol: 'kserve-v2', versions: { v1: endpoint(upstreamPort) } } } },
      path: '/v2/models/bench/versions/v1/infer',
      body: body('v2', 'bench'),
      headers: { 'content-type': 'application/json' },
      replicas: 1,
    },
    {
      key: 'body',
      title: 'headers + buffered 1 KB JSON body (model from the body)',
      config: { plugins: router, models: { bench: { protocol: 'openai', versions: { v1: endpoint(upstreamPort) } } } },
      path: '/v1/chat/completions',
      body: body('openai', 'bench'),
      headers: { 'content-type': 'application/json' },
      replicas: 1,
    },
    full(1),
  ];
  if (fullReplicas > 1) out.push(full(fullReplicas));
  out.push(fullWithRedis(example, full(1)));
  return out;
}
