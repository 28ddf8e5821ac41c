import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { demoStats, postJson, useStack } from '../harness/e2e.js';
import { envoyStat, eventually, hostHealth, setFault, sleep } from '../harness/faults.js';
import { byInstance, failures, isProtocolError, startLoad, summarize, type LoadRun, type Sample } from '../harness/load.js';

// One model version with three instances under a steady, bounded load (4 clients in a closed
// loop), while one instance misbehaves. Each scenario states what the clients see.
const CONSECUTIVE_5XX = 3;
const CONCURRENCY = 4;

const config: GatewayConfigInput = {
  plugins: [{ type: 'model-router', name: 'router' }],
  models: {
    sentiment: {
      protocol: 'kserve-v2',
      versions: {
        v1: {
          endpoints: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'],
          // Test-speed tuning: detect in well under a second, eject for 2 s.
          healthCheck: { intervalMs: 250, timeoutMs: 200, unhealthyThreshold: 2, healthyThreshold: 1 },
          outlierDetection: { consecutive5xx: CONSECUTIVE_5XX, consecutiveGatewayFailure: 2, intervalMs: 500, baseEjectionMs: 2_000 },
          retries: { attempts: 2, perTryTimeoutMs: 600 },
        },
      },
    },
  },
};

const stack = useStack(config);
const CLUSTER = 'sentiment@v1';
const instances = () => stack().demos.get(CLUSTER) ?? [];
const url = (i: number) => instances()[i]?.url as string;
const name = (i: number) => `${CLUSTER}#${i}`;
const input = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['a lovely day'] }] };
const send = () => postJson(`${stack().url}/v2/models/sentiment/versions/v1/infer`, input);
const load = (): LoadRun => startLoad({ concurrency: CONCURRENCY, pauseMs: 20, send });
const stat = (name: string) => envoyStat(stack().adminUrl, `cluster.${CLUSTER}.${name}`);

async function allInRotation(): Promise<boolean> {
  const health = await hostHealth(stack().adminUrl, CLUSTER);
  return health.size === 3 && [...health.values()].every((flags) => flags === 'healthy');
}

afterEach(async () => {
  // Each scenario starts from three healthy, un-ejected instances.
  for (const [i, demo] of instances().entries()) {
    const { proc } = demo.child;
    if (proc.exitCode !== null || proc.signalCode !== null) await stack().restartDemo(CLUSTER, i);
    else proc.kill('SIGCONT'); // harmless unless a scenario froze it
    await setFault(url(i), { mode: 'ok' });
  }
  await eventually('all three instances are healthy and in rotation', allInRotation, 20_000);
});

function servedAfter(samples: readonly Sample[], t: number): Map<string, number> {
  return byInstance(samples.filter((s) => s.startedAt > t));
}

describe('fault injection on model instances, under load', () => {
  it('an instance answering 500: the clients see at most a few well-formed 500s, then it is ejected', async () => {
    const ejectedBefore = await stat('outlier_detection.ejections_enforced_consecutive_5xx');
    await setFault(url(0), { mode: 'error', status: 500 });
    const run = load();
    await eventually('the instance is ejected', async () => (await stat('outlier_detection.ejections_enforced_consecutive_5xx')) > ejectedBefore);
    const ejectedAt = performance.now();
    await sleep(1_000);
    const samples = await run.stop();
    const failed = failures(samples);
    // 500 is not retried (the model may have acted on the request): each is passed on as it came.
    expect(failed.every((s) => s.status === 500 && isProtocolError(s, 'kserve-v2')), summarize(failed)).toBe(true);
    expect(failed.length, `${summarize(samples)} ${JSON.stringify(failed.map((f) => [Math.round(f.startedAt - ejectedAt), Math.round(f.endedAt - ejectedAt)]))}`).toBeLessThanOrEqual(CONSECUTIVE_5XX + CONCURRENCY);
    expect(failed.length).toBeGreaterThan(0);
    // Ejected: it gets no more traffic (a request already in flight may still land).
    expect(servedAfter(samples, ejectedAt + 100).get(name(0)) ?? 0, summarize(samples)).toBe(0);
  });

  it('an instance answering 503: every request is retried on another instance; zero failures', async () => {
    const retriesBefore = await stat('upstream_rq_retry');
    await setFault(url(1), { mode: 'error', status: 503 });
    const run = load();
    await sleep(2_000);
    const samples = await run.stop();
    expect(failures(samples), summarize(samples)).toEqual([]);
    expect(await stat('upstream_rq_retry')).toBeGreaterThan(retriesBefore);
  });

  it('every instance answering 503: fast, well-formed 503s, and the retry budget keeps retries from multiplying the load', async () => {
    const upstream = async () => (await Promise.all(instances().map((d) => demoStats(d.url)))).reduce((sum, s) => sum + s.requests, 0);
    for (const i of [0, 1, 2]) await setFault(url(i), { mode: 'error', status: 503 });
    const before = await upstream();
    const deniedBefore = await stat('upstream_rq_retry_overflow');
    // A burst (16 clients, no pauses): the budget is a share of active requests, so it bites under load.
    const run = startLoad({ concurrency: 16, send });
    await sleep(1_500);
    const samples = await run.stop();
    const sent = (await upstream()) - before;
    expect(samples.every((s) => s.status === 503 && isProtocolError(s, 'kserve-v2')), summarize(samples)).toBe(true);
    // attempts: 2 would allow 3 tries per request; the budget (20 % of active, min 3 concurrent) denies most.
    expect(await stat('upstream_rq_retry_overflow')).toBeGreaterThan(deniedBefore);
    expect(sent / samples.length, `${sent} upstream requests for ${samples.length} client requests`).toBeLessThan(2);
  });

  it('an instance resetting connections: retried elsewhere; zero failures', async () => {
    await setFault(url(2), { mode: 'reset' });
    const run = load();
    await sleep(2_000);
    const samples = await run.stop();
    expect(failures(samples), summarize(samples)).toEqual([]);
  });

  it('a slow instance: attempts past the per-try timeout are retried elsewhere and it is ejected; zero failures', async () => {
    const ejectedBefore = await stat('outlier_detection.ejections_enforced_consecutive_gateway_failure');
    await setFault(url(0), { mode: 'slow', delayMs: 5_000 });
    const run = load();
    await sleep(2_500);
    const samples = await run.stop();
    expect(failures(samples), summarize(samples)).toEqual([]);
    expect(byInstance(samples).get(name(0)) ?? 0).toBe(0);
    expect(await stat('outlier_detection.ejections_enforced_consecutive_gateway_failure')).toBeGreaterThan(ejectedBefore);
  });

  it('an instance killed and restarted under load: zero failures; it returns to rotation', async () => {
    const run = load();
    await sleep(500);
    await instances()[1]?.child.stop('SIGKILL');
    await eventually('Envoy marks the dead instance unhealthy', async () => [...(await hostHealth(stack().adminUrl, CLUSTER)).values()].some((f) => f.includes('failed_active_hc')));
    await sleep(500);
    await stack().restartDemo(CLUSTER, 1);
    const restartedAt = performance.now();
    await eventually('the restarted instance serves again', async () => (servedAfter(run.samples, restartedAt).get(name(1)) ?? 0) > 0);
    const samples = await run.stop();
    expect(failures(samples), summarize(samples)).toEqual([]);
  });

  it('readiness flapping: a not-ready instance leaves the rotation and comes back when ready; zero failures', async () => {
    const run = load();
    for (let flap = 0; flap < 2; flap++) {
      await setFault(url(2), { mode: 'notready' });
      await eventually('Envoy takes the not-ready instance out', async () => (await hostHealth(stack().adminUrl, CLUSTER)).get(new URL(url(2)).host) !== 'healthy');
      const outAt = performance.now();
      await sleep(500);
      expect(servedAfter(run.samples, outAt + 50).get(name(2)) ?? 0, summarize(run.samples)).toBe(0);
      await setFault(url(2), { mode: 'ok' });
      const backAt = performance.now();
      await eventually('the ready instance serves again', async () => (servedAfter(run.samples, backAt).get(name(2)) ?? 0) > 0);
    }
    const samples = await run.stop();
    expect(failures(samples), summarize(samples)).toEqual([]);
  });

  it('an instance that stops answering (frozen): requests stuck on it are retried, it leaves and returns; zero failures', async () => {
    const run = load();
    await sleep(300);
    const frozen = instances()[0]?.child.proc;
    frozen?.kill('SIGSTOP');
    await eventually('Envoy takes the silent instance out', async () => (await hostHealth(stack().adminUrl, CLUSTER)).get(new URL(url(0)).host) !== 'healthy');
    await sleep(300);
    frozen?.kill('SIGCONT');
    const backAt = performance.now();
    await eventually('the instance serves again', async () => (servedAfter(run.samples, backAt).get(name(0)) ?? 0) > 0, 20_000);
    const samples = await run.stop();
    expect(failures(samples), summarize(samples)).toEqual([]);
  });
});
