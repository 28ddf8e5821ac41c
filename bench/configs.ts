// Envoy configs only the bench uses: the upstream, plain Envoy, and the floor (plain Envoy + a
// no-op ext_proc). The gateway's own Envoy config comes from envoy/render.ts unchanged.

import { EXT_PROC_CLUSTER } from '../envoy/render.js';

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

/**
 * The upstream: an Envoy answering every request itself (direct_response) with a canned
 * completion. The buffer filter before the router makes it read the whole request body before
 * it answers: an HTTP/1.1 server that answers early cannot reuse the connection (the rest of the
 * body is still on it), so without the filter every request through the gateway would pay a new
 * upstream TCP connection and drown the differences the bench measures.
 */
export function upstreamEnvoy(port: number, adminPort: number): Json {
  const buffer = {
    name: 'envoy.filters.http.buffer',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer', max_request_bytes: 1 << 20 },
  };
  const answer = {
    match: { prefix: '/' },
    direct_response: { status: 200, body: { inline_string: UPSTREAM_BODY } },
    response_headers_to_add: [{ header: { key: 'content-type', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
  };
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'upstream',
          address: { socket_address: { address: '127.0.0.1', port_value: port } },
          filter_chains: [{ filters: [hcm('upstream', [answer], [buffer, ROUTER])] }],
        },
      ],
    },
  };
}

interface Bootstrap {
  static_resources: { listeners: { filter_chains: { filters: { typed_config: Json }[] }[] }[]; clusters: Json[] };
}

/**
 * Plain Envoy: the gateway's own rendered bootstrap (same listener, model cluster, health checks)
 * with every HTTP filter but the router removed and one route straight to the model's cluster.
 */
export function plainEnvoy(rendered: Json, cluster: string): Json {
  const copy = structuredClone(rendered) as unknown as Bootstrap;
  const tc = copy.static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config as Json;
  tc.http_filters = [ROUTER];
  tc.route_config = { name: 'plain', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster, timeout: '30s' } }] }] };
  copy.static_resources.clusters = copy.static_resources.clusters.filter((c) => c.name === cluster);
  return copy as unknown as Json;
}

export const FLOOR_CLUSTER = 'floor_ext_proc';

/**
 * The floor: plain Envoy plus an ext_proc filter that sends request and response headers (no
 * bodies) to a no-op processor over HTTP/2 — the least any ext_proc gateway can cost.
 */
export function floorEnvoy(plain: Json, extProcPort: number): Json {
  const copy = structuredClone(plain) as unknown as Bootstrap;
  const tc = copy.static_resources.listeners[0]?.filter_chains[0]?.filters[0]?.typed_config as Json;
  const extProc = {
    name: 'envoy.filters.http.ext_proc',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      grpc_service: { envoy_grpc: { cluster_name: FLOOR_CLUSTER }, timeout: '1s' },
      failure_mode_allow: false,
      message_timeout: '1s',
      processing_mode: {
        request_header_mode: 'SEND',
        response_header_mode: 'SEND',
        request_body_mode: 'NONE',
        response_body_mode: 'NONE',
        request_trailer_mode: 'SKIP',
        response_trailer_mode: 'SKIP',
      },
    },
  };
  tc.http_filters = [extProc, ROUTER];
  copy.static_resources.clusters.push({
    name: FLOOR_CLUSTER,
    type: 'STATIC',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: FLOOR_CLUSTER,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: extProcPort } } } }] }],
    },
  });
  return copy as unknown as Json;
}

/**
 * Overrides how many streams Envoy sends on one ext_proc connection before opening a new one
 * (render.ts sets a limit to stay under Node's HTTP/2 reset-flood limiter); 0 removes the
 * limit. Bench-only: it shows what the connection rotation costs in the tail.
 */
export function withExtProcStreamsPerConnection(rendered: Json, streams: number): Json {
  const copy = structuredClone(rendered) as unknown as Bootstrap;
  const cluster = copy.static_resources.clusters.find((c) => c.name === EXT_PROC_CLUSTER) as
    | { typed_extension_protocol_options?: Record<string, { common_http_protocol_options?: Json }> }
    | undefined;
  const opts = cluster?.typed_extension_protocol_options?.['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'];
  if (!opts) throw new Error(`no ${EXT_PROC_CLUSTER} cluster with HTTP protocol options in the rendered config`);
  const common = { ...(opts.common_http_protocol_options ?? {}) };
  if (streams > 0) common.max_requests_per_connection = streams;
  else delete common.max_requests_per_connection;
  opts.common_http_protocol_options = common;
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

/**
 * Credentials for the full example chain: the demo consumer's key from examples/gateway.yaml
 * (its hash is in the config). BENCH_HEADERS='{"authorization":"Bearer ..."}' overrides it.
 */
export function fullChainHeaders(): Record<string, string> {
  if (process.env.BENCH_HEADERS) return JSON.parse(process.env.BENCH_HEADERS) as Record<string, string>;
  return { authorization: 'Bearer demo-key' };
}
