// What the console shows for a model: Envoy's endpoint health, configured and observed split,
// per-version stats and charts; consumers with their budgets; recent errors.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { createMetrics } from '../metrics.js';
import { consumersView } from './consumers.js';
import { describeConsumerLimits } from '../../plugins/consumer-limits/describe.js';
import { parseClusters } from './envoy-clusters.js';
import { RecentErrors } from './recent-errors.js';
import { toSnapshot, type Snapshot } from './snapshots.js';
import { modelView, totals } from './view.js';

const config = parseConfigText(`
plugins:
  - type: api-key-auth
    options: { consumers: [{ id: demo, keys: ["sha256:${'a'.repeat(64)}"] }, { id: partner, keys: ["sha256:${'b'.repeat(64)}"] }] }
  - type: model-router
  - type: openai-usage
    options: { forceStreamUsage: true }
  - type: consumer-limits
    options:
      default: { requestsPerSecond: 20 }
      consumers: { partner: { requestsPerMinute: 60, tokensPerMinute: 2000 } }
models:
  sentiment:
    protocol: kserve-v2
    versions:
      v1: { endpoints: ["127.0.0.1:9101"] }
      v2: { endpoints: ["127.0.0.1:9102", "127.0.0.1:9103"] }
    aliases: { stable: v1 }
    traffic: { weights: { v1: 90, v2: 10 }, fallback: v1, shadow: { version: v2, percent: 5 }, stickyKey: { header: x-user-id } }
`);

const envoyJson = {
  cluster_statuses: [
    { name: 'sentiment@v1', host_statuses: [{ address: { socket_address: { address: '127.0.0.1', port_value: 9101 } }, health_status: { eds_health_status: 'HEALTHY' } }] },
    {
      name: 'sentiment@v2',
      host_statuses: [
        { address: { socket_address: { address: '127.0.0.1', port_value: 9102 } }, health_status: { eds_health_status: 'HEALTHY', failed_active_health_check: true } },
        { address: { socket_address: { address: '127.0.0.1', port_value: 9103 } }, health_status: { failed_outlier_check: true } },
      ],
    },
  ],
};

async function history(): Promise<{ history: Snapshot[]; m: ReturnType<typeof createMetrics> }> {
  const m = createMetrics();
  const snaps = [toSnapshot(0, await m.registry.getMetricsAsJSON())];
  const base = { model: 'sentiment', protocol: 'kserve-v2' };
  m.requests.inc({ ...base, version: 'v1', consumer: 'demo', status_class: '2xx' }, 80);
  m.requests.inc({ ...base, version: 'v1', consumer: 'demo', status_class: '5xx' }, 10);
  m.requests.inc({ ...base, version: 'v2', consumer: 'partner', status_class: '2xx' }, 10);
  m.requests.inc({ model: '', version: '', protocol: '', consumer: '', status_class: '4xx' }, 5);
  m.rejections.inc({ reason: 'auth', code: 'invalid_api_key', model: '', consumer: '' }, 5);
  m.rejections.inc({ reason: 'limits', code: 'rate_limit_exceeded', model: 'sentiment', consumer: 'partner' }, 3);
  m.routeDecisions.inc({ model: 'sentiment', version: 'v1', reason: 'split', variant: '' }, 90);
  m.routeDecisions.inc({ model: 'sentiment', version: 'v2', reason: 'split', variant: '' }, 10);
  m.tokens.inc({ model: 'tinylm', version: 'v1', consumer: 'partner', type: 'completion' }, 500);
  m.tokens.inc({ model: 'tinylm', version: 'v1', consumer: 'partner', type: 'prompt' }, 100);
  for (let i = 0; i < 100; i++) m.requestSeconds.observe({ model: 'sentiment', version: 'v1' }, 0.03);
  snaps.push(toSnapshot(10_000, await m.registry.getMetricsAsJSON()));
  return { history: snaps, m };
}

describe('the console view', () => {
  it('shows a model with Envoy health, configured and observed split, and per-version stats', async () => {
    const { history: h } = await history();
    const view = modelView('sentiment', config.models.sentiment as never, h, parseClusters(envoyJson));
    expect(view).toMatchObject({
      aliases: { stable: 'v1' },
      defaultVersion: 'v1',
      configuredSplit: { v1: 0.9, v2: 0.1 },
      observedSplit: { shares: { v1: 0.9, v2: 0.1 }, requests: 100, windowSeconds: 10 },
      shadow: { version: 'v2', percent: 5 },
      fallback: 'v1',
      stickyKey: 'header x-user-id',
    });
    const [v1, v2] = view.versions;
    expect(v1?.endpoints).toEqual([{ address: '127.0.0.1:9101', health: 'healthy', healthy: true }]);
    expect(v2?.endpoints.map((e) => e.health)).toEqual(['failed_active_hc', 'outlier_ejected']);
    expect(v1?.stats).toMatchObject({ requestsPerSecond: 9, byClass: { '2xx': 8, '5xx': 1 } });
    expect(v1?.stats.errorRatio).toBeCloseTo(1 / 9);
    expect(v1?.stats.p50Seconds).toBeGreaterThan(0.025);
    expect(v1?.charts.requestsPerSecond).toEqual([9]);
    expect(v2?.charts.p99Seconds).toEqual([null]);
  });

  it('says when Envoy does not know a configured endpoint', () => {
    const view = modelView('sentiment', config.models.sentiment as never, [toSnapshot(0, [])], new Map());
    expect(view.versions[0]?.endpoints).toEqual([{ address: '127.0.0.1:9101', health: 'unknown', healthy: false }]);
  });

  it('lists consumers with requests, rejections by reason and tokens against their budgets', async () => {
    const { history: h } = await history();
    const consumers = consumersView(config, h, describeConsumerLimits);
    expect(consumers.map((c) => c.id)).toEqual(['', 'demo', 'partner']);
    expect(consumers[0]).toMatchObject({ requests: 5, rejections: { auth: 5 } });
    expect(consumers[1]).toMatchObject({ requests: 90, requestsPerSecond: 9, requestLimit: { amount: 20, unit: 'second' } });
    expect(consumers[1]).not.toHaveProperty('tokenBudget');
    expect(consumers[2]).toMatchObject({ rejections: { limits: 3 }, tokensLastMinute: 600, tokenBudget: { amount: 2000, unit: 'minute' }, requestLimit: { amount: 60, unit: 'minute' } });
    expect(totals(h).rejectionsByReason).toEqual({ auth: 5, limits: 3 });
  });

  it('keeps the latest failed requests with their ids, newest first, and nothing else', () => {
    const errors = new RecentErrors(2, () => 42);
    const summary = (id: string, status: number | undefined, cancelled = false) =>
      ({ request: { id }, route: { model: 'sentiment', version: 'v1' }, vars: {}, response: undefined, outcome: { status, cancelled }, elapsedMs: 1, responseHeadersMs: undefined, firstChunkMs: undefined, processingMs: 0 }) as never;
    errors.add(summary('ok', 200));
    errors.add(summary('a', 503));
    errors.add(summary('b', undefined, true));
    errors.add(summary('c', 404));
    expect(errors.list().map((e) => [e.reqId, e.statusClass])).toEqual([
      ['c', '4xx'],
      ['b', 'cancelled'],
    ]);
  });
});
