import type { Aggregator } from 'prom-client';
import { SeriesIndex, checkDefinition, checkLabelNames, keysOf, labelsOf, NO_KEYS, type LabelValue, type LabelsObject, type MetricDefinition, type Values } from './series.js';

/** What a counter's and a histogram's series have in common. */
export interface Series {
  /** Whether the series is exposed: from its first use until a reset. */
  live: boolean;
  /** The labels it is shown with. */
  labels: Record<string, LabelValue | undefined>;
  /** Back to zero, for a reset. */
  clear(): void;
}

/**
 * A metric's series by label values, and which of them are exposed, in the order prom-client
 * shows them (first use since the start or the last reset). The labels a series is shown with
 * are those of its first use, as prom-client keeps the labels object of the first call.
 */
export abstract class LabelledMetric<N extends readonly string[], S extends Series> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: N;
  readonly aggregator: Aggregator;
  private readonly index: SeriesIndex<S>;
  protected exposed: S[] = [];

  constructor(definition: MetricDefinition<N>) {
    this.name = definition.name;
    this.help = definition.help;
    this.labelNames = definition.labelNames ?? ([] as readonly string[] as N);
    this.aggregator = definition.aggregator ?? 'sum';
    checkDefinition(this.name, this.help, this.labelNames);
    this.index = new SeriesIndex(this.labelNames.length);
  }

  protected abstract newSeries(labels: Record<string, LabelValue | undefined>): S;

  /** The series for these label values (in `labelNames` order). */
  labels(...values: Values<N>): S {
    if (values.length !== this.labelNames.length) throw new Error(`Invalid number of arguments (${values.length}) for label names (${this.labelNames.length}) of ${this.name}`);
    const series = this.index.find(values) ?? this.index.add(values, this.newSeries(labelsOf(this.labelNames, values)));
    // Shown with these labels if this is its first use (since a reset), as prom-client would.
    if (!series.live) series.labels = labelsOf(this.labelNames, values);
    return series;
  }

  /** The series for a labels object (prom-client's `inc(labels)`, `observe(labels)`), after checking its names. */
  protected seriesFor(labels: LabelsObject<N>): S {
    checkLabelNames(this.labelNames, labels);
    const keys = keysOf(this.labelNames, labels);
    const series = this.index.find(keys) ?? this.index.add(keys, this.newSeries({ ...labels }));
    if (!series.live) series.labels = { ...labels };
    return series;
  }

  /** The series of no labels (all absent). */
  protected unlabelled(): S {
    const series = this.index.find(NO_KEYS) ?? this.index.add(NO_KEYS, this.newSeries({}));
    if (!series.live) series.labels = {};
    return series;
  }

  /** @internal a series' first use since the start or the last reset. */
  expose(series: S): void {
    series.live = true;
    this.exposed.push(series);
  }

  /** Series disappear until used again. */
  reset(): void {
    for (const series of this.exposed) {
      series.live = false;
      series.clear();
    }
    this.exposed = [];
  }
}
