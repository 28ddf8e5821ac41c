import type { GatewayConfig, ModelConfig } from '../config/schema.js';
import { clusterName } from '../config/schema.js';
import type { ClusterHealth, EndpointHealth } from './envoy-clusters.js';
import { configuredSplit, increaseBy, observedSplit, quantile, rate, seriesOver, windowStart, type Snapshot } from './rates.js';

/** How far back the headline numbers (rates, latencies, consumers) look. */
export const STATS_WINDOW_MS = 60_000;
/** How far back the observed split looks: long enough to be more than noise. */
export const SPLIT_WINDOW_MS = 5 * 60_000;

const ERROR_CLASSES = ['4xx', '5xx', 'cancelled'] as const;

export interface TrafficStats {
  requestsPerSecond: number;
  /** Requests per second by status class (`2xx`, `4xx`, `5xx`, `cancelled`, …). */
  byClass: Record<string, number>;
  /** Share of requests that ended in 4xx, 5xx or a cancel. */
  errorRatio: number;
  p50Seconds?: number;
  p99Seconds?: number;
  /** Time to first token (streams), median. */
  ttftP50Seconds?: number;
  /** Completion tokens per second (OpenAI). */
  tokensPerSecond: number;
}

export interface Charts {
  requestsPerSecond: number[];
  errorsPerSecond: number[];
  /** Missing points (no requests in that step) are null: a gap, not a zero. */
  p99Seconds: (number | null)[];
  ttftP50Seconds: (number | null)[];
  tokensPerSecond: number[];
}

export interface VersionView {
  name: string;
  cluster: string;
  /** Endpoints as configured, with Envoy's view of each (unknown when Envoy does not list it). */
  endpoints: EndpointHealth[];
  stats: TrafficStats;
  charts: Charts;
}

export interface ModelView {
  name: string;
  protocol: string;
  aliases: Record<string, string>;
  defaultVersion: string;
  configuredSplit: Record<string, number>;
  observedSplit: { shares: Record<string, number>; requests: number; windowSeconds: number };
  shadow?: { version: string; percent: number };
  fallback?: string;
  stickyKey?: string;
  experiment?: string;
  versions: VersionView[];
}

const labelsFor = (model: string, version: string) => ({ model, version });

export function trafficStats(from: Snapshot, to: Snapshot, filter: Record<string, string>): TrafficStats {
  const seconds = Math.max((to.at - from.at) / 1000, 1e-9);
  const byClassCount = increaseBy(from, to, 'gateway_requests_total', filter, 'status_class');
  const total = [...byClassCount.values()].reduce((a, b) => a + b, 0);
  const errors = ERROR_CLASSES.reduce((sum, c) => sum + (byClassCount.get(c) ?? 0), 0);
  const byClass: Record<string, number> = {};
  for (const [c, n] of byClassCount) if (n > 0) byClass[c] = n / seconds;
  return {
    requestsPerSecond: to.at > from.at ? total / seconds : 0,
    byClass,
    errorRatio: total > 0 ? errors / total : 0,
    p50Seconds: quantile(0.5, from, to, 'gateway_request_duration_seconds', filter),
    p99Seconds: quantile(0.99, from, to, 'gateway_request_duration_seconds', filter),
    ttftP50Seconds: quantile(0.5, from, to, 'gateway_time_to_first_token_seconds', filter),
    tokensPerSecond: rate(from, to, 'gateway_tokens_total', { ...filter, type: 'completion' }),
  };
}

export function charts(history: readonly Snapshot[], model: string, version: string): Charts {
  const mv = labelsFor(model, version);
  const errorsPerSecond = (a: Snapshot, b: Snapshot) =>
    ERROR_CLASSES.reduce((sum, c) => sum + rate(a, b, 'gateway_requests_total', { ...mv, status_class: c }), 0);
  return {
    requestsPerSecond: seriesOver(history, (a, b) => rate(a, b, 'gateway_requests_total', mv)),
    errorsPerSecond: seriesOver(history, errorsPerSecond),
    p99Seconds: seriesOver(history, (a, b) => quantile(0.99, a, b, 'gateway_request_duration_seconds', mv) ?? null),
    ttftP50Seconds: seriesOver(history, (a, b) => quantile(0.5, a, b, 'gateway_time_to_first_token_seconds', mv) ?? null),
    tokensPerSecond: seriesOver(history, (a, b) => rate(a, b, 'gateway_tokens_total', { ...mv, type: 'completion' })),
  };
}

function endpointsOf(model: string, version: string, configured: readonly string[], clusters: ClusterHealth): EndpointHealth[] {
  const seen = clusters.get(clusterName(model, version));
  if (!seen) return configured.map((address) => ({ address, health: 'unknown', healthy: false }));
  // Envoy resolves what it was given; list its hosts, and configured ones it does not know yet.
  const known = new Set(seen.map((e) => e.address));
  return [...seen, ...configured.filter((a) => !known.has(a)).map((address) => ({ address, health: 'not in Envoy yet', healthy: false }))];
}

export function modelView(name: string, m: ModelConfig, history: readonly Snapshot[], clusters: ClusterHealth): ModelView {
  const now = history.at(-1) as Snapshot;
  const statsFrom = windowStart(history, now, STATS_WINDOW_MS);
  const splitFrom = windowStart(history, now, SPLIT_WINDOW_MS);
  const versionNames = Object.keys(m.versions);
  const defaultVersion = m.defaultVersion ?? (versionNames[0] as string);
  const t = m.traffic;
  return {
    name,
    protocol: m.protocol,
    aliases: { ...m.aliases },
    defaultVersion,
    configuredSplit: configuredSplit(versionNames, t?.weights, defaultVersion),
    observedSplit: { ...observedSplit(splitFrom, now, name), windowSeconds: Math.round((now.at - splitFrom.at) / 1000) },
    ...(t?.shadow && { shadow: { version: t.shadow.version, percent: t.shadow.percent } }),
    ...(t?.fallback !== undefined && { fallback: t.fallback }),
    ...(t?.stickyKey && { stickyKey: 'header' in t.stickyKey ? `header ${t.stickyKey.header}` : 'consumer' }),
    ...(t?.experiment !== undefined && { experiment: t.experiment }),
    versions: versionNames.map((v) => ({
      name: v,
      cluster: clusterName(name, v),
      endpoints: endpointsOf(name, v, (m.versions[v] as { endpoints: string[] }).endpoints, clusters),
      stats: trafficStats(statsFrom, now, labelsFor(name, v)),
      charts: charts(history, name, v),
    })),
  };
}

export function modelsView(config: GatewayConfig, history: readonly Snapshot[], clusters: ClusterHealth): ModelView[] {
  return Object.entries(config.models).map(([name, m]) => modelView(name, m, history, clusters));
}

/** The whole gateway over the stats window: every request, routed or not. */
export function totals(history: readonly Snapshot[]): TrafficStats & { rejectionsByReason: Record<string, number> } {
  const now = history.at(-1) as Snapshot;
  const from = windowStart(history, now, STATS_WINDOW_MS);
  return {
    ...trafficStats(from, now, {}),
    rejectionsByReason: Object.fromEntries(increaseBy(from, now, 'gateway_rejections_total', {}, 'reason')),
  };
}
