import { format } from 'node:util';
import { register as globalRegistry, type Aggregator } from 'prom-client';
import { SeriesIndex, checkDefinition, checkLabelNames, keysOf, labelsOf, NO_KEYS, NO_LABELS, register, type LabelsObject, type MetricDefinition, type Values } from './series.js';

/** prom-client's default buckets. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One labelled series of a histogram: a count per bucket (not cumulative), the sum and the count. */
export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;
  /** Whether the series is exposed: from its first observation until a reset. */
  live = false;

  constructor(
    private readonly owner: HotHistogram<readonly string[]>,
    public labels: Record<string, string | number | undefined>,
  ) {
    this.counts = owner.upperBounds.map(() => 0);
  }

  /** prom-client's `observe`, same check and error. */
  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
    if (!this.live) this.owner.expose(this);
    const bounds = this.owner.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number)++;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }
}

type Definition<N extends readonly string[]> = MetricDefinition<N> & { buckets?: readonly number[] };

/** A value line of prom-client's histogram export, before its labels are merged. */
interface Line {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string | number | undefined>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * A prom-client Histogram for the hot path: `labels(...values)` finds the series without
 * allocating, and `observe` counts into it. Registered in prom-client registries, which render
 * it exactly as they render prom-client's Histogram fed the same observations (hot-metrics.test.ts).
 */
export class HotHistogram<const N extends readonly string[] = readonly []> {
  readonly type = 'histogram';
  readonly name: string;
  readonly help: string;
  readonly labelNames: N;
  readonly aggregator: Aggregator;
  readonly upperBounds: readonly number[];
  private readonly index: SeriesIndex<HistogramSeries>;
  private exposed: HistogramSeries[] = [];

  constructor(definition: Definition<N>) {
    this.name = definition.name;
    this.help = definition.help;
    this.labelNames = definition.labelNames ?? ([] as readonly string[] as N);
    this.aggregator = definition.aggregator ?? 'sum';
    this.upperBounds = Object.freeze([...(definition.buckets ?? DEFAULT_BUCKETS)]);
    checkDefinition(this.name, this.help, this.labelNames);
    if (this.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    if (this.upperBounds.some((b, i) => i > 0 && b <= (this.upperBounds[i - 1] as number))) throw new Error(`${this.name}: buckets must increase`);
    this.index = new SeriesIndex(this.labelNames.length);
    // prom-client shows an unlabelled histogram from the start (zeros), but not after a reset.
    if (this.labelNames.length === 0) this.expose(this.seriesFor(NO_LABELS, NO_KEYS));
    register(this, definition.registers ?? [globalRegistry]);
  }

  /** The series for these label values (in `labelNames` order). */
  labels(...values: Values<N>): HistogramSeries {
    if (values.length !== this.labelNames.length) throw new Error(`Invalid number of arguments (${values.length}) for label names (${this.labelNames.length}) of ${this.name}`);
    const series = this.index.find(values) ?? this.index.add(values, new HistogramSeries(this, labelsOf(this.labelNames, values)));
    // Shown with these labels if this is its first use (since a reset), as prom-client would.
    if (!series.live) series.labels = labelsOf(this.labelNames, values);
    return series;
  }

  /** prom-client's `observe(labels?, value)`, quirks included (a falsy first argument other than 0 means no labels). */
  observe(labels: LabelsObject<N> | number, value?: number): void {
    const given: LabelsObject<N> | number = labels === 0 ? 0 : labels || {};
    if (typeof given !== 'object') return this.seriesFor(NO_LABELS, NO_KEYS).observe(given);
    checkLabelNames(this.labelNames, given);
    this.seriesFor(given).observe(value as number);
  }

  private seriesFor(labels: LabelsObject<N>, keys: ArrayLike<string | undefined> = keysOf(this.labelNames, labels)): HistogramSeries {
    const series = this.index.find(keys) ?? this.index.add(keys, new HistogramSeries(this, { ...labels }));
    if (!series.live) series.labels = { ...labels };
    return series;
  }

  /** @internal a series' first observation since the start or the last reset. */
  expose(series: HistogramSeries): void {
    series.live = true;
    this.exposed.push(series);
  }

  reset(): void {
    for (const series of this.exposed) {
      series.live = false;
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
    this.exposed = [];
  }

  /** prom-client's export for the text format: bucket lines carry `le`, the series' labels are shared. */
  async getForPromString() {
    const bucket = `${this.name}_bucket`;
    const values: Line[] = [];
    for (const s of this.exposed) {
      let acc = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: this.upperBounds[i] as number }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** prom-client's MetricObjectWithValues for a histogram, key for key: each line's labels with the series' after `le`. */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...line }) => ({ ...line, labels: Object.assign(labels, sharedLabels) })),
    };
  }
}
