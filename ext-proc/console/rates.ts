import type { Series, Snapshot } from './snapshots.js';

export type LabelFilter = Readonly<Record<string, string>>;

const matches = (labels: Readonly<Record<string, string>>, filter: LabelFilter) =>
  Object.entries(filter).every(([k, v]) => labels[k] === v);

const seriesKey = (labels: Readonly<Record<string, string>>) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}\u0000${labels[k]}`)
    .join('\u0001');

/**
 * How much each series of `metric` grew from `from` to `to`, summed by the `by` label (one
 * group, '', when `by` is undefined). A series that went down restarted (a new process):
 * its growth is its new value, as Prometheus' `increase()` counts it.
 */
export function increaseBy(from: Snapshot, to: Snapshot, metric: string, filter: LabelFilter = {}, by?: string): Map<string, number> {
  const before = new Map<string, number>();
  for (const s of from.metrics.get(metric) ?? []) before.set(seriesKey(s.labels), s.value);
  const out = new Map<string, number>();
  for (const s of to.metrics.get(metric) ?? []) {
    if (!matches(s.labels, filter)) continue;
    const prev = before.get(seriesKey(s.labels)) ?? 0;
    const grew = s.value >= prev ? s.value - prev : s.value;
    const group = by === undefined ? '' : (s.labels[by] ?? '');
    out.set(group, (out.get(group) ?? 0) + grew);
  }
  return out;
}

/** The total growth of the series matching `filter`. */
export function increase(from: Snapshot, to: Snapshot, metric: string, filter: LabelFilter = {}): number {
  return increaseBy(from, to, metric, filter).get('') ?? 0;
}

/** Per second, over the time between the two snapshots (0 when they are the same moment). */
export function rate(from: Snapshot, to: Snapshot, metric: string, filter: LabelFilter = {}): number {
  const seconds = (to.at - from.at) / 1000;
  return seconds > 0 ? increase(from, to, metric, filter) / seconds : 0;
}

/**
 * The `q` quantile of a histogram's observations between two snapshots, interpolated inside
 * the bucket it falls in (Prometheus' `histogram_quantile`). Undefined without observations.
 */
export function quantile(q: number, from: Snapshot, to: Snapshot, histogram: string, filter: LabelFilter = {}): number | undefined {
  const buckets = increaseBy(from, to, histogram, filter, 'le');
  const sorted = [...buckets].map(([le, count]) => ({ le: le === '+Inf' ? Infinity : Number(le), count })).sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let below = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      // Past the last finite bucket there is no upper bound to interpolate to: report that bound.
      if (b.le === Infinity) return lowerBound;
      const inBucket = b.count - below;
      return inBucket > 0 ? lowerBound + ((b.le - lowerBound) * (rank - below)) / inBucket : b.le;
    }
    lowerBound = b.le;
    below = b.count;
  }
  return lowerBound;
}

/** Shares (0..1) of each key in `counts`; empty when there is nothing to share. */
export function shares(counts: ReadonlyMap<string, number>): Record<string, number> {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  if (total <= 0) return out;
  for (const [k, v] of counts) out[k] = v / total;
  return out;
}

/**
 * Which versions served a model's routed requests between two snapshots, as shares, and how
 * many requests that is: the split the gateway really made (route decisions), to set beside
 * the configured weights.
 */
export function observedSplit(from: Snapshot, to: Snapshot, model: string): { shares: Record<string, number>; requests: number } {
  const byVersion = increaseBy(from, to, 'gateway_route_decisions_total', { model }, 'version');
  return { shares: shares(byVersion), requests: [...byVersion.values()].reduce((a, b) => a + b, 0) };
}

/** The configured split as shares: the weights, or all traffic on the default version. */
export function configuredSplit(versions: readonly string[], weights: Readonly<Record<string, number>> | undefined, defaultVersion: string | undefined): Record<string, number> {
  if (weights) return shares(new Map(Object.entries(weights)));
  const only = defaultVersion ?? versions[0];
  return only === undefined ? {} : { [only]: 1 };
}

/** The snapshot to measure a window from: the oldest one no older than `windowMs` before `to`. */
export function windowStart(history: readonly Snapshot[], to: Snapshot, windowMs: number): Snapshot {
  return history.find((s) => s.at >= to.at - windowMs) ?? to;
}

/**
 * A chart's points: `point(a, b)` for each step of the history (each snapshot against the
 * one `stride` before it), oldest first.
 */
export function seriesOver<T>(history: readonly Snapshot[], point: (from: Snapshot, to: Snapshot) => T, stride = 1): T[] {
  const out: T[] = [];
  for (let i = stride; i < history.length; i++) out.push(point(history[i - stride] as Snapshot, history[i] as Snapshot));
  return out;
}

export type { Series, Snapshot };
