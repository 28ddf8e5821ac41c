import fc from 'fast-check';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter } from './counter.js';
import { HotHistogram } from './histogram.js';

// The hot-path metrics replace prom-client's Counter and Histogram for speed only: fed the same
// operations, a registry holding ours renders the same text and JSON as one holding prom-client's,
// and so does the cluster's aggregation of several. Errors are the same ones too.

const NAMES = ['model', 'version', 'consumer', 'type'] as const;
type Name = (typeof NAMES)[number];
type Labels = Partial<Record<Name, string | number>>;
/** Label values as requests bring them: quotes, backslashes, newlines, unicode, empty, numbers. */
// Mostly a few values, so that operations meet the same series again (before and after resets).
const labelValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('', 'a', 'b') },
  { weight: 3, arbitrary: fc.constantFrom('v1', 'x"y', 'back\\slash', 'new\nline', 'ünï') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).filter((s) => !s.includes(':')) },
);
const labelsObject = (names: readonly Name[]) =>
  fc
    .tuple(fc.shuffledSubarray([...names]), fc.array(fc.oneof(labelValue, fc.integer({ min: 0, max: 3 })), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 19 }))
    // Now and then a label that was not declared: both sides refuse it.
    .map(([keys, values, dice]) => ({ ...Object.fromEntries(keys.map((k, i) => [k, values[i] as string | number])), ...(dice === 0 && { bogus: 'x' }) }) as Labels);
/** Observed values, bucket bounds included, and a few invalid ones. */
const amount = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1, max: 100, noNaN: true }) },
  { weight: 3, arbitrary: fc.constantFrom(0, 0.0005, 0.001, 0.1, 1, 2.5, 60, 10, 5e-5, 2e-5) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -3) },
);

type Op =
  | { kind: 'positional'; values: string[]; value: number | undefined }
  | { kind: 'object'; labels: Labels; value: number | undefined }
  | { kind: 'bare'; value: number | undefined }
  | { kind: 'reset' };
const ops = (names: readonly Name[]) =>
  fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('positional' as const), values: fc.array(labelValue, { minLength: names.length, maxLength: names.length }), value: fc.option(amount, { nil: undefined }) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('object' as const), labels: labelsObject(names), value: fc.option(amount, { nil: undefined }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('bare' as const), value: fc.option(amount, { nil: undefined }) }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
    ),
    { maxLength: 60 },
  );
const labelNames = fc.shuffledSubarray([...NAMES]);

/** Runs `apply`, returning the error's type and message (or '') so both sides' failures compare. */
function outcome(apply: () => void): string {
  try {
    apply();
    return '';
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
}

interface Side {
  registry: Registry;
  outcomes: string[];
}

async function expectSameExposition(ours: Side, theirs: Side): Promise<void> {
  expect(ours.outcomes).toEqual(theirs.outcomes);
  expect(await ours.registry.metrics()).toBe(await theirs.registry.metrics());
  const [oursJson, theirsJson] = [await ours.registry.getMetricsAsJSON(), await theirs.registry.getMetricsAsJSON()];
  expect(JSON.stringify(oursJson)).toBe(JSON.stringify(theirsJson));
  // Two workers reporting the same: what the primary sums and shows (cluster/pool.ts).
  const aggregate = async (json: typeof oursJson) => AggregatorRegistry.aggregate([json, structuredClone(json)]).metrics();
  expect(await aggregate(oursJson)).toBe(await aggregate(theirsJson));
}

describe('hot-path metrics expose what prom-client exposes for the same operations', () => {
  it('counters', async () => {
    await fc.assert(
      fc.asyncProperty(labelNames, labelNames.chain((names) => fc.tuple(fc.constant(names), ops(names))), async (_, [names, list]) => {
        const ours: Side = { registry: new Registry(), outcomes: [] };
        const theirs: Side = { registry: new Registry(), outcomes: [] };
        const definition = { name: 'gateway_things_total', help: 'Things, "quoted" \\ and\nnewline', labelNames: names };
        const hot = new HotCounter({ ...definition, registers: [ours.registry] });
        const reference = new Counter({ ...definition, registers: [theirs.registry] });
        for (const op of list) {
          if (op.kind === 'positional') {
            ours.outcomes.push(outcome(() => hot.labels(...(op.values as [])).inc(op.value)));
            theirs.outcomes.push(outcome(() => reference.labels(...op.values).inc(op.value)));
          } else if (op.kind === 'object') {
            ours.outcomes.push(outcome(() => hot.inc(op.labels, op.value)));
            theirs.outcomes.push(outcome(() => reference.inc(op.labels, op.value as number)));
          } else if (op.kind === 'bare') {
            ours.outcomes.push(outcome(() => hot.inc(op.value)));
            theirs.outcomes.push(outcome(() => reference.inc(op.value)));
          } else {
            hot.reset();
            reference.reset();
          }
        }
        await expectSameExposition(ours, theirs);
      }),
      { numRuns: 1000 },
    );
  });

  it('histograms, with the gateway buckets and the default ones', async () => {
    const bucketSets = fc.constantFrom<(number[] | undefined)[]>(undefined, [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25], [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    await fc.assert(
      fc.asyncProperty(bucketSets, labelNames.chain((names) => fc.tuple(fc.constant(names), ops(names))), async (buckets, [names, list]) => {
        const ours: Side = { registry: new Registry(), outcomes: [] };
        const theirs: Side = { registry: new Registry(), outcomes: [] };
        const definition = { name: 'gateway_thing_seconds', help: 'How long things take', labelNames: names, ...(buckets && { buckets }) };
        const hot = new HotHistogram({ ...definition, registers: [ours.registry] });
        const reference = new Histogram({ ...definition, registers: [theirs.registry] });
        for (const op of list) {
          const value = op.kind === 'reset' ? 0 : (op.value ?? 0.01);
          if (op.kind === 'positional') {
            ours.outcomes.push(outcome(() => hot.labels(...(op.values as [])).observe(value)));
            theirs.outcomes.push(outcome(() => reference.labels(...op.values).observe(value)));
          } else if (op.kind === 'object') {
            ours.outcomes.push(outcome(() => hot.observe(op.labels, value)));
            theirs.outcomes.push(outcome(() => reference.observe(op.labels, value)));
          } else if (op.kind === 'bare') {
            ours.outcomes.push(outcome(() => hot.observe(value)));
            theirs.outcomes.push(outcome(() => reference.observe(value)));
          } else {
            hot.reset();
            reference.reset();
          }
        }
        await expectSameExposition(ours, theirs);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuse what prom-client refuses when defined', () => {
    const registers = [new Registry()];
    expect(() => new HotCounter({ name: 'bad name', help: 'x', registers })).toThrow('Invalid metric name');
    expect(() => new HotCounter({ name: 'ok_total', help: 'x', labelNames: ['bad-label'], registers })).toThrow('Invalid label name');
    expect(() => new HotHistogram({ name: 'ok_seconds', help: 'x', labelNames: ['le'], registers })).toThrow('le is a reserved label keyword');
    new HotCounter({ name: 'dup_total', help: 'x', registers });
    expect(() => new HotCounter({ name: 'dup_total', help: 'x', registers })).toThrow('already been registered');
  });
});
