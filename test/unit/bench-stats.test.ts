// The bench's arithmetic and parsers: percentiles, medians and spreads over rounds, and reading
// /proc, h2load, vegeta, Envoy admin and Prometheus output. Nothing here times anything.
import { describe, expect, it } from 'vitest';
import { parseH2loadSummary } from '../../bench/closed-loop.js';
import { clusterDelta, downstreamDelta, parseCounters } from '../../bench/envoy-admin.js';
import { gcDelta, loopDelay, sumSeries } from '../../bench/ext-proc-metrics.js';
import { episodes, summarizeHits } from '../../bench/open-loop.js';
import { parsePeakRss, parseProcStat, parseSchedstatWaitNs, statCpuMs } from '../../bench/proc-cpu.js';
import { siblingAssets } from '../../bench/procs.js';
import { median, percentile, ratios, summarize } from '../../bench/stats.js';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  it('picks the smallest value with at least q of the samples at or below it', () => {
    expect(percentile(hundred, 0.5)).toBe(50);
    expect(percentile(hundred, 0.99)).toBe(99);
    expect(percentile(hundred, 0.999)).toBe(100);
    expect(percentile(hundred, 1)).toBe(100);
  });
  it('p99.9 of 2000 samples leaves the two worst above it', () => {
    const v = Array.from({ length: 2000 }, (_, i) => i + 1);
    expect(percentile(v, 0.999)).toBe(1998);
  });
  it('handles one sample and none', () => {
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([7], 0.999)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe('median, spread and ratios over rounds', () => {
  it('median of odd and even counts, ignoring rounds that produced nothing', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, NaN, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });
  it('summarizes as median, lowest and highest round', () => {
    expect(summarize([10, 30, 20])).toEqual({ median: 20, min: 10, max: 30, n: 3 });
    expect(summarize([NaN])).toEqual({ median: NaN, min: NaN, max: NaN, n: 0 });
  });
  it('pairs ratios by round before summarizing', () => {
    // Round 2 ran on a slower machine for both: the paired ratio stays 2×.
    expect(ratios([20, 40, 22], [10, 20, 11])).toEqual({ median: 2, min: 2, max: 2, n: 3 });
    expect(ratios([20, 30], [10]).n).toBe(1);
  });
});

describe('/proc parsing', () => {
  // A command name with spaces and a parenthesis, as Node worker threads can have.
  const stat = '4242 (node (worker) 1) S 4200 4242 4200 0 -1 4194560 5115 0 0 0 150 30 12 8 20 0 11 0 25754 5124096 976';
  it('reads ppid, utime, stime, cutime and cstime after the command name', () => {
    expect(parseProcStat(stat)).toEqual({ pid: 4242, ppid: 4200, utime: 150, stime: 30, cutime: 12, cstime: 8 });
  });
  it('turns clock ticks into milliseconds, reaped children optionally included', () => {
    const s = parseProcStat(stat)!;
    expect(statCpuMs(s, false)).toBe(1800);
    expect(statCpuMs(s, true)).toBe(2000);
  });
  it('rejects what is not a stat line', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('12 (x) S')).toBeUndefined();
  });
  it('reads how long a thread waited for a CPU from its schedstat', () => {
    expect(parseSchedstatWaitNs('383694032 1796819654 1169\n')).toBe(1796819654);
    expect(parseSchedstatWaitNs('')).toBeUndefined();
  });
  it('reads the peak RSS from /proc/<pid>/status', () => {
    expect(parsePeakRss('Name:\tnode\nVmPeak:\t 999 kB\nVmHWM:\t  153600 kB\nVmRSS:\t 1 kB\n')).toBe(150 * 2 ** 20);
    expect(parsePeakRss('Name:\tnode\n')).toBe(0);
  });
});

describe('h2load summary', () => {
  const out = (codes: string, req: string) => `finished in 10.00s, 4101.20 req/s, 1.2MB/s\nrequests: ${req}\nstatus codes: ${codes}\n`;
  it('counts 2xx per second, other statuses and requests with no answer apart', () => {
    const r = parseH2loadSummary(out('41000 2xx, 0 3xx, 12 4xx, 0 5xx', '41020 total, 41020 started, 41018 done, 41000 succeeded, 18 failed, 4 errored, 2 timeout'));
    expect(r.rps).toBe(4100);
    expect(r.done).toBe(41018);
    expect(r.non2xx).toBe(12);
    // 18 failed = 12 with a 4xx status + 6 without an answer; plus 4 errored and 2 timed out.
    expect(r.failed).toBe(12);
  });
  it('reads durations in milliseconds', () => {
    const r = parseH2loadSummary(out('20 2xx, 0 3xx, 0 4xx, 0 5xx', '20 total, 20 started, 20 done, 20 succeeded, 0 failed, 0 errored, 0 timeout').replace('10.00s', '500.00ms'));
    expect(r.rps).toBe(40);
  });
  it('fails loudly on output it does not know', () => {
    expect(() => parseH2loadSummary('h2load: connection refused')).toThrow(/unexpected h2load output/);
  });
});

describe('vegeta results', () => {
  const hit = (ms: number, code = 200, at = 0, error = '') => JSON.stringify({ code, timestamp: new Date(Date.UTC(2026, 0, 1) + at).toISOString(), latency: ms * 1e6, error });
  it('takes percentiles over the 2xx answers and counts the rest by kind', () => {
    const lines = [
      ...Array.from({ length: 1000 }, (_, i) => hit(i + 1, 200, i * 5)),
      hit(5, 503, 5000),
      hit(0, 0, 5005, 'Post "http://127.0.0.1:1/v1": dial tcp 127.0.0.1:1: connect: connection refused'),
    ].join('\n');
    const r = summarizeHits(lines, 200);
    expect(r.requests).toBe(1002);
    expect(r.p50Ms).toBe(500);
    expect(r.p99Ms).toBe(990);
    expect(r.p999Ms).toBe(999);
    expect(r.maxMs).toBe(1000);
    expect(r.non2xx).toBe(1);
    expect(r.failed).toBe(1);
    expect(r.problems).toEqual({ 'HTTP 503': 1, 'connection refused': 1 });
    // 1002 requests, one every 5 ms.
    expect(r.achievedRate).toBeCloseTo(200, 5);
  });
});

describe('tail episodes', () => {
  it('groups slow requests sent within 100 ms of each other', () => {
    const slow = [
      { atMs: 1000, latencyMs: 30 },
      { atMs: 1050, latencyMs: 80 },
      { atMs: 1150, latencyMs: 40 },
      { atMs: 1400, latencyMs: 25 },
    ];
    expect(episodes(slow)).toEqual([
      { startMs: 1000, endMs: 1150, requests: 3, worstMs: 80 },
      { startMs: 1400, endMs: 1400, requests: 1, worstMs: 25 },
    ]);
    expect(episodes([])).toEqual([]);
  });
  it('are built from the requests at or above p99', () => {
    // 100 fast answers and one stall of two slow ones, 5 ms apart.
    const hit = (ms: number, at: number) => JSON.stringify({ code: 200, timestamp: new Date(Date.UTC(2026, 0, 1) + at).toISOString(), latency: ms * 1e6, error: '' });
    const lines = [...Array.from({ length: 100 }, (_, i) => hit(1, i * 5)), hit(90, 500), hit(95, 505)].join('\n');
    const r = summarizeHits(lines, 200);
    expect(r.tailEpisodes).toHaveLength(1);
    expect(r.tailEpisodes[0]?.requests).toBe(2);
  });
});

describe('Envoy admin counters', () => {
  const before = parseCounters('http.ingress_http.downstream_cx_total: 10\nhttp.ingress_http.downstream_rq_total: 100\nhttp.admin.downstream_cx_total: 50\ncluster.ext_proc.upstream_cx_total: 1\ncluster.ext_proc.upstream_rq_total: 100\nserver.version: 123\nsome.histogram: P0(nan,0)\n');
  const after = parseCounters('http.ingress_http.downstream_cx_total: 26\nhttp.ingress_http.downstream_rq_total: 41100\nhttp.admin.downstream_cx_total: 90\ncluster.ext_proc.upstream_cx_total: 52\ncluster.ext_proc.upstream_rq_total: 41100\n');
  it('counts the listeners’ connections and requests, not the admin’s', () => {
    expect(downstreamDelta(before, after)).toEqual({ connections: 16, requests: 41000 });
  });
  it('counts one cluster’s connections and requests', () => {
    expect(clusterDelta(before, after, 'ext_proc')).toEqual({ connections: 51, requests: 41000 });
    expect(clusterDelta(before, after, 'missing')).toEqual({ connections: 0, requests: 0 });
  });
});

describe('ext-proc metrics', () => {
  const scrape = (count: number, sum: number, under10ms: number, lagP99: number) =>
    [
      '# HELP gateway_ext_proc_nodejs_gc_duration_seconds Garbage collection duration',
      `gateway_ext_proc_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 0`,
      `gateway_ext_proc_nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} ${under10ms}`,
      `gateway_ext_proc_nodejs_gc_duration_seconds_sum{kind="minor"} ${sum}`,
      `gateway_ext_proc_nodejs_gc_duration_seconds_count{kind="minor"} ${count}`,
      `gateway_ext_proc_nodejs_gc_duration_seconds_count{kind="major"} 1`,
      `gateway_ext_proc_nodejs_eventloop_lag_p99_seconds ${lagP99}`,
      `gateway_ext_proc_nodejs_eventloop_lag_max_seconds 0.05`,
    ].join('\n');
  it('sums series of one metric, optionally by label', () => {
    expect(sumSeries(scrape(3, 0.01, 3, 0), 'gateway_ext_proc_nodejs_gc_duration_seconds_count')).toBe(4);
    expect(sumSeries(scrape(3, 0.01, 3, 0), 'gateway_ext_proc_nodejs_gc_duration_seconds_count', 'kind="major"')).toBe(1);
  });
  it('reports GC pauses between two scrapes, with those of 10 ms or more', () => {
    const gc = gcDelta(scrape(10, 0.02, 10, 0), scrape(30, 0.12, 28, 0));
    expect(gc.count).toBe(20);
    expect(gc.totalMs).toBeCloseTo(100, 9);
    expect(gc.over10ms).toBe(2);
  });
  it('reads the event-loop delay of the closing scrape', () => {
    expect(loopDelay(scrape(1, 0, 1, 0.012))).toEqual({ p99Ms: 12, maxMs: 50 });
    expect(loopDelay('').p99Ms).toBeNaN();
  });
});

describe('the ext-proc bundle', () => {
  it('finds the files a module reads beside itself, to copy them beside the bundle', () => {
    const source = [
      "const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));",
      'const script = (name: string) => readFileSync(new URL(`./redis/${name}.lua`, import.meta.url));',
      "const sdk = new URL('../plugins/sdk/index.ts', import.meta.url);",
    ].join('\n');
    expect(siblingAssets(source)).toEqual(['static', 'redis']);
  });
});
