import { resolve as resolvePath } from 'node:path';
import { stringify } from 'yaml';
import { clusterName, fallbackClusterName, type GatewayConfig, type ModelConfig, type VersionConfig } from '../ext-proc/config/schema.js';
import { CLUSTER_HEADER, EXT_PROC_SERVICE, INTERNAL_REQUEST_HEADERS, NO_MODEL_SELECTED, SHADOW_HEADER, UPSTREAM_VERSION_HEADER } from '../plugins/sdk/wire.js';
import { selectTransport } from '../ext-proc/transport/select.js';
import { bodyModelFilter } from './body-model.js';
import { compressorFilters, decompressorFilters, unsupportedEncodingRoute } from './compression.js';
import { EXT_PROC_CLUSTER, extProcFilter } from './ext-proc-filter.js';
import { FAIL_OPEN_ROUTE_PREFIX, failOpenAccessLog, failOpenRoutes, isFailOpen } from './fail-open.js';
import { localReplyConfig } from './local-replies.js';
import { bodyLengthFilter, bodyLengthSpoofGuard, bufferFilter, PIPELINED_ROUTE, pipelinedExtProcFilter, pipelinedRoute, pipelinesOpenAiBodies } from './pipelined.js';
import { clusterResilience, routeResilience, seconds } from './resilience.js';

export { EXT_PROC_CLUSTER };
/** Endpoint metadata namespace: tells Envoy's access log and the ext-proc which version an endpoint serves. */
export const METADATA_NAMESPACE = 'gateway';
/** Envoy runtime key scaling all shadow traffic (0-100); `/runtime_modify` turns shadowing off without a deploy. */
export const SHADOW_RUNTIME_KEY = 'gateway.shadow_percent';
/** Below nghttp2's reset-flood burst (1000), see extProcCluster (grpc-js transport only). */
export const EXT_PROC_STREAMS_PER_CONNECTION = 800;
const UNIX_PREFIX = 'unix:';

export interface RenderOptions {
  /** Address Envoy binds its listener and admin to (0.0.0.0 inside a container). */
  bindAddress?: string;
  /** Rewrites upstream hosts, e.g. `{ '127.0.0.1': 'demo-models' }` for docker compose service names. */
  hostMap?: Readonly<Record<string, string>>;
  /** Where the ext-proc replicas listen, as host:port or unix:/path; default from the gateway config. */
  extProcAddresses?: readonly string[];
  /**
   * Serve model clusters and routes from files in this directory (CDS + RDS that Envoy
   * watches) instead of the bootstrap, so versions come and go without restarting Envoy.
   * The ext-proc keeps the files current (see ext-proc/envoy-xds.ts).
   */
  xdsDir?: string;
  /**
   * A directory in the layout of a Kubernetes ConfigMap volume (files behind a `..data`
   * symlink the kubelet swaps) whose files are runtime values, e.g. `gateway.shadow_percent`:
   * one edit reaches every Pod's Envoy. The admin layer still overrides it per Envoy.
   */
  runtimeDir?: string;
  /**
   * false: never the `openai_pipelined` route, whatever the config says: the Envoy it is
   * written for was started from a bootstrap without the pipelined filter (that route turns the
   * first ext_proc filter off, so without the second one no ext_proc would run: a 404 for every
   * OpenAI body request). The ext-proc's xDS publisher sets it from the running Envoy.
   */
  pipelinedRoute?: boolean;
}

/**
 * How the compose stack names things (see docker-compose.yml): `npm run render:envoy -- --docker`.
 * As under `npm start`, model clusters and routes live in files the ext-proc writes (a volume
 * both containers mount at this path), so a new version needs no Envoy restart there either.
 */
export const DOCKER_RENDER = {
  bindAddress: '0.0.0.0',
  hostMap: { '127.0.0.1': 'demo-models' },
  extProcAddresses: ['ext-proc:50051'],
  xdsDir: '/var/lib/gateway/xds',
} as const satisfies RenderOptions;

type Json = Record<string, unknown>;


/** `unix:/path` is a Unix socket (Envoy's `pipe`), anything else host:port. */
function socketAddress(hostPort: string, hostMap: Readonly<Record<string, string>> = {}): Json {
  if (hostPort.startsWith(UNIX_PREFIX)) return { pipe: { path: hostPort.slice(UNIX_PREFIX.length) } };
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
    ...clusterResilience(v),
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: v.endpoints.map((e) => ({
            endpoint: { address: socketAddress(e, opts.hostMap) },
            metadata: { filter_metadata: { [METADATA_NAMESPACE]: { model, version } } },
          })),
        },
      ],
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
    // Never send traffic to instances known to be down: with none healthy, a fast JSON 503.
    // Health changes apply at once (Envoy's default merges them over 1 s, which keeps a
    // just-failed instance in rotation that long).
    common_lb_config: { healthy_panic_threshold: { value: 0 }, update_merge_window: '0s' },
  };
}

/**
 * With several ext-proc workers behind one address (node:cluster hands each new connection to
 * the next worker), a worker gets streams only through a connection of its own: capping the
 * streams per connection makes Envoy open more connections as concurrency grows. Set whatever
 * the worker count (it may differ where the ext-proc runs), so the rendered file is the same
 * everywhere; one worker just gets a second connection past the cap.
 */
export const EXT_PROC_STREAMS_PER_WORKER_CONNECTION = 64;

/** Envoy's side of mTLS to the ext-proc: its client certificate, and the CA (and name) the ext-proc's certificate must have. */
function extProcTls(tls: NonNullable<GatewayConfig['extProc']['tls']>): Json {
  const file = (path: string) => ({ filename: resolvePath(path) });
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
      ...(tls.envoy.serverName ? { sni: tls.envoy.serverName } : {}),
      common_tls_context: {
        alpn_protocols: ['h2'],
        tls_certificates: [{ certificate_chain: file(tls.envoy.cert), private_key: file(tls.envoy.key) }],
        validation_context: {
          trusted_ca: file(tls.envoy.serverCa),
          ...(tls.envoy.serverName ? { match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: tls.envoy.serverName } }] } : {}),
        },
      },
    },
  };
}

function extProcCluster(addresses: readonly string[], config: GatewayConfig, opts: RenderOptions): Json {
  const hc = config.envoy.extProcHealthCheck;
  const transport = selectTransport(config.extProc.transport);
  return {
    name: EXT_PROC_CLUSTER,
    type: addresses.every((a) => /^[\d.:[\]]+$/.test(a) || a.startsWith(UNIX_PREFIX)) && !opts.hostMap ? 'STATIC' : 'STRICT_DNS',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: { max_concurrent_streams: EXT_PROC_STREAMS_PER_WORKER_CONNECTION } },
        // grpc-js: a reset stream (a cancelled request) counts towards nghttp2's reset-flood
        // limit (1000 per connection, then 33/s), past which GOAWAY fails the streams in flight;
        // rotating connections keeps it from tripping. The http2 transport guards itself (it
        // closes a connection gracefully before the limit, ext-proc/transport/reset-guard.ts),
        // and h2 (our own framing, no nghttp2) has no such limit: their connections live on.
        ...(transport === 'grpc-js' ? { common_http_protocol_options: { max_requests_per_connection: EXT_PROC_STREAMS_PER_CONNECTION } } : {}),
      },
    },
    ...(config.extProc.tls ? { transport_socket: extProcTls(config.extProc.tls) } : {}),
    // A draining replica leaves the rotation as soon as its health check says NOT_SERVING.
    common_lb_config: { update_merge_window: '0s' },
    load_assignment: {
      cluster_name: EXT_PROC_CLUSTER,
      endpoints: [{ lb_endpoints: addresses.map((a) => ({ endpoint: { address: socketAddress(a) } })) }],
    },
    health_checks: [
      {
        // A draining replica reports NOT_SERVING; it leaves the rotation within one interval.
        timeout: seconds(hc.timeoutMs),
        interval: seconds(hc.intervalMs),
        unhealthy_threshold: hc.unhealthyThreshold,
        healthy_threshold: hc.healthyThreshold,
        no_traffic_interval: seconds(hc.intervalMs),
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
      ...routeResilience(v),
      // The ext-proc names the shadow cluster per request (and so owns the percentage); Envoy
      // sends the copy fire-and-forget and drops its answer. No header, no copy.
      request_mirror_policies: [
        {
          cluster_header: SHADOW_HEADER,
          runtime_fraction: { default_value: { numerator: 100, denominator: 'HUNDRED' }, runtime_key: SHADOW_RUNTIME_KEY },
        },
      ],
    },
    // Which version really answered (it differs after a fallback); the ext-proc reads and removes it.
    response_headers_to_add: [
      {
        header: { key: UPSTREAM_VERSION_HEADER, value: `%UPSTREAM_METADATA(${METADATA_NAMESPACE}:version)%` },
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
      },
    ],
  };
}

/**
 * The route for requests the traffic policy sent to `version` with a fallback: the same
 * policies, but its cluster is the aggregate (version, fallback), and one retry that skips
 * the priority already tried, i.e. lands on the fallback.
 */
function fallbackRoute(model: string, version: string, fallback: string, v: VersionConfig): Json {
  const base = versionRoute(model, version, v);
  const name = fallbackClusterName(model, version, fallback);
  const route = base.route as Json;
  const retry = (route.retry_policy as Json | undefined) ?? {};
  const retryOn = new Set(String(retry.retry_on ?? '').split(',').filter(Boolean));
  // `5xx` covers connect failures, resets and refused streams too.
  retryOn.add('5xx');
  return {
    ...base,
    name,
    match: { prefix: '/', headers: [{ name: CLUSTER_HEADER, string_match: { exact: name } }] },
    route: {
      ...route,
      retry_policy: {
        ...retry,
        retry_on: [...retryOn].join(','),
        num_retries: Math.max(1, Number(retry.num_retries ?? 0)),
        retry_priority: {
          name: 'envoy.retry_priorities.previous_priorities',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
            update_frequency: 1,
          },
        },
      },
    },
  };
}

/** Version first, fallback second: Envoy moves to the fallback when the version has no healthy host. */
function fallbackCluster(model: string, version: string, fallback: string): Json {
  return {
    name: fallbackClusterName(model, version, fallback),
    connect_timeout: '1s',
    lb_policy: 'CLUSTER_PROVIDED',
    cluster_type: {
      name: 'envoy.clusters.aggregate',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.clusters.aggregate.v3.ClusterConfig',
        clusters: [clusterName(model, version), clusterName(model, fallback)],
      },
    },
    // Retries are checked against the route's cluster: the default of 3 concurrent retries
    // would turn a failing canary under load into 503s instead of fallbacks.
    circuit_breakers: { thresholds: [{ max_retries: 100_000 }] },
  };
}


function noRouteReply(): Json {
  return {
    name: 'no_model_selected',
    match: { prefix: '/' },
    // Plain text: the local reply mappers shape it as JSON in the client's protocol.
    direct_response: { status: NO_MODEL_SELECTED.status, body: { inline_string: NO_MODEL_SELECTED.message } },
  };
}

/** Everything the models section turns into: one cluster and route per version, fallback pairs, the catch-all. */
export function modelResources(config: GatewayConfig, opts: RenderOptions = {}): { clusters: Json[]; routeConfig: Json } {
  const routes: Json[] = [unsupportedEncodingRoute()];
  const clusters: Json[] = [];
  for (const [model, m] of Object.entries(config.models)) {
    for (const [version, v] of Object.entries(m.versions)) {
      routes.push(versionRoute(model, version, v));
      clusters.push(modelCluster(model, m, version, v, opts));
    }
    const fallback = m.traffic?.fallback;
    if (fallback === undefined) continue;
    for (const [version, v] of Object.entries(m.versions)) {
      if (version === fallback) continue;
      routes.push(fallbackRoute(model, version, fallback, v));
      clusters.push(fallbackCluster(model, version, fallback));
    }
  }
  const catchAll = noRouteReply();
  const pipelined = opts.pipelinedRoute !== false && pipelinesOpenAiBodies(config);
  routes.push(...failOpenRoutes(config), ...(pipelined ? [pipelinedRoute(config, catchAll)] : []), catchAll);
  return { clusters, routeConfig: { name: ROUTE_CONFIG_NAME, virtual_hosts: [{ name: 'models', domains: ['*'], routes, ...bodyLengthSpoofGuard }] } };
}

export const ROUTE_CONFIG_NAME = 'models';
export const CDS_FILE = 'cds.yaml';
export const RDS_FILE = 'rds.yaml';

/** A file-based xDS subscription Envoy re-reads when a file is renamed into `dir`. */
function fileSource(dir: string, file: string): Json {
  return { resource_api_version: 'V3', path_config_source: { path: `${dir}/${file}`, watched_directory: { path: dir } } };
}

export type ModelResources = ReturnType<typeof modelResources>;

/**
 * Both sets of resources at once (`next` wins where names clash): what Envoy must hold while
 * the ext-proc may still route by either config. The catch-all route stays last.
 */
export function mergeResources(prev: ModelResources, next: ModelResources): ModelResources {
  const byName = (xs: Json[]) => new Map(xs.map((x) => [x.name as string, x]));
  const clusters = byName(prev.clusters);
  for (const [name, c] of byName(next.clusters)) clusters.set(name, c);
  const routesOf = (r: ModelResources) => ((r.routeConfig.virtual_hosts as Json[])[0]?.routes ?? []) as Json[];
  const nextRoutes = routesOf(next);
  const names = new Set(nextRoutes.map((r) => r.name));
  const extra = routesOf(prev).filter((r) => !names.has(r.name));
  // Path-matched routes (fail-open, pipelined, catch-all) come after every header-matched version route.
  const isTail = (r: Json) => r.name === 'no_model_selected' || r.name === PIPELINED_ROUTE || String(r.name).startsWith(FAIL_OPEN_ROUTE_PREFIX);
  const routes = [...nextRoutes.filter((r) => !isTail(r)), ...extra.filter((r) => !isTail(r)), ...nextRoutes.filter(isTail)];
  return { clusters: [...clusters.values()], routeConfig: { ...next.routeConfig, virtual_hosts: [{ ...(next.routeConfig.virtual_hosts as Json[])[0], routes }] } };
}

/** The contents of the CDS and RDS files (DiscoveryResponse documents) for a set of model resources. */
export function renderXdsFiles(resources: ModelResources, version: string): Record<typeof CDS_FILE | typeof RDS_FILE, string> {
  const doc = (type: string, items: Json[]) =>
    `# Written by the ext-proc from the gateway config; Envoy watches this file. Do not edit.\n${stringify(
      { version_info: version, resources: items.map((r) => ({ '@type': `type.googleapis.com/${type}`, ...r })) },
      { lineWidth: 0 },
    )}`;
  return {
    [CDS_FILE]: doc('envoy.config.cluster.v3.Cluster', resources.clusters),
    [RDS_FILE]: doc('envoy.config.route.v3.RouteConfiguration', [resources.routeConfig]),
  };
}

/** The complete Envoy bootstrap for a gateway config. */
export function renderEnvoyConfig(config: GatewayConfig, opts: RenderOptions = {}): Json {
  const bind = opts.bindAddress ?? config.envoy.listener.host;
  const ownAddress = config.extProc.socket !== undefined ? `${UNIX_PREFIX}${resolvePath(config.extProc.socket)}` : `${config.extProc.host}:${config.extProc.port}`;
  const extProcAddresses = opts.extProcAddresses ?? [config.envoy.extProcAddress ?? ownAddress];
  const xds = opts.xdsDir;
  const models = xds === undefined ? modelResources(config, opts) : undefined;
  const clusters: Json[] = [extProcCluster(extProcAddresses, config, opts), ...(models?.clusters ?? [])];
  const routing = models
    ? { route_config: models.routeConfig }
    : { rds: { route_config_name: ROUTE_CONFIG_NAME, config_source: fileSource(xds as string, RDS_FILE) } };

  const pipelined = pipelinesOpenAiBodies(config);

  return {
    node: { id: 'inference-gateway', cluster: 'inference-gateway' },
    layered_runtime: {
      layers: [
        {
          name: 'static',
          static_layer: {
            // Half-close ext_proc streams and wait for the server's close instead of resetting
            // every finished stream: a reset per request trips the HTTP/2 rapid-reset guard of
            // the ext-proc's server (GOAWAY, refused streams, 500s) at a few hundred requests/s.
            'envoy.reloadable_features.ext_proc_graceful_grpc_close': true,
          },
        },
        // Envoy re-reads the tree when the symlink is swapped: exactly the kubelet's ConfigMap update.
        ...(opts.runtimeDir === undefined ? [] : [{ name: 'configmap', disk_layer: { symlink_root: `${opts.runtimeDir}/..data`, subdirectory: '.' } }]),
        // Lets operators change runtime values (e.g. the shadow kill switch) via /runtime_modify.
        { name: 'admin', admin_layer: {} },
      ],
    },
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
                    local_reply_config: localReplyConfig(config),
                    access_log: [failOpenAccessLog()],
                    ...routing,
                    http_filters: [
                      {
                        // Clients never choose the cluster or the mirror: strip those headers (every
                        // value, any case) before anything routes; and the served-version stamp never leaves.
                        name: 'envoy.filters.http.header_mutation',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
                          mutations: {
                            request_mutations: INTERNAL_REQUEST_HEADERS.map((h) => ({ remove: h })),
                            response_mutations: [{ remove: UPSTREAM_VERSION_HEADER }],
                          },
                        },
                      },
                      // Encoder side runs in reverse: responses are compressed after the ext-proc read them.
                      ...compressorFilters(config),
                      // On the way back, between the ext-proc and the compressors: a pipelined answer's content-length.
                      ...(pipelined ? [bodyLengthFilter()] : []),
                      // Request bodies are plain text from here on: for the plugins and the size limit.
                      ...decompressorFilters(),
                      // Reads an OpenAI body's model for the ext-proc and fail-open routes, when one can use it.
                      ...[bodyModelFilter(config, (m) => isFailOpen(config, m))].filter((f) => f !== undefined),
                      // Holds a pipelined request until its body is whole; off on every other route.
                      ...(pipelined ? [bufferFilter(config)] : []),
                      extProcFilter(config),
                      // Off except on the pipelined route, where it stands in for the one above.
                      ...(pipelined ? [pipelinedExtProcFilter(config)] : []),
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
    ...(xds === undefined ? {} : { dynamic_resources: { cds_config: fileSource(xds, CDS_FILE) } }),
  };
}

export function renderEnvoyYaml(config: GatewayConfig, opts: RenderOptions = {}): string {
  return `# Rendered from the gateway config by \`npm run render:envoy\`; do not edit by hand.\n${stringify(renderEnvoyConfig(config, opts), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
