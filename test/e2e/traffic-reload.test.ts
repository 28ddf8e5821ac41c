import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { extProcLog, useStack } from '../harness/e2e.js';
import {
  call,
  currentConfig,
  extProcMetrics,
  metric,
  reloads,
  sentimentWith,
  servedBy,
  sleep,
  v2Input,
  writeConfigAtomically,
  type Seen,
} from '../harness/traffic.js';

const config = sentimentWith({ weights: { v1: 50, v2: 50 } });

const stack = useStack(config);
const infer = () => `${stack().url}/v2/models/sentiment/infer`;

/** Sends requests in `loops` parallel loops until `until()` says stop; returns everything seen. */
async function load(loops: number, until: () => boolean, headers: Record<string, string> = {}): Promise<Seen[]> {
  const seen: Seen[] = [];
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (!until()) seen.push(await call(infer(), v2Input(), headers));
    }),
  );
  return seen;
}

describe('hot reload and instant rollback', () => {
  it('rolls the canary back (weight → 0) within 1 s of the file being saved, with no signal', async () => {
    const before = await load(2, (() => { let n = 0; return () => n++ >= 40; })());
    expect(before.some((s) => s.version === 'v2')).toBe(true);

    const next = currentConfig(stack());
    next.models.sentiment!.traffic!.weights = { v1: 100, v2: 0 };
    const savedAt = performance.now();
    await writeConfigAtomically(stack(), next);
    const seen = await load(2, () => performance.now() - savedAt > 1500);

    const lastCanary = Math.max(0, ...seen.filter((s) => s.version === 'v2').map((s) => s.startedAt - savedAt));
    console.log(`rollback: last canary request started ${lastCanary.toFixed(0)} ms after the save`);
    const afterOneSecond = seen.filter((s) => s.startedAt - savedAt >= 1000);
    expect(afterOneSecond.length).toBeGreaterThan(20);
    expect(afterOneSecond.filter((s) => s.status !== 200 || s.version !== 'v1' || servedBy(s) !== 'v1')).toEqual([]);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
  });

  it('serves concurrent requests across several reloads with zero failures, and refuses a bad config', async () => {
    const okBefore = await reloads(stack(), 'success');
    const failedBefore = await reloads(stack(), 'failure');
    let done = false;
    const traffic = load(4, () => done, { 'x-user-id': 'load' });

    const base = currentConfig(stack());
    const edits: ((c: typeof base) => void)[] = [
      (c) => void (c.models.sentiment!.traffic = { weights: { v1: 90, v2: 10 } }),
      (c) => void (c.models.sentiment!.aliases = { stable: 'v2', canary: 'v1' }),
      (c) => void (c.models.sentiment!.traffic = { weights: { v1: 10, v2: 90 }, stickyKey: { header: 'x-user-id' } }),
      // Plugin options change too: the router reads explicit versions from another header.
      (c) => void (c.plugins = [{ type: 'model-router', name: 'router', options: { versionHeader: 'x-pick-version' } }]),
    ];
    let expectedOk = 0;
    for (const edit of edits) {
      edit(base);
      await writeConfigAtomically(stack(), base);
      expectedOk++;
      await vi.waitFor(async () => expect(await reloads(stack(), 'success')).toBe(okBefore + expectedOk), { timeout: 3000 });
      await sleep(150);
    }
    // An invalid config (a weight for a version that does not exist), saved in place.
    const good = await readFile(stack().configPath, 'utf8');
    await writeFile(stack().configPath, good.replace(/v2: 90/, 'v3: 90'));
    await vi.waitFor(async () => expect(await reloads(stack(), 'failure')).toBe(failedBefore + 1), { timeout: 3000 });
    await sleep(150);
    // A signal still works, and finds the same bad file.
    stack().extProcs[0]?.child.proc.kill('SIGHUP');
    await vi.waitFor(async () => expect(await reloads(stack(), 'failure')).toBe(failedBefore + 2), { timeout: 3000 });
    done = true;
    const seen = await traffic;

    expect(seen.length).toBeGreaterThan(100);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    const metrics = await extProcMetrics(stack());
    expect(metric(metrics, 'gateway_config_last_reload_successful')).toBe(0);
    const log = await extProcLog(stack(), (text) => text.includes('config reload refused'));
    expect(log).toContain('config reload refused; keeping the last good config');
    expect(log).toContain('models.sentiment.traffic.weights.v3: unknown version \\"v3\\"');

    // The last good config (sticky 10/90, the new version header) is still the one in force.
    const pinned = await call(infer(), v2Input(), { 'x-pick-version': 'v1', 'x-model-version': 'v2' });
    expect([pinned.status, pinned.version, pinned.reason]).toEqual([200, 'v1', 'header']);
    const sticky = await call(infer(), v2Input(), { 'x-user-id': 'someone' });
    expect(sticky.reason).toBe('sticky');

    // Fixing the file brings the gauge back.
    await writeFile(stack().configPath, good);
    await vi.waitFor(async () => expect(metric(await extProcMetrics(stack()), 'gateway_config_last_reload_successful')).toBe(1), { timeout: 3000 });
  });
});
