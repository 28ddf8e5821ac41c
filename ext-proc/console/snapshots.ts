import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** One series of a metric: its labels (histogram buckets carry `le`) and its value. */
export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * The registry's counters and histograms at one moment. Histograms are kept as their
 * `_bucket` series only: quantiles and counts both come from the buckets.
 */
export interface Snapshot {
  /** Unix time in milliseconds. */
  readonly at: number;
  readonly metrics: ReadonlyMap<string, readonly Series[]>;
}

/** Where metrics come from: one process's registry, or an aggregate of worker registries. */
export type MetricsSource = () => Promise<MetricObjectWithValues<MetricValue<string>>[]>;

/** The metrics the console reads; everything else in the registry is left out of the ring. */
export const CONSOLE_METRICS = [
  'gateway_requests_total',
  'gateway_rejections_total',
  'gateway_route_decisions_total',
  'gateway_tokens_total',
  'gateway_request_duration_seconds',
  'gateway_time_to_first_token_seconds',
] as const;

const asStrings = (labels: Partial<Record<string, string | number>>): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (v !== undefined) out[k] = String(v);
  return out;
};

/** A snapshot of the wanted metrics out of `getMetricsAsJSON()`'s shape. */
export function toSnapshot(at: number, json: readonly MetricObjectWithValues<MetricValue<string>>[], wanted: readonly string[] = CONSOLE_METRICS): Snapshot {
  const metrics = new Map<string, Series[]>();
  for (const metric of json) {
    if (!wanted.includes(metric.name)) continue;
    const histogram = String(metric.type) === 'histogram';
    const series: Series[] = [];
    for (const v of metric.values) {
      const named = (v as { metricName?: string }).metricName;
      if (histogram && named !== `${metric.name}_bucket`) continue;
      series.push({ labels: asStrings(v.labels), value: v.value });
    }
    metrics.set(metric.name, series);
  }
  return { at, metrics };
}

/**
 * A ring of snapshots taken every `intervalMs`, `capacity` deep: the history the console's
 * rates and charts are differences of. Nothing is counted twice: the registry is the only
 * bookkeeping, this only remembers what it said.
 */
export class SnapshotRing {
  private readonly ring: Snapshot[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: MetricsSource,
    readonly intervalMs: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(): Promise<Snapshot> {
    return toSnapshot(this.now(), await this.source());
  }

  push(snapshot: Snapshot): void {
    this.ring.push(snapshot);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
  }

  start(onError: (err: unknown) => void): this {
    const tick = () => void this.take().then((s) => this.push(s), onError);
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The stored snapshots, oldest first, followed by `head` (the registry now). */
  history(head?: Snapshot): Snapshot[] {
    return head ? [...this.ring, head] : [...this.ring];
  }
}
