import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The ext-proc's Prometheus metrics, one registry per process. Names follow Prometheus
 * conventions (base units in the name, `_total` on counters); `model`/`version` label values
 * join with Envoy's `envoy_cluster_name="<model>@<version>"`.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_ext_proc_' });
  return {
    registry,
    configReloads: new Counter({
      name: 'gateway_config_reloads_total',
      help: 'Config reload attempts by result (success, failure)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    configInfo: new Gauge({
      name: 'gateway_config_info',
      help: 'The active config: 1 for its hash',
      labelNames: ['hash'] as const,
      registers: [registry],
    }),
    phaseSeconds: new Histogram({
      name: 'gateway_ext_proc_phase_duration_seconds',
      help: "Time the ext-proc spends on one ext_proc message, by phase",
      labelNames: ['phase'] as const,
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
