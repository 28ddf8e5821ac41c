// What the ext-proc's own Prometheus metrics say about a measured window: garbage-collection
// pauses and event-loop delay, the usual suspects of a Node tail.

interface Sample {
  name: string;
  labels: string;
  value: number;
}

/** The samples of Prometheus text exposition (comments skipped). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && Number.isFinite(Number(m[3]))) out.push({ name: m[1] as string, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

/** Sums every series of one metric, optionally only those carrying a label pair. */
export function sumSeries(text: string, name: string, label?: string): number {
  return parseSamples(text)
    .filter((s) => s.name === name && (!label || s.labels.includes(label)))
    .reduce((a, s) => a + s.value, 0);
}

export interface GcWindow {
  /** Collections (all kinds) in the window. */
  count: number;
  /** Time spent in them, ms. */
  totalMs: number;
  /** Collections that took 10 ms or more. */
  over10ms: number;
}

const GC = 'gateway_ext_proc_nodejs_gc_duration_seconds';

/** GC pauses between two scrapes of /metrics. */
export function gcDelta(before: string, after: string): GcWindow {
  const d = (name: string, label?: string) => sumSeries(after, name, label) - sumSeries(before, name, label);
  const count = d(`${GC}_count`);
  return {
    count,
    totalMs: d(`${GC}_sum`) * 1000,
    over10ms: count - d(`${GC}_bucket`, 'le="0.01"'),
  };
}

export interface LoopDelay {
  p99Ms: number;
  maxMs: number;
}

/**
 * Event-loop delay over the window. prom-client resets its delay histogram at every scrape, so
 * the scrape that closes the window reports the window alone (when the one before opened it).
 * With several processes, the worst one.
 */
export function loopDelay(after: string): LoopDelay {
  const samples = parseSamples(after);
  const worst = (name: string) => {
    const ms = samples.filter((s) => s.name === name).map((s) => s.value * 1000);
    return ms.length ? Math.max(...ms) : NaN;
  };
  return { p99Ms: worst('gateway_ext_proc_nodejs_eventloop_lag_p99_seconds'), maxMs: worst('gateway_ext_proc_nodejs_eventloop_lag_max_seconds') };
}

export async function scrape(httpPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  return res.ok ? res.text() : '';
}
