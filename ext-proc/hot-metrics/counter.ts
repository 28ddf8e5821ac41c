import { format } from 'node:util';
import { register as globalRegistry } from 'prom-client';
import { LabelledMetric } from './labelled.js';
import { register, type LabelValue, type LabelsObject, type MetricDefinition } from './series.js';

/** One labelled series of a counter, held by callers that count it again and again. */
export class CounterSeries {
  value = 0;
  live = false;

  constructor(
    private readonly owner: { expose(series: CounterSeries): void },
    public labels: Record<string, LabelValue | undefined>,
  ) {}

  /** prom-client's `inc`, same checks and errors (NaN passes there too). */
  inc(value?: number): void {
    if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
    if (value !== undefined && value < 0) throw new Error('It is not possible to decrease a counter');
    if (!this.live) this.owner.expose(this);
    this.value += value ?? 1;
  }

  clear(): void {
    this.value = 0;
  }
}

/**
 * A prom-client Counter for the hot path: `labels(...values)` finds the series without
 * allocating, and `inc` adds to it. Registered in prom-client registries, which render it
 * exactly as they render prom-client's Counter fed the same increments (hot-metrics.test.ts).
 */
export class HotCounter<const N extends readonly string[] = readonly []> extends LabelledMetric<N, CounterSeries> {
  readonly type = 'counter';

  constructor(definition: MetricDefinition<N>) {
    super(definition);
    this.reset();
    register(this, definition.registers ?? [globalRegistry]);
  }

  protected newSeries(labels: Record<string, LabelValue | undefined>): CounterSeries {
    return new CounterSeries(this, labels);
  }

  /** prom-client's `inc(labels?, value?)`. */
  inc(labels?: LabelsObject<N> | number, value?: number): void {
    if (typeof labels !== 'object' || labels === null) return this.unlabelled().inc(labels);
    this.seriesFor(labels).inc(value);
  }

  /** An unlabelled counter shows 0 after a reset, as prom-client's. */
  override reset(): void {
    super.reset();
    if (this.labelNames.length === 0) this.unlabelled().inc(0);
  }

  /** prom-client's MetricObjectWithValues for a counter, key for key. */
  async get() {
    return {
      help: this.help,
      name: this.name,
      type: this.type,
      values: this.exposed.map((s) => ({ value: s.value, labels: s.labels })),
      aggregator: this.aggregator,
    };
  }
}
