// The bench report's formatting and verdicts, from hand-made rounds (no load is generated).
import { describe, expect, it } from 'vitest';
import type { OpenLoopPhase, PhaseCost, RoundResult } from '../../bench/measure.js';
import type { InterleavedResult } from '../../bench/interleaved.js';
import { connectionsTable, episodesNearConnects, floorTable, fmt, goalsTable, interleavedTable, num, renderReport, throughputTable, type TargetResult } from '../../bench/report.js';
import type { TargetKind } from '../../bench/targets.js';

const cost = (envoyCpuUs: number, extProcCpuUs: number, requests = 1000): PhaseCost => ({
  requests,
  envoyCpuUs,
  extProcCpuUs,
  envoyRunQueueUs: 5,
  extProcRunQueueUs: 7,
  client: { connections: 16, requests },
  upstream: { connections: 1, requests },
  extProc: { connections: 2, requests },
  gc: { count: 20, totalMs: 30, over10ms: 1 },
  loop: { p99Ms: 11, maxMs: 20 },
});
const open = (rate: number, p50Ms: number, p99Ms: number, c: PhaseCost, achievedRate = rate): OpenLoopPhase => ({
  rate,
  requests: rate * 10,
  achievedRate,
  p50Ms,
  p99Ms,
  p999Ms: p99Ms * 2,
  maxMs: p99Ms * 3,
  non2xx: 0,
  failed: 0,
  problems: {},
  tailEpisodes: [],
  extProcConnectsAt: [],
  cost: c,
});
function round(rps: number, envoyUs: number, extUs: number, p50: number, p99: number, rssMb = 100): RoundResult {
  return {
    saturation: { rps, done: rps * 10, non2xx: 0, failed: 0, cost: cost(envoyUs, extUs) },
    fixed: open(200, p50, p99, cost(envoyUs * 2, extUs * 2)),
    half: open(rps / 2, p50, p99, cost(envoyUs, extUs)),
    extProcPeakRss: [rssMb * 2 ** 20],
  };
}
const target = (kind: TargetKind, rounds: RoundResult[], title: string = kind): TargetResult => ({ key: kind, title, kind, rounds, errors: [] });

const floor = target('floor', [round(4000, 100, 50, 1, 2, 20), round(2000, 200, 100, 2, 4, 20), round(3000, 150, 75, 1.5, 3, 20)]);
const headers = target('headers', [round(2000, 150, 90, 1.2, 3), round(1000, 300, 180, 2.2, 8), round(1500, 225, 150, 1.6, 6)]);
const plain = target('plain', [round(8000, 60, 0, 0.5, 1), round(7000, 60, 0, 0.5, 1), round(7500, 60, 0, 0.5, 1)]);

describe('bench report', () => {
  it('formats figures to about three significant digits, with the spread over rounds', () => {
    expect(num(0.123)).toBe('0.12');
    expect(num(12.34)).toBe('12.3');
    expect(num(1234.5)).toBe('1235');
    expect(num(NaN)).toBe('–');
    expect(fmt({ median: 2, min: 1, max: 3, n: 3 }, ' ms')).toBe('2.00 ms (1.00–3.00)');
    expect(fmt({ median: 2, min: 2, max: 2, n: 1 })).toBe('2.00');
    expect(fmt({ median: NaN, min: NaN, max: NaN, n: 0 })).toBe('–');
  });

  it('shows each gateway process’s CPU per request and their sum', () => {
    const t = throughputTable([plain, headers], 200);
    const row = t.split('\n').find((l) => l.startsWith('| headers'));
    // Saturation: Envoy 225 (150–300), ext-proc 150 (90–180), sum 375 (240–480); at 200/s twice that.
    expect(row).toBe('| headers | 1500 (1000–2000) | 225 (150–300) | 150 (90.0–180) | 375 (240–480) | 450 (300–600) | 300 (180–360) | 750 (480–960) | 100 MB | 0 |');
    expect(t.split('\n').find((l) => l.startsWith('| plain'))).toContain('| – |');
  });

  it('compares with the floor round by round', () => {
    const t = floorTable([floor, headers], floor, 200);
    const row = t.split('\n').find((l) => l.startsWith('| headers')) as string;
    const cells = row.split('|').map((c) => c.trim());
    expect(cells[2]).toBe('0.50×'); // throughput: 2000/4000, 1000/2000, 1500/3000
    expect(cells[3]).toBe('1.80× (1.80–2.00)'); // ext-proc CPU at saturation: 90/50, 180/100, 150/75
    expect(cells[7]).toBe('2.00× (1.50–2.00)'); // p99 at 200/s: 3/2, 8/4, 6/3
    expect(cells[8]).toBe('0.20 (0.10–0.20)'); // p50 added, ms: 0.2, 0.2, 0.1
  });

  it('shows connections against requests over every phase and round', () => {
    const row = connectionsTable([headers]).split('\n')[2];
    // 3 rounds × 3 phases of 1000 requests on 16 client connections, 1 upstream, 2 ext_proc.
    expect(row).toBe('| headers | 144 / 9000 | 9 / 9000 | 18 / 9000 |');
  });

  it('judges issue 10’s targets from the medians', () => {
    const t = goalsTable([floor, headers], floor);
    expect(t).toContain('| ext-proc CPU per request ≤ 2× the floor (saturation) | headers | 1.80× | met |');
    expect(t).toContain('| p99 at the fixed rate ≤ 2× the floor | headers | 2.00× | met |');
    expect(t).toContain('| ext-proc peak RSS ≤ 150 MB (highest round) | headers | 100 MB | met |');
    const slow = target('headers', [round(1000, 300, 500, 5, 20)]);
    expect(goalsTable([slow], target('floor', [round(4000, 100, 50, 1, 2)]))).toContain('| ext-proc CPU per request ≤ 2× the floor (saturation) | headers | 10.0× | **not met** |');
  });

  it('says "not measured" for ratios when the floor could not run', () => {
    expect(goalsTable([headers], undefined)).toContain('| ext-proc CPU per request ≤ 2× the floor (saturation) | headers | – | not measured |');
  });

  it('prints the machine, the load average before and after, and flags a generator that fell behind', () => {
    const behind = target('body', [{ ...round(1000, 1, 1, 1, 1), fixed: open(200, 1, 1, cost(1, 1), 150) }]);
    const md = renderReport({ machine: ['machine: 2 CPUs'], loadBefore: [0.5, 0.4, 0.3], loadAfter: [1.5, 0.6, 0.35], command: 'npm run bench', fixedRate: 200 }, [plain, floor, headers, behind], 10);
    expect(md).toContain('machine: 2 CPUs');
    expect(md).toContain('load average (1 / 5 / 15 min) before: 0.50 / 0.40 / 0.30; after: 1.50 / 0.60 / 0.35');
    expect(md).toContain('| body ⚠ generator fell behind |');
    expect(md).toContain('### Against the floor');
  });

  // Slices side by side: the floor's p50 moves with the machine, and headers stays ~0.3 ms above it.
  const sliced: InterleavedResult = {
    rate: 200,
    slices: 4,
    sliceS: 3,
    p50Ms: { floor: [1.0, 2.0, 1.2, 1.6], headers: [1.3, 2.4, 1.4, 1.9] },
    problems: { floor: 0, headers: 2 },
  };

  it('takes the p50 added from the interleaved slices when the run has them, slice by slice', () => {
    const t = interleavedTable([floor, headers], sliced);
    // Differences 0.3, 0.4, 0.2, 0.3: median 0.30, interquartile 0.20–0.30 (nearest rank).
    expect(t).toContain('| headers | 1.65 (1.30–2.40) | 0.30 (0.20–0.30) | 2 |');
    expect(t).toContain('| floor | 1.40 (1.00–2.00) | 0.00 (0.00–0.00) | 0 |');
    const cells = (floorTable([floor, headers], floor, 200, sliced).split('\n').find((l) => l.startsWith('| headers')) as string).split('|').map((c) => c.trim());
    expect(cells[8]).toBe('0.20 (0.10–0.20)'); // whole phases, as before
    expect(cells[9]).toBe('0.30 (0.20–0.30)'); // interleaved slices
    const goals = goalsTable([floor, headers], floor, sliced);
    expect(goals).toContain('| p50 added over the floor at the fixed rate ≤ 0.5 ms | headers | 0.30 ms | met |');
    // The slices' failures count against "no failed request".
    expect(goals).toContain('| no failed or non-2xx request | headers | 2.00 | **not met** |');
    const slow: InterleavedResult = { ...sliced, p50Ms: { floor: [1, 1, 1], headers: [1.6, 1.7, 1.5] } };
    expect(goalsTable([floor, headers], floor, slow)).toContain('| p50 added over the floor at the fixed rate ≤ 0.5 ms | headers | 0.60 ms | **not met** |');
    expect(renderReport({ machine: [], loadBefore: [0, 0, 0], loadAfter: [0, 0, 0], command: 'npm run bench', fixedRate: 200 }, [floor, headers], 10, sliced)).toContain(
      '### p50 at 200 req/s, interleaved: every target up at once, 4 rounds of a 3 s slice each',
    );
  });

  it('counts the tail episodes an ext_proc connection opened in or next to', () => {
    const ep = (startMs: number, endMs: number) => ({ startMs, endMs, requests: 3, worstMs: 50 });
    const eps = [ep(1000, 1040), ep(5000, 5000), ep(9000, 9300)];
    // One connection 80 ms before the first episode, one in the middle of the third, one far from all.
    expect(episodesNearConnects(eps, [920, 7000, 9150])).toBe(2);
    expect(episodesNearConnects(eps, [])).toBe(0);
  });
});
