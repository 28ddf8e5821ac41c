import { describe, expect, it } from 'vitest';
import { useStack } from '../harness/e2e.js';
import { setFault, eventually } from '../harness/faults.js';
import { call, currentConfig, extProcMetrics, reloads, sentimentWith, v2Input, writeConfigAtomically, type Seen } from '../harness/traffic.js';

// extProc.workers: 2 processes behind one gRPC address, through the real Envoy. Which worker
// served a stream shows in gateway_ext_proc_streams_total{pid}, summed by the primary.

const WORKERS = 2;
const stack = useStack({ ...sentimentWith({ weights: { v1: 100, v2: 0 } }), extProc: { workers: WORKERS } });
const infer = () => `${stack().url}/v2/models/sentiment/infer`;

/** Streams served per worker pid so far. */
async function streamsByPid(): Promise<Map<string, number>> {
  const text = await extProcMetrics(stack());
  const byPid = new Map<string, number>();
  for (const m of text.matchAll(/^gateway_ext_proc_streams_total\{pid="(\d+)"\} (\d+)/gm)) byPid.set(m[1] as string, Number(m[2]));
  return byPid;
}

/**
 * `n` requests at once on their own connections, each held ~400 ms by a slow model server:
 * more streams in flight than Envoy puts on one ext_proc connection, so it opens several and
 * the primary hands them to different workers. Returns what the clients saw and the streams
 * each worker took meanwhile.
 */
async function burst(n: number): Promise<{ seen: Seen[]; took: Map<string, number> }> {
  const before = await streamsByPid();
  const seen = await Promise.all(Array.from({ length: n }, () => call(infer(), v2Input())));
  const after = await streamsByPid();
  const took = new Map([...after].map(([pid, count]) => [pid, count - (before.get(pid) ?? 0)]));
  return { seen, took };
}

const brief = (s: Seen) => `${s.status} ${s.version} ${s.error ?? ''}`;

const slowModels = async () => {
  for (const demo of [...stack().demos.values()].flat()) await setFault(demo.url, { mode: 'slow', delayMs: 400 });
};

describe('extProc.workers', () => {
  it(`${WORKERS} workers all take streams behind one address`, async () => {
    await slowModels();
    const { seen, took } = await burst(150);
    expect(seen.filter((s) => s.status !== 200).map(brief)).toEqual([]);
    const serving = [...took.values()].filter((n) => n > 0);
    expect(serving).toHaveLength(WORKERS);
  });

  it('a config reload reaches every worker', async () => {
    const okBefore = await reloads(stack(), 'success');
    const next = currentConfig(stack());
    next.models.sentiment!.traffic = { weights: { v1: 0, v2: 100 } };
    await writeConfigAtomically(stack(), next);
    await eventually('reload applied', async () => (await reloads(stack(), 'success')) === okBefore + 1);
    const { seen, took } = await burst(150);
    expect([...took.values()].filter((n) => n > 0)).toHaveLength(WORKERS);
    expect(seen.filter((s) => s.status !== 200 || s.version !== 'v2').map(brief)).toEqual([]);
  });

  it('a worker that dies is replaced, and the new one takes streams', async () => {
    const pids = [...(await streamsByPid()).keys()];
    const victim = Number(pids[0]);
    process.kill(victim, 'SIGKILL');
    // Asked for metrics while the victim's exit is still on its way: the primary messages a
    // worker whose channel just closed, and must not fall over doing it.
    await Promise.all(Array.from({ length: 20 }, () => streamsByPid().catch(() => undefined)));
    // The replacement reports itself once it took a stream; the primary keeps the address open meanwhile.
    let took = new Map<string, number>();
    await eventually(
      'a replacement worker serving',
      async () => {
        ({ took } = await burst(100));
        return [...took].some(([pid, n]) => n > 0 && !pids.includes(pid));
      },
      30_000,
      500,
    );
    expect(took.get(String(victim)) ?? 0).toBe(0);
  });

  it('drains gracefully on SIGTERM: requests in flight on every worker finish', async () => {
    // Held past the shutdown delay (2 s), so each worker's drain has streams still open; and the
    // signal waits until every request has its stream, so "in flight" means in the workers.
    for (const demo of [...stack().demos.values()].flat()) await setFault(demo.url, { mode: 'slow', delayMs: 3000 });
    const primary = stack().extProcs[0]?.child;
    const total = async () => [...(await streamsByPid()).values()].reduce((a, b) => a + b, 0);
    const before = await total();
    const inFlight = Promise.all(Array.from({ length: 100 }, () => call(infer(), v2Input())));
    await eventually('every request has its ext_proc stream', async () => (await total()) - before >= 100, 20_000, 25);
    const signalledAt = performance.now();
    primary?.proc.kill('SIGTERM');
    const seen = await inFlight;
    const timed = (s: Seen) => `${brief(s)} (sent ${Math.round(s.startedAt - signalledAt)} ms from SIGTERM, took ${Math.round(s.ms)} ms)`;
    expect(seen.filter((s) => s.status !== 200).map(timed)).toEqual([]);
    expect(seen.filter((s) => s.startedAt + s.ms < signalledAt).map(timed)).toEqual([]);
    expect(await primary?.exited).toBe(0);
  });
});
