import { inspect } from 'node:util';
import type { Aggregator, Metric, Registry } from 'prom-client';

/** A label's value as prom-client takes it in a labels object. */
export type LabelValue = string | number;
/** The positional label values of a metric whose label names are `N`, all strings. */
export type Values<N extends readonly string[]> = { [K in keyof N]: string };
/** A labels object as prom-client's `inc(labels)` / `observe(labels)` take it. */
export type LabelsObject<N extends readonly string[]> = Partial<Record<N[number], LabelValue>>;

/** The label names prom-client accepts (its `labelRegexp`). */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Checks a definition as prom-client's Metric constructor does, with the same messages. */
export function checkDefinition(name: string, help: string, labelNames: readonly string[]): void {
  if (!help) throw new Error('Missing mandatory help parameter');
  if (!name) throw new Error('Missing mandatory name parameter');
  if (!METRIC_NAME.test(name)) throw new Error('Invalid metric name');
  if (!labelNames.every((l) => LABEL_NAME.test(l))) throw new Error('Invalid label name');
}

/** prom-client's check that a labels object only uses declared names (same message). */
export function checkLabelNames(labelNames: readonly string[], labels: object): void {
  for (const label in labels) {
    if (!labelNames.includes(label)) throw new Error(`Added label "${label}" is not included in initial labelset: ${inspect(labelNames)}`);
  }
}

/**
 * A registry holds any object with prom-client's metric shape (`name`, `get()`, `reset()`...);
 * its TypeScript signature names prom-client's own classes, hence the cast.
 */
export function register(metric: object, registers: readonly Registry[]): void {
  for (const registry of registers) registry.registerMetric(metric as unknown as Metric);
}

/** A node of the index: one Map per label, the series at the last level. */
type Node<S> = Map<string | undefined, Node<S> | S>;

/**
 * The series of one metric by label values, one Map level per label: finding a series that
 * exists allocates nothing (no labels object, no hash string), which is the point of this
 * module. The key of a label absent from a labels object is `undefined`; numbers are keyed
 * by their text, as prom-client's hash does (`1` and `'1'` are one series).
 */
export class SeriesIndex<S> {
  private readonly root: Node<S> = new Map();

  constructor(private readonly depth: number) {}

  /** The series for these values (in label-name order), if there is one. */
  find(values: ArrayLike<string | undefined>): S | undefined {
    let node: Node<S> | undefined = this.root;
    const last = this.depth - 1;
    for (let i = 0; i < last && node !== undefined; i++) node = node.get(values[i]) as Node<S> | undefined;
    return node?.get(values[last]) as S | undefined;
  }

  add(values: ArrayLike<string | undefined>, series: S): S {
    let node = this.root;
    const last = this.depth - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(values[i]) as Node<S> | undefined;
      if (next === undefined) node.set(values[i], (next = new Map()));
      node = next;
    }
    node.set(values[last], series);
    return series;
  }
}

/** The keys of no labels: `undefined` at every index, as keysOf gives for `{}`. */
export const NO_KEYS: readonly undefined[] = Object.freeze([]);

/** A labels object's values in label-name order, keyed as prom-client's hash keys them. */
export function keysOf(labelNames: readonly string[], labels: Partial<Record<string, LabelValue>>): (string | undefined)[] {
  return labelNames.map((name) => {
    const value = labels[name];
    return value === undefined ? undefined : String(value);
  });
}

/** The labels object prom-client would hold for positional values (its `getLabels`). */
export function labelsOf(labelNames: readonly string[], values: ArrayLike<string>): Record<string, string> {
  const labels: Record<string, string> = {};
  for (let i = 0; i < labelNames.length; i++) labels[labelNames[i] as string] = values[i] as string;
  return labels;
}

/** What a registry needs of a metric besides its values. */
export interface MetricDefinition<N extends readonly string[]> {
  name: string;
  help: string;
  labelNames?: N;
  aggregator?: Aggregator;
  registers?: readonly Registry[];
}
