// The bench's arithmetic: percentiles of one run's latencies, and median and spread of a figure
// over the interleaved rounds. Pure functions (unit-tested in test/unit/bench-stats.test.ts).

/**
 * The q-quantile (0 < q ≤ 1) of ascending-sorted values, nearest-rank method: the smallest
 * value with at least q of the samples at or below it. NaN for no samples.
 */
export function percentile(sortedAsc: readonly number[], q: number): number {
  if (sortedAsc.length === 0) return NaN;
  const rank = Math.ceil(q * sortedAsc.length);
  return sortedAsc[Math.min(sortedAsc.length, Math.max(1, rank)) - 1] as number;
}

export function median(values: readonly number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** A figure over the rounds: its median and its spread (lowest and highest round). */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Rounds that produced a finite value. */
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  const v = values.filter(Number.isFinite);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/**
 * Per-round ratios of a figure against the same round's reference (the floor), summarised:
 * pairing by round cancels what the shared machine did to both in that round.
 */
export function ratios(values: readonly number[], reference: readonly number[]): Summary {
  return summarize(values.map((v, i) => v / (reference[i] ?? NaN)));
}

/** Median and interquartile range of paired differences (e.g. per-slice p50 minus the floor's). */
export interface Spread {
  median: number;
  q25: number;
  q75: number;
  n: number;
}

export function pairedDifferences(values: readonly number[], reference: readonly number[]): Spread {
  const d = values.map((v, i) => v - (reference[i] ?? NaN)).filter(Number.isFinite).sort((a, b) => a - b);
  if (d.length === 0) return { median: NaN, q25: NaN, q75: NaN, n: 0 };
  return { median: median(d), q25: percentile(d, 0.25), q75: percentile(d, 0.75), n: d.length };
}
