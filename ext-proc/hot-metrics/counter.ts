import { format } from 'node:util';
import { register as globalRegistry, type Aggregator } from 'prom-client';
import { SeriesIndex, checkDefinition, checkLabelNames, keysOf, labelsOf, NO_KEYS, NO_LABELS, register, type LabelsObject, type MetricDefinition, type Values } from './series.js';

/** One labelled series of a counter, held by callers that count it again and again. */
export class CounterSeries {
  value = 0;
  /** Whether the series is exposed: from its first increment until a reset. */
  live = false;

  constructor(
    private readonly owner: HotCounter<readonly string[]>,
    public labels: Record<string, string | number | undefined>,
  ) {}

  /** prom-client's `inc`, same checks and errors (NaN passes there too). */
  inc(value?: number): void {
    if (value && !Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${format(value)}`);
    if (value !== undefined && value < 0) throw new Error('It is not possible to decrease a counter');
    if (!this.live) this.owner.expose(this);
    this.value += value ?? 1;
  }
}

/**
 * A prom-client Counter for the hot path: `labels(...values)` finds the series without
 * allocating, and `inc` adds to it. Registered in prom-client registries, which render it
 * exactly as they render prom-client's Counter fed the same increments (hot-metrics.test.ts).
 */
export class HotCounter<const N extends readonly string[] = readonly []> {
  readonly type = 'counter';
  readonly name: string;
  readonly help: string;
  readonly labelNames: N;
  readonly aggregator: Aggregator;
  private readonly index: SeriesIndex<CounterSeries>;
  private exposed: CounterSeries[] = [];

  constructor(definition: MetricDefinition<N>) {
    this.name = definition.name;
    this.help = definition.help;
    this.labelNames = definition.labelNames ?? ([] as readonly string[] as N);
    this.aggregator = definition.aggregator ?? 'sum';
    checkDefinition(this.name, this.help, this.labelNames);
    this.index = new SeriesIndex(this.labelNames.length);
    this.reset();
    register(this, definition.registers ?? [globalRegistry]);
  }

  /** The series for these label values (in `labelNames` order). */
  labels(...values: Values<N>): CounterSeries {
    if (values.length !== this.labelNames.length) throw new Error(`Invalid number of arguments (${values.length}) for label names (${this.labelNames.length}) of ${this.name}`);
    const series = this.index.find(values) ?? this.index.add(values, new CounterSeries(this, labelsOf(this.labelNames, values)));
    // Shown with these labels if this is its first use (since a reset), as prom-client would.
    if (!series.live) series.labels = labelsOf(this.labelNames, values);
    return series;
  }

  /** prom-client's `inc(labels?, value?)`: the labels object of a series' first increment is the one shown. */
  inc(labels?: LabelsObject<N> | number, value?: number): void {
    if (typeof labels !== 'object' || labels === null) return this.seriesFor(NO_LABELS, NO_KEYS).inc(labels);
    checkLabelNames(this.labelNames, labels);
    this.seriesFor(labels).inc(value);
  }

  private seriesFor(labels: LabelsObject<N>, keys: ArrayLike<string | undefined> = keysOf(this.labelNames, labels)): CounterSeries {
    const series = this.index.find(keys) ?? this.index.add(keys, new CounterSeries(this, { ...labels }));
    if (!series.live) series.labels = { ...labels };
    return series;
  }

  /** @internal a series' first increment since the start or the last reset. */
  expose(series: CounterSeries): void {
    series.live = true;
    this.exposed.push(series);
  }

  /** Series disappear until counted again; an unlabelled counter shows 0, as prom-client's. */
  reset(): void {
    for (const series of this.exposed) {
      series.live = false;
      series.value = 0;
    }
    this.exposed = [];
    if (this.labelNames.length === 0) this.seriesFor(NO_LABELS, NO_KEYS).inc(0);
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
