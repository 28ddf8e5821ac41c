import { describe, expect, it, vi } from 'vitest';
import { demoStats, useStack } from '../harness/e2e.js';
import { call, currentConfig, demoControl, reloads, runConcurrently, sentimentWith, servedBy, v2Input, type Seen, type TrafficInput } from '../harness/traffic.js';

const config = sentimentWith(
  // v1 serves everything, v2 gets a copy; the fallback is rendered into Envoy from the start.
  { weights: { v1: 100, v2: 0 }, shadow: { version: 'v2', percent: 100 }, fallback: 'v1' },
);

const stack = useStack(config);
const infer = () => `${stack().url}/v2/models/sentiment/infer`;
const demo = (version: string) => stack().demos.get(`sentiment@${version}`)?.[0]?.url as string;

async function setTraffic(traffic: TrafficInput): Promise<void> {
  const before = await reloads(stack(), 'success');
  const next = currentConfig(stack());
  next.models.sentiment!.traffic = traffic;
  await stack().writeConfig(next);
  await vi.waitFor(async () => expect(await reloads(stack(), 'success')).toBeGreaterThan(before), { timeout: 5000 });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function sequential(n: number): Promise<Seen[]> {
  const out: Seen[] = [];
  for (let i = 0; i < n; i++) out.push(await call(infer(), v2Input()));
  return out;
}

describe('shadow traffic', () => {
  it('sends the shadow version a copy of each request; the client only ever sees the primary', async () => {
    await demoControl(demo('v2'), 'reset-stats');
    const seen = await runConcurrently(40, 4, () => call(infer(), v2Input(['mirror me'])));
    for (const s of seen) expect([s.status, s.version, servedBy(s)]).toEqual([200, 'v1', 'v1']);
    await vi.waitFor(async () => expect((await demoStats(demo('v2'))).requests).toBe(40));
    const stats = await demoStats(demo('v2'));
    // Envoy marks mirrored requests by suffixing the authority.
    expect(stats.last?.headers.host).toMatch(/-shadow(:\d+)?$/);
    expect(stats.last?.body).toContain('mirror me');
  });

  it('mirrors the configured share', async () => {
    await setTraffic({ weights: { v1: 100, v2: 0 }, shadow: { version: 'v2', percent: 25 }, fallback: 'v1' });
    await demoControl(demo('v2'), 'reset-stats');
    await runConcurrently(400, 8, () => call(infer(), v2Input()));
    await new Promise((r) => setTimeout(r, 200));
    const copies = (await demoStats(demo('v2'))).requests;
    console.log(`shadow at 25 %: ${copies} copies of 400 requests`);
    expect(copies).toBeGreaterThan(60);
    expect(copies).toBeLessThan(140);
  });

  it('does not delay the client when the shadow is slow', async () => {
    await setTraffic({ weights: { v1: 100, v2: 0 }, shadow: { version: 'v2', percent: 100 }, fallback: 'v1' });
    const baseline = await sequential(20);
    await demoControl(demo('v2'), 'fault', { mode: 'slow', delayMs: 1500 });
    try {
      const slow = await sequential(20);
      expect(slow.filter((s) => s.status !== 200 || servedBy(s) !== 'v1')).toEqual([]);
      console.log(`median latency: ${median(baseline.map((s) => s.ms)).toFixed(1)} ms baseline, ${median(slow.map((s) => s.ms)).toFixed(1)} ms with a 1.5 s shadow`);
      // Each request would take 1.5 s if the client waited for the copy.
      expect(Math.max(...slow.map((s) => s.ms))).toBeLessThan(750);
      expect(median(slow.map((s) => s.ms))).toBeLessThan(median(baseline.map((s) => s.ms)) + 50);
    } finally {
      await demoControl(demo('v2'), 'fault', { mode: 'ok' });
    }
  });

  it('ignores client-sent routing and mirror headers, whatever their case and however often they repeat', async () => {
    // Marked, so that late copies still landing from the slow-shadow test above cannot blur the count.
    const probe = `forged-${process.pid}-${Date.now()}`;
    for (let i = 0; i < 5; i++) {
      // A request that named its version is never mirrored; only a forged header could make a copy.
      const res = await fetch(`${stack().url}/v2/models/sentiment/versions/v1/infer`, {
        method: 'POST',
        headers: [
          ['content-type', 'application/json'],
          ['x-test-probe', probe],
          ['X-Gateway-Shadow', 'sentiment@v2'],
          ['x-gateway-shadow', 'sentiment@v2'],
          ['X-GATEWAY-CLUSTER', 'sentiment@v2'],
          ['x-gateway-cluster', 'sentiment@v2'],
        ],
        body: JSON.stringify(v2Input()),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-demo-instance')).toMatch(/^sentiment@v1#/);
    }
    expect((await demoStats(demo('v1'))).recent.filter((r) => r.headers['x-test-probe'] === probe)).toHaveLength(5);
    await new Promise((r) => setTimeout(r, 200));
    expect((await demoStats(demo('v2'))).recent.filter((r) => r.headers['x-test-probe'] === probe)).toEqual([]);
  });
});

describe('fallback', () => {
  it('serves from the fallback when the chosen version answers 5xx, and says so', async () => {
    await setTraffic({ weights: { v1: 0, v2: 100 }, fallback: 'v1' });
    const healthy = await call(infer(), v2Input());
    expect([healthy.status, healthy.version, servedBy(healthy), healthy.fallbackFrom]).toEqual([200, 'v2', 'v2', null]);

    await demoControl(demo('v2'), 'fault', { mode: 'error', status: 503 });
    try {
      const seen = await runConcurrently(30, 3, () => call(infer(), v2Input()));
      for (const s of seen) expect([s.status, s.version, servedBy(s), s.fallbackFrom]).toEqual([200, 'v1', 'v1', 'v2']);
      // A client that named v2 asked for v2: it gets v2's failure, not another version.
      const pinned = await call(`${stack().url}/v2/models/sentiment/versions/v2/infer`, v2Input());
      expect(pinned.status).toBeGreaterThanOrEqual(500);
      expect(pinned.version).toBe('v2');
    } finally {
      await demoControl(demo('v2'), 'fault', { mode: 'ok' });
    }
  });

  it('keeps serving when the canary is down: the shadow fails silently and the fallback answers', async () => {
    await stack().demos.get('sentiment@v2')?.[0]?.child.stop();

    await setTraffic({ weights: { v1: 100, v2: 0 }, shadow: { version: 'v2', percent: 100 }, fallback: 'v1' });
    const shadowed = await sequential(20);
    expect(shadowed.filter((s) => s.status !== 200 || servedBy(s) !== 'v1')).toEqual([]);
    expect(Math.max(...shadowed.map((s) => s.ms))).toBeLessThan(750);

    await setTraffic({ weights: { v1: 0, v2: 100 }, fallback: 'v1' });
    const seen = await runConcurrently(30, 3, () => call(infer(), v2Input()));
    for (const s of seen) expect([s.status, s.version, servedBy(s), s.fallbackFrom]).toEqual([200, 'v1', 'v1', 'v2']);
  });
});
