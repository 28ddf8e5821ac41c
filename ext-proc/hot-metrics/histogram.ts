import { format } from 'node:util';
import { register as globalRegistry } from 'prom-client';
import { LabelledMetric } from './labelled.js';
import { register, type LabelValue, type LabelsObject, type MetricDefinition } from './series.js';

/** prom-client's default buckets. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One labelled series of a histogram: a count per bucket (not cumulative), the sum and the count. */
export class HistogramSeries {
  readonly counts: number[];
  sum = 0;
  count = 0;
  live = false;

  constructor(
    private readonly owner: { readonly upperBounds: readonly number[]; expose(series: HistogramSeries): void },
    public labels: Record<string, LabelValue | undefined>,
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

  clear(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

type Definition<N extends readonly string[]> = MetricDefinition<N> & { buckets?: readonly number[] };

/** A value line of prom-client's histogram export, before its labels are merged. */
interface Line {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, LabelValue | undefined>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * A prom-client Histogram for the hot path: `labels(...values)` finds the series without
 * allocating, and `observe` counts into it. Registered in prom-client registries, which render
 * it exactly as they render prom-client's Histogram fed the same observations (hot-metrics.test.ts).
 */
export class HotHistogram<const N extends readonly string[] = readonly []> extends LabelledMetric<N, HistogramSeries> {
  readonly type = 'histogram';
  readonly upperBounds: readonly number[];

  constructor(definition: Definition<N>) {
    super(definition);
    this.upperBounds = Object.freeze([...(definition.buckets ?? DEFAULT_BUCKETS)]);
    if (this.labelNames.includes('le')) throw new Error('le is a reserved label keyword');
    if (this.upperBounds.some((b, i) => i > 0 && b <= (this.upperBounds[i - 1] as number))) throw new Error(`${this.name}: buckets must increase`);
    // prom-client shows an unlabelled histogram from the start (zeros), but not after a reset.
    if (this.labelNames.length === 0) this.expose(this.unlabelled());
    register(this, definition.registers ?? [globalRegistry]);
  }

  protected newSeries(labels: Record<string, LabelValue | undefined>): HistogramSeries {
    return new HistogramSeries(this, labels);
  }

  /** prom-client's `observe(labels?, value)`, quirks included (a falsy first argument other than 0 means no labels). */
  observe(labels: LabelsObject<N> | number, value?: number): void {
    const given: LabelsObject<N> | number = labels === 0 ? 0 : labels || {};
    if (typeof given !== 'object') return this.unlabelled().observe(given);
    this.seriesFor(given).observe(value as number);
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
