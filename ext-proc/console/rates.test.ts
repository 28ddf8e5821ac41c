// Rates, quantiles and splits as differences of registry snapshots (no second bookkeeping).
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.js';
import { configuredSplit, increase, increaseBy, observedSplit, quantile, rate, seriesOver, windowStart } from './rates.js';
import { toSnapshot, type Snapshot } from './snapshots.js';

const labels = { model: 'sentiment', version: 'v1', consumer: 'demo', protocol: 'kserve-v2', status_class: '2xx' };

async function snap(m: ReturnType<typeof createMetrics>, at: number): Promise<Snapshot> {
  return toSnapshot(at, await m.registry.getMetricsAsJSON());
}

describe('rates from snapshots of the prom-client registry', () => {
  it('turns counter growth between two snapshots into a per-second rate, by label', async () => {
    const m = createMetrics();
    m.requests.inc(labels, 5);
    const a = await snap(m, 10_000);
    m.requests.inc(labels, 20);
    m.requests.inc({ ...labels, status_class: '5xx' }, 10);
    m.requests.inc({ ...labels, model: 'iris', version: '1' }, 7);
    const b = await snap(m, 20_000);
    expect(increase(a, b, 'gateway_requests_total')).toBe(37);
    expect(rate(a, b, 'gateway_requests_total', { model: 'sentiment' })).toBe(3);
    expect(Object.fromEntries(increaseBy(a, b, 'gateway_requests_total', { model: 'sentiment' }, 'status_class'))).toEqual({ '2xx': 20, '5xx': 10 });
    expect(rate(a, a, 'gateway_requests_total')).toBe(0);
  });

  it('counts a series that went down as restarted, like Prometheus increase()', async () => {
    const m = createMetrics();
    m.requests.inc(labels, 50);
    const a = await snap(m, 0);
    m.requests.reset();
    m.requests.inc(labels, 4);
    expect(increase(a, await snap(m, 1000), 'gateway_requests_total')).toBe(4);
  });

  it('interpolates quantiles inside histogram buckets from the growth between snapshots only', async () => {
    const m = createMetrics();
    const mv = { model: 'sentiment', version: 'v1' };
    for (let i = 0; i < 100; i++) m.requestSeconds.observe(mv, 20); // before the window: ignored
    const a = await snap(m, 0);
    // 0.025..0.05 holds 90 observations, 0.25..0.5 holds 10.
    for (let i = 0; i < 90; i++) m.requestSeconds.observe(mv, 0.03);
    for (let i = 0; i < 10; i++) m.requestSeconds.observe(mv, 0.3);
    const b = await snap(m, 1000);
    expect(quantile(0.5, a, b, 'gateway_request_duration_seconds', mv)).toBeCloseTo(0.025 + 0.025 * (50 / 90), 6);
    expect(quantile(0.99, a, b, 'gateway_request_duration_seconds', mv)).toBeCloseTo(0.25 + 0.25 * (9 / 10), 6);
    expect(quantile(0.5, b, b, 'gateway_request_duration_seconds', mv)).toBeUndefined();
    // Beyond the last finite bucket: the bound itself, not infinity.
    m.requestSeconds.observe({ model: 'x', version: 'y' }, 500);
    expect(quantile(0.99, b, await snap(m, 2000), 'gateway_request_duration_seconds', { model: 'x' })).toBe(60);
  });

  it('observes the split the gateway made from route decisions, beside the configured weights', async () => {
    const m = createMetrics();
    m.routeDecisions.inc({ model: 'sentiment', version: 'v1', reason: 'split', variant: '' }, 500);
    const a = await snap(m, 0);
    m.routeDecisions.inc({ model: 'sentiment', version: 'v1', reason: 'split', variant: '' }, 90);
    m.routeDecisions.inc({ model: 'sentiment', version: 'v2', reason: 'split', variant: '' }, 8);
    m.routeDecisions.inc({ model: 'sentiment', version: 'v2', reason: 'sticky', variant: '' }, 2);
    m.routeDecisions.inc({ model: 'iris', version: '1', reason: 'default', variant: '' }, 40);
    const split = observedSplit(a, await snap(m, 1000), 'sentiment');
    expect(split.requests).toBe(100);
    expect(split.shares).toEqual({ v1: 0.9, v2: 0.1 });
    expect(observedSplit(a, a, 'sentiment')).toEqual({ shares: {}, requests: 0 });
    expect(configuredSplit(['v1', 'v2'], { v1: 3, v2: 1 }, undefined)).toEqual({ v1: 0.75, v2: 0.25 });
    expect(configuredSplit(['v1', 'v2'], undefined, 'v2')).toEqual({ v2: 1 });
    expect(configuredSplit(['v1', 'v2'], undefined, undefined)).toEqual({ v1: 1 });
  });

  it('measures windows from the oldest snapshot inside them, and charts each step', async () => {
    const m = createMetrics();
    const history: Snapshot[] = [];
    for (let t = 0; t <= 4; t++) {
      m.requests.inc(labels, t);
      history.push(await snap(m, t * 1000));
    }
    const now = history.at(-1) as Snapshot;
    expect(windowStart(history, now, 2500).at).toBe(2000);
    expect(windowStart(history, now, 60_000).at).toBe(0);
    expect(seriesOver(history, (a, b) => rate(a, b, 'gateway_requests_total'))).toEqual([1, 2, 3, 4]);
  });
});
