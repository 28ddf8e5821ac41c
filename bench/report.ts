// The run's report: markdown tables ready for docs/performance.md. Pure functions over the
// measured rounds (unit-tested in test/unit/bench-report.test.ts).
import type { InterleavedResult } from './interleaved.js';
import type { PhaseCost, RoundResult } from './measure.js';
import type { Episode } from './open-loop.js';
import { median, pairedDifferences, ratios, summarize, type Spread, type Summary } from './stats.js';
import { isOurs, type TargetKind } from './targets.js';

export interface TargetResult {
  key: string;
  title: string;
  kind: TargetKind;
  /** Index = round; undefined where the round failed to run this target. */
  rounds: (RoundResult | undefined)[];
  errors: string[];
}

export interface RunInfo {
  machine: string[];
  loadBefore: number[];
  loadAfter: number[];
  command: string;
  fixedRate: number;
}

type Figure = (r: RoundResult) => number;

const byRound = (t: TargetResult, pick: Figure) => t.rounds.map((r) => (r ? pick(r) : NaN));

/** "1.23" below 10, "12.3" below 100, else an integer: three significant figures or so. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a < 10 ? v.toFixed(2) : a < 100 ? v.toFixed(1) : v.toFixed(0);
}

/** "median (min–max)", or the bare value for one round. */
export function fmt(s: Summary, unit = ''): string {
  if (s.n === 0) return '–';
  if (s.n === 1 || s.min === s.max) return `${num(s.median)}${unit}`;
  return `${num(s.median)}${unit} (${num(s.min)}–${num(s.max)})`;
}

const fig = (t: TargetResult, pick: Figure, unit = '') => fmt(summarize(byRound(t, pick)), unit);

const sumCpu = (c: PhaseCost) => c.envoyCpuUs + c.extProcCpuUs;
const problems = (r: RoundResult) =>
  r.saturation.failed + r.saturation.non2xx + r.fixed.failed + r.fixed.non2xx + r.half.failed + r.half.non2xx;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---|').join('')}`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function throughputTable(ts: TargetResult[], fixedRate: number): string {
  return table(
    ['target', 'saturation req/s', 'Envoy µs/req @ sat', 'ext-proc µs/req @ sat', 'sum µs/req @ sat', `Envoy µs/req @ ${fixedRate}/s`, `ext-proc µs/req @ ${fixedRate}/s`, `sum µs/req @ ${fixedRate}/s`, 'ext-proc peak RSS', 'failed + non-2xx'],
    ts.map((t) => [
      t.title,
      fig(t, (r) => r.saturation.rps),
      fig(t, (r) => r.saturation.cost.envoyCpuUs),
      t.kind === 'plain' ? '–' : fig(t, (r) => r.saturation.cost.extProcCpuUs),
      fig(t, (r) => sumCpu(r.saturation.cost)),
      fig(t, (r) => r.fixed.cost.envoyCpuUs),
      t.kind === 'plain' ? '–' : fig(t, (r) => r.fixed.cost.extProcCpuUs),
      fig(t, (r) => sumCpu(r.fixed.cost)),
      t.kind === 'plain' ? '–' : fig(t, (r) => Math.max(0, ...r.extProcPeakRss) / 2 ** 20, ' MB'),
      String(t.rounds.reduce((a, r) => a + (r ? problems(r) : 0), 0)) + (t.errors.length ? ` (${t.errors.length} round(s) failed)` : ''),
    ]),
  );
}

/** A round where vegeta sent less than 95 % of the asked rate: the machine could not keep up. */
const fellBehind = (t: TargetResult) => t.rounds.some((r) => r && [r.fixed, r.half].some((p) => p.achievedRate < 0.95 * p.rate));

export function latencyTable(ts: TargetResult[], fixedRate: number): string {
  return table(
    ['target', `p50 @ ${fixedRate}/s (ms)`, `p99 @ ${fixedRate}/s`, `p99.9 @ ${fixedRate}/s`, '½ saturation (req/s)', 'p50 @ ½ sat', 'p99 @ ½ sat', 'p99.9 @ ½ sat'],
    ts.map((t) => [
      t.title + (fellBehind(t) ? ' ⚠ generator fell behind' : ''),
      fig(t, (r) => r.fixed.p50Ms),
      fig(t, (r) => r.fixed.p99Ms),
      fig(t, (r) => r.fixed.p999Ms),
      fig(t, (r) => r.half.rate),
      fig(t, (r) => r.half.p50Ms),
      fig(t, (r) => r.half.p99Ms),
      fig(t, (r) => r.half.p999Ms),
    ]),
  );
}

/** Per-round ratios of a figure against the floor's in the same round. */
function vsFloor(t: TargetResult, floor: TargetResult, pick: Figure): Summary {
  return ratios(byRound(t, pick), byRound(floor, pick));
}

export function floorTable(ts: TargetResult[], floor: TargetResult, fixedRate: number, interleaved?: InterleavedResult): string {
  const x = (s: Summary) => fmt(s, '×');
  const sliced = interleaved ? [`p50 added, interleaved slices (ms)`] : [];
  return table(
    ['target', 'throughput', 'ext-proc CPU @ sat', 'Envoy + ext-proc CPU @ sat', `ext-proc CPU @ ${fixedRate}/s`, `Envoy + ext-proc CPU @ ${fixedRate}/s`, `p99 @ ${fixedRate}/s`, `p50 added @ ${fixedRate}/s, whole phases (ms)`, ...sliced],
    ts
      .filter((t) => t.kind !== 'plain')
      .map((t) => [
        t.title,
        x(vsFloor(t, floor, (r) => r.saturation.rps)),
        x(vsFloor(t, floor, (r) => r.saturation.cost.extProcCpuUs)),
        x(vsFloor(t, floor, (r) => sumCpu(r.saturation.cost))),
        x(vsFloor(t, floor, (r) => r.fixed.cost.extProcCpuUs)),
        x(vsFloor(t, floor, (r) => sumCpu(r.fixed.cost))),
        x(vsFloor(t, floor, (r) => r.fixed.p99Ms)),
        fmt(wholePhaseAdded(t, floor)),
        ...(interleaved ? [fmtSpread(slicedAdded(interleaved, t.key, floor.key))] : []),
      ]),
  );
}

/** A target's p50 at the fixed rate minus the floor's, round by round (whole phases). */
function wholePhaseAdded(t: TargetResult, floor: TargetResult): Summary {
  const floorP50 = byRound(floor, (r) => r.fixed.p50Ms);
  return summarize(byRound(t, (r) => r.fixed.p50Ms).map((v, i) => v - (floorP50[i] ?? NaN)));
}

/** A target's p50 minus the reference's, slice by slice (they ran side by side). */
export function slicedAdded(r: InterleavedResult, key: string, referenceKey: string): Spread {
  return pairedDifferences(r.p50Ms[key] ?? [], r.p50Ms[referenceKey] ?? []);
}

/** "median (q25–q75)". */
export const fmtSpread = (s: Spread) => (s.n === 0 ? '–' : `${num(s.median)} (${num(s.q25)}–${num(s.q75)})`);

/** The interleaved slices: each target's p50, and what it adds over the first target's, slice by slice. */
export function interleavedTable(ts: readonly { key: string; title: string }[], r: InterleavedResult): string {
  const base = ts[0];
  if (!base) return '';
  return table(
    ['target', 'p50, median of the slices (lowest–highest) (ms)', `p50 added over ${base.title}, median of the per-slice differences (interquartile) (ms)`, 'failed + non-2xx'],
    ts.map((t) => {
      const mine = [...(r.p50Ms[t.key] ?? [])].sort((a, b) => a - b);
      return [t.title, mine.length ? `${num(median(mine))} (${num(mine[0] as number)}–${num(mine.at(-1) as number)})` : '–', fmtSpread(slicedAdded(r, t.key, base.key)), String(r.problems[t.key] ?? 0)];
    }),
  );
}

/** Connections each hop opened against the requests it carried, over every measured phase and round. */
export function connectionsTable(ts: TargetResult[]): string {
  const total = (t: TargetResult, hop: (c: PhaseCost) => { connections: number; requests: number } | undefined) => {
    let cx = 0;
    let rq = 0;
    for (const r of t.rounds) {
      for (const c of r ? [r.saturation.cost, r.fixed.cost, r.half.cost] : []) {
        cx += hop(c)?.connections ?? 0;
        rq += hop(c)?.requests ?? 0;
      }
    }
    return rq === 0 ? '–' : `${cx} / ${rq}`;
  };
  return table(
    ['target', 'client → Envoy: connections / requests', 'Envoy → upstream: connections / requests', 'Envoy → ext_proc: connections / streams'],
    ts.map((t) => [t.title, total(t, (c) => c.client), total(t, (c) => c.upstream), t.kind === 'plain' ? '–' : total(t, (c) => c.extProc)]),
  );
}

/**
 * Tail episodes that an ext_proc connection opened during or within `nearMs` of (the poll that
 * timestamps connections runs every 50 ms).
 */
export function episodesNearConnects(episodes: readonly Episode[], connectsAt: readonly number[], nearMs = 100): number {
  return episodes.filter((e) => connectsAt.some((t) => t >= e.startMs - nearMs && t <= e.endMs + nearMs)).length;
}

/** What our ext-proc did at the fixed rate: the tail's suspects, per round. */
export function tailTable(ts: TargetResult[], fixedRate: number, durationS: number): string {
  return table(
    ['target', `p99 @ ${fixedRate}/s (ms)`, 'waited for a CPU, µs/req: Envoy / ext-proc', 'requests ≥ p99: episodes', 'longest episode (requests)', 'ext_proc connections opened', 'episodes at a connection opening', 'GC pauses / s', 'GC ms / s', 'GC pauses ≥ 10 ms', 'event-loop delay p99 / max (ms)'],
    ts.map((t) => {
      const ours = isOurs(t.kind);
      const plain = t.kind === 'plain';
      return [
        t.title,
        fig(t, (r) => r.fixed.p99Ms),
        `${fig(t, (r) => r.fixed.cost.envoyRunQueueUs)} / ${plain ? '–' : fig(t, (r) => r.fixed.cost.extProcRunQueueUs)}`,
        fig(t, (r) => r.fixed.tailEpisodes.length),
        fig(t, (r) => Math.max(0, ...r.fixed.tailEpisodes.map((e) => e.requests))),
        plain ? '–' : fig(t, (r) => r.fixed.cost.extProc?.connections ?? NaN),
        plain ? '–' : fig(t, (r) => episodesNearConnects(r.fixed.tailEpisodes, r.fixed.extProcConnectsAt)),
        ours ? fig(t, (r) => (r.fixed.cost.gc?.count ?? NaN) / durationS) : '–',
        ours ? fig(t, (r) => (r.fixed.cost.gc?.totalMs ?? NaN) / durationS) : '–',
        ours ? fig(t, (r) => r.fixed.cost.gc?.over10ms ?? NaN) : '–',
        ours ? `${fig(t, (r) => r.fixed.cost.loop?.p99Ms ?? NaN)} / ${fig(t, (r) => r.fixed.cost.loop?.maxMs ?? NaN)}` : '–',
      ];
    }),
  );
}

interface Goal {
  label: string;
  kinds: TargetKind[];
  /** The figure's median over rounds (or slices) for a target, with the floor alongside. */
  value: (t: TargetResult, floor: TargetResult, interleaved?: InterleavedResult) => number;
  limit: number;
  unit: string;
}

const medianRatio = (pick: Figure) => (t: TargetResult, floor: TargetResult) => vsFloor(t, floor, pick).median;

/** Issue 10's targets, each judged from this run's medians. */
export const GOALS: Goal[] = [
  { label: 'Envoy + ext-proc CPU per request ≤ 2.3× the floor (saturation)', kinds: ['full'], value: medianRatio((r) => sumCpu(r.saturation.cost)), limit: 2.3, unit: '×' },
  { label: 'ext-proc CPU per request ≤ 3× the floor (saturation)', kinds: ['full'], value: medianRatio((r) => r.saturation.cost.extProcCpuUs), limit: 3, unit: '×' },
  { label: 'ext-proc CPU per request ≤ 2.5× the floor (saturation)', kinds: ['body'], value: medianRatio((r) => r.saturation.cost.extProcCpuUs), limit: 2.5, unit: '×' },
  { label: 'ext-proc CPU per request ≤ 2× the floor (saturation)', kinds: ['headers'], value: medianRatio((r) => r.saturation.cost.extProcCpuUs), limit: 2, unit: '×' },
  { label: 'p99 at the fixed rate ≤ 2× the floor', kinds: ['headers', 'body', 'full'], value: medianRatio((r) => r.fixed.p99Ms), limit: 2, unit: '×' },
  {
    label: 'p50 added over the floor at the fixed rate ≤ 0.5 ms',
    kinds: ['headers', 'body', 'full'],
    // From the interleaved slices when the run has them: whole phases are too far apart in time
    // on a shared machine to resolve a tenth of a millisecond (docs/performance.md).
    value: (t, floor, interleaved) =>
      interleaved?.p50Ms[t.key] && interleaved.p50Ms[floor.key]
        ? slicedAdded(interleaved, t.key, floor.key).median
        : wholePhaseAdded(t, floor).median,
    limit: 0.5,
    unit: ' ms',
  },
  { label: 'ext-proc peak RSS ≤ 150 MB (highest round)', kinds: ['headers', 'body', 'full'], value: (t) => summarize(byRound(t, (r) => Math.max(0, ...r.extProcPeakRss) / 2 ** 20)).max, limit: 150, unit: ' MB' },
  { label: 'no failed or non-2xx request', kinds: ['floor', 'headers', 'body', 'full', 'full-redis'], value: (t, _floor, interleaved) => t.rounds.reduce((a, r) => a + (r ? problems(r) : 0), 0) + t.errors.length + (interleaved?.problems[t.key] ?? 0), limit: 0, unit: '' },
];

export function goalsTable(ts: TargetResult[], floor: TargetResult | undefined, interleaved?: InterleavedResult): string {
  const rows: string[][] = [];
  for (const g of GOALS) {
    for (const t of ts.filter((x) => g.kinds.includes(x.kind))) {
      const needsFloor = g.unit === '×' || g.unit === ' ms';
      const v = needsFloor && !floor ? NaN : g.value(t, floor as TargetResult, interleaved);
      const verdict = Number.isFinite(v) ? (v <= g.limit ? 'met' : '**not met**') : 'not measured';
      rows.push([g.label, t.title, Number.isFinite(v) ? `${num(v)}${g.unit}` : '–', verdict]);
    }
  }
  return table(['target (issue 10)', 'mode', `this run (median of the rounds${interleaved ? '; p50: of the interleaved slices' : ''})`, 'verdict'], rows);
}

export function renderReport(info: RunInfo, ts: TargetResult[], durationS: number, interleaved?: InterleavedResult): string {
  const floor = ts.find((t) => t.kind === 'floor');
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  const out = [
    ...info.machine,
    `load average (1 / 5 / 15 min) before: ${load(info.loadBefore)}; after: ${load(info.loadAfter)}`,
    `command: ${info.command}`,
    '',
    'Each figure: median over the rounds (lowest–highest round). CPU per request from /proc (utime + stime, children included) over the requests the gateway Envoy counted.',
    '',
    '### Throughput and CPU per request',
    '',
    throughputTable(ts, info.fixedRate),
    '',
    '### Latency, open loop (vegeta, keep-alive)',
    '',
    latencyTable(ts, info.fixedRate),
    '',
  ];
  if (interleaved) {
    out.push(
      `### p50 at ${interleaved.rate} req/s, interleaved: every target up at once, ${interleaved.slices} rounds of a ${interleaved.sliceS} s slice each`,
      '',
      interleavedTable(floor ? [floor, ...ts.filter((t) => t !== floor)] : ts, interleaved),
      '',
    );
  }
  if (floor) out.push('### Against the floor (per-round ratios)', '', floorTable(ts, floor, info.fixedRate, interleaved), '');
  out.push(
    '### Connections (every measured phase and round)',
    '',
    connectionsTable(ts),
    '',
    `### The tail at ${info.fixedRate} req/s: stalls, ext_proc connection rotation, our ext-proc's GC and event loop`,
    '',
    tailTable(ts, info.fixedRate, durationS),
    '',
    '### Issue 10 targets',
    '',
    goalsTable(ts, floor, interleaved),
  );
  return out.join('\n');
}
