import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HotCounter } from './hot-metrics/counter.js';
import { HotHistogram } from './hot-metrics/histogram.js';

/** Whole-request latencies: from sub-millisecond gateway answers to long generations. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** The ext-proc's own work: tens of microseconds to a slow plugin. */
const WORK_BUCKETS = [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25];

/** Config metrics belong to the process that reloads (the primary with workers); workers' copies are left out of the sum. */
export const CONFIG_METRICS = [
  'gateway_config_reloads_total',
  'gateway_config_last_reload_successful',
  'gateway_config_last_reload_success_timestamp_seconds',
  'gateway_config_info',
] as const;

/**
 * The ext-proc's Prometheus metrics, one registry per process (with workers, the primary sums
 * theirs: see cluster/pool.ts). Names follow Prometheus
 * conventions (base units in the name, `_total` on counters). `model`/`version` label values
 * join with Envoy's `envoy_cluster_name="<model>@<version>"`; an empty value means "none"
 * (no model resolved, no consumer identified). What is counted per request or per message is
 * a HotCounter/HotHistogram (hot-metrics/): the same exposition as prom-client's, for less CPU.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_ext_proc_' });
  const registers = [registry];
  return {
    registry,
    streams: new HotCounter({
      name: 'gateway_ext_proc_streams_total',
      help: 'ext_proc streams opened, by the process serving them (pid): how streams spread over extProc.workers',
      labelNames: ['pid'] as const,
      registers,
    }),
    configReloads: new Counter({
      name: 'gateway_config_reloads_total',
      aggregator: 'omit',
      help: 'Config reload attempts by result (success, failure)',
      labelNames: ['result'] as const,
      registers,
    }),
    configLastReloadSuccessful: new Gauge({
      name: 'gateway_config_last_reload_successful',
      aggregator: 'omit',
      help: 'Whether the config file in force matches the file on disk: 0 after a refused reload, 1 once a reload succeeds or the file is restored',
      registers: [registry],
    }),
    configLastReloadSuccessTimestamp: new Gauge({
      name: 'gateway_config_last_reload_success_timestamp_seconds',
      aggregator: 'omit',
      help: 'When the config in force was loaded (Unix time)',
      registers: [registry],
    }),
    configInfo: new Gauge({
      name: 'gateway_config_info',
      aggregator: 'omit',
      help: 'The active config: 1 for its hash',
      labelNames: ['hash'] as const,
      registers,
    }),
    phaseSeconds: new HotHistogram({
      name: 'gateway_ext_proc_phase_duration_seconds',
      help: 'Time the ext-proc spends on one ext_proc message, by phase',
      labelNames: ['phase'] as const,
      buckets: WORK_BUCKETS,
      registers,
    }),
    requestWorkSeconds: new HotHistogram({
      name: 'gateway_ext_proc_request_duration_seconds',
      help: 'Time the ext-proc spends on one request, all phases together (its share of the added latency)',
      buckets: WORK_BUCKETS,
      registers,
    }),
    requests: new HotCounter({
      name: 'gateway_requests_total',
      help: 'Requests seen by the gateway, by model, version, consumer, protocol and status class (2xx..5xx, or cancelled)',
      labelNames: ['model', 'version', 'consumer', 'protocol', 'status_class'] as const,
      registers,
    }),
    requestSeconds: new HotHistogram({
      name: 'gateway_request_duration_seconds',
      help: 'First request header to the end of the exchange seen by the ext-proc (end of the response stream when the body is processed)',
      labelNames: ['model', 'version'] as const,
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    responseHeadersSeconds: new HotHistogram({
      name: 'gateway_response_headers_duration_seconds',
      help: "First request header to the upstream's response headers",
      labelNames: ['model', 'version'] as const,
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    firstTokenSeconds: new HotHistogram({
      name: 'gateway_time_to_first_token_seconds',
      help: 'First request header to the first chunk of a streamed (SSE) response',
      labelNames: ['model', 'version'] as const,
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    routeDecisions: new HotCounter({
      name: 'gateway_route_decisions_total',
      help: 'Which version served each routed request and why (reason: default, split, sticky, header, path, alias:<name>; variant: experiment arm)',
      labelNames: ['model', 'version', 'reason', 'variant'] as const,
      registers,
    }),
    rejections: new HotCounter({
      name: 'gateway_rejections_total',
      help: 'Requests the gateway answered itself with an error, by reason (auth, validation, limits, routing, error), stable error code, model and consumer',
      labelNames: ['reason', 'code', 'model', 'consumer'] as const,
      registers,
    }),
    pluginErrors: new HotCounter({
      name: 'gateway_plugin_errors_total',
      help: 'Plugin hook failures (kind: error, timeout), by plugin instance and hook',
      labelNames: ['plugin', 'hook', 'kind'] as const,
      registers,
    }),
    streamsAborted: new HotCounter({
      name: 'gateway_ext_proc_streams_aborted_total',
      help: 'ext_proc streams the ext-proc ended itself with a gRPC error, by reason (out_of_order: a message Envoy would not send then; idle_timeout: no message for extProc.limits.streamIdleTimeoutMs; limit: past a per-stream bound; overloaded: past extProc.limits.maxStreams; internal: a bug)',
      labelNames: ['reason'] as const,
      registers,
    }),
    tokens: new HotCounter({
      name: 'gateway_tokens_total',
      help: 'OpenAI token usage reported by model servers (type: prompt, completion), by model, version and consumer',
      labelNames: ['model', 'version', 'consumer', 'type'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
