import { stringify } from 'yaml';
import { clusterName, type GatewayConfig, type ModelConfig, type VersionConfig } from '../ext-proc/config/schema.js';
import { CLUSTER_HEADER } from '../ext-proc/stream.js';
import { EXT_PROC_SERVICE } from '../ext-proc/server.js';
import { FILTER_BODY_MODES } from '../ext-proc/envoy-messages.js';
import { processingMode_BodySendModeToJSON as bodyModeName } from '../ext-proc/gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';

export const EXT_PROC_CLUSTER = 'ext_proc';

export interface RenderOptions {
  /** Address Envoy binds its listener and admin to (0.0.0.0 inside a container). */
  bindAddress?: string;
  /** Rewrites upstream hosts, e.g. `{ '127.0.0.1': 'demo-models' }` for docker compose service names. */
  hostMap?: Readonly<Record<string, string>>;
  /** Where the ext-proc replicas listen, as host:port; default from the gateway config. */
  extProcAddresses?: readonly string[];
}

type Json = Record<string, unknown>;

const seconds = (ms: number) => `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;

function socketAddress(hostPort: string, hostMap: Readonly<Record<string, string>> = {}): Json {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
  return { socket_address: { address: hostMap[host] ?? host, port_value: Number(hostPort.slice(i + 1)) } };
}

function defaultHealthPath(model: string, protocol: ModelConfig['protocol'], version: string): string {
  if (protocol === 'kserve-v2') return '/v2/health/ready';
  if (protocol === 'tfserving') return `/v1/models/${model}/versions/${version}`;
  return '/health';
}

function modelCluster(model: string, m: ModelConfig, version: string, v: VersionConfig, opts: RenderOptions): Json {
  const name = clusterName(model, version);
  const strictDns = Object.keys(opts.hostMap ?? {}).length > 0 || v.endpoints.some((e) => !/^[\d.:[\]]+$/.test(e));
  return {
    name,
    type: strictDns ? 'STRICT_DNS' : 'STATIC',
    connect_timeout: '1s',
    lb_policy: 'LEAST_REQUEST',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: v.endpoints.map((e) => ({ endpoint: { address: socketAddress(e, opts.hostMap) } })) }],
    },
    health_checks: [
      {
        timeout: seconds(v.healthCheck.timeoutMs),
        interval: seconds(v.healthCheck.intervalMs),
        unhealthy_threshold: v.healthCheck.unhealthyThreshold,
        healthy_threshold: v.healthCheck.healthyThreshold,
        // New hosts take traffic before their first check passes: a restart never empties a cluster.
        no_traffic_interval: seconds(v.healthCheck.intervalMs),
        http_health_check: { path: v.healthCheck.path ?? defaultHealthPath(model, m.protocol, version) },
      },
    ],
    common_lb_config: { healthy_panic_threshold: { value: 0 } },
    outlier_detection: {
      consecutive_5xx: 5,
      consecutive_gateway_failure: 3,
      interval: '5s',
      base_ejection_time: '15s',
      max_ejection_percent: 50,
    },
  };
}

function extProcCluster(addresses: readonly string[], opts: RenderOptions): Json {
  return {
    name: EXT_PROC_CLUSTER,
    type: addresses.every((a) => /^[\d.:[\]]+$/.test(a)) && !opts.hostMap ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: EXT_PROC_CLUSTER,
      endpoints: [{ lb_endpoints: addresses.map((a) => ({ endpoint: { address: socketAddress(a) } })) }],
    },
    health_checks: [
      {
        timeout: '1s',
        interval: '2s',
        unhealthy_threshold: 2,
        healthy_threshold: 1,
        no_traffic_interval: '2s',
        grpc_health_check: { service_name: EXT_PROC_SERVICE },
      },
    ],
  };
}

function versionRoute(model: string, version: string, v: VersionConfig): Json {
  return {
    name: clusterName(model, version),
    // The ext-proc sets the cluster-selection header; each version's route carries its own policies.
    match: { prefix: '/', headers: [{ name: CLUSTER_HEADER, string_match: { exact: clusterName(model, version) } }] },
    route: {
      cluster_header: CLUSTER_HEADER,
      timeout: seconds(v.timeoutMs),
    },
  };
}

/** Envoy's own answer when the ext-proc chose no model (no cluster header set). */
export const NO_MODEL_SELECTED = { status: 404, body: JSON.stringify({ error: 'no model selected for this request' }) } as const;

function noRouteReply(): Json {
  return {
    name: 'no_model_selected',
    match: { prefix: '/' },
    direct_response: {
      status: NO_MODEL_SELECTED.status,
      body: { inline_string: NO_MODEL_SELECTED.body },
    },
    response_headers_to_add: [{ header: { key: 'content-type', value: 'application/json' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' }],
  };
}

/** The complete Envoy bootstrap for a gateway config. */
export function renderEnvoyConfig(config: GatewayConfig, opts: RenderOptions = {}): Json {
  const bind = opts.bindAddress ?? config.envoy.listener.host;
  const extProcAddresses = opts.extProcAddresses ?? [config.envoy.extProcAddress ?? `${config.extProc.host}:${config.extProc.port}`];
  const routes: Json[] = [];
  const clusters: Json[] = [extProcCluster(extProcAddresses, opts)];
  for (const [model, m] of Object.entries(config.models)) {
    for (const [version, v] of Object.entries(m.versions)) {
      routes.push(versionRoute(model, version, v));
      clusters.push(modelCluster(model, m, version, v, opts));
    }
  }
  routes.push(noRouteReply());

  const extProcFilter = {
    name: 'envoy.filters.http.ext_proc',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor',
      // No grpc_service timeout: it would bound the whole stream, and an SSE response lives long.
      grpc_service: { envoy_grpc: { cluster_name: EXT_PROC_CLUSTER } },
      failure_mode_allow: config.envoy.failureModeAllow,
      message_timeout: seconds(config.envoy.messageTimeoutMs),
      allow_mode_override: true,
      // Request bodies are buffered by default (OpenAI names its model there); the ext-proc
      // turns phases off per request with mode_override when no plugin needs them.
      processing_mode: {
        request_header_mode: 'SEND',
        response_header_mode: 'SEND',
        request_body_mode: bodyModeName(FILTER_BODY_MODES.request),
        response_body_mode: bodyModeName(FILTER_BODY_MODES.response),
        request_trailer_mode: 'SKIP',
        response_trailer_mode: 'SKIP',
      },
      mutation_rules: { disallow_is_error: { value: false } },
    },
  };

  return {
    node: { id: 'inference-gateway', cluster: 'inference-gateway' },
    admin: {
      address: { socket_address: { address: opts.bindAddress ?? config.envoy.admin.host, port_value: config.envoy.admin.port } },
    },
    static_resources: {
      listeners: [
        {
          name: 'ingress',
          address: { socket_address: { address: bind, port_value: config.envoy.listener.port } },
          // Bodies are buffered whole for the ext-proc: the buffer must hold the largest accepted body.
          per_connection_buffer_limit_bytes: config.envoy.maxRequestBytes,
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'ingress',
                    codec_type: 'AUTO',
                    generate_request_id: true,
                    preserve_external_request_id: true,
                    normalize_path: true,
                    merge_slashes: true,
                    path_with_escaped_slashes_action: 'REJECT_REQUEST',
                    max_request_headers_kb: 60,
                    common_http_protocol_options: { idle_timeout: '300s', headers_with_underscores_action: 'DROP_HEADER' },
                    route_config: {
                      name: 'models',
                      virtual_hosts: [{ name: 'models', domains: ['*'], routes }],
                    },
                    http_filters: [
                      {
                        // Clients never choose the cluster: strip the selection header before anything routes.
                        name: 'envoy.filters.http.header_mutation',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
                          mutations: { request_mutations: [{ remove: CLUSTER_HEADER }] },
                        },
                      },
                      extProcFilter,
                      {
                        name: 'envoy.filters.http.router',
                        typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}

export function renderEnvoyYaml(config: GatewayConfig, opts: RenderOptions = {}): string {
  return `# Rendered from the gateway config by \`npm run render:envoy\`; do not edit by hand.\n${stringify(renderEnvoyConfig(config, opts), { lineWidth: 0 })}`;
}
