import { afterAll, describe, expect, it, vi } from 'vitest';
import type { GatewayConfigInput } from '../../ext-proc/config/schema.js';
import { startDemo } from '../../scripts/stack/index.js';
import { useStack } from '../harness/e2e.js';
import { call, currentConfig, demoControl, reloads, servedBy, v2Input, writeConfigAtomically, type Seen } from '../harness/traffic.js';

// Envoy runs with file-based CDS/RDS that the ext-proc keeps current: versions come and go
// with a config edit, Envoy is never restarted.
const config: GatewayConfigInput = {
  plugins: [{ type: 'model-router', name: 'router' }],
  models: {
    sentiment: { protocol: 'kserve-v2', versions: { v1: { endpoints: ['127.0.0.1:1'] } }, aliases: { stable: 'v1' } },
  },
};

const stack = useStack(config, { envoyXds: true });
const infer = () => `${stack().url}/v2/models/sentiment/infer`;
let candidate: Awaited<ReturnType<typeof startDemo>> | undefined;
afterAll(async () => {
  await candidate?.child.stop();
});

async function envoyClusters(): Promise<string[]> {
  const res = await fetch(`${stack().adminUrl}/clusters?format=json`);
  return ((await res.json()) as { cluster_statuses: { name: string }[] }).cluster_statuses.map((c) => c.name);
}

async function edit(change: (c: GatewayConfigInput) => void): Promise<void> {
  const before = await reloads(stack(), 'success');
  const next = currentConfig(stack());
  change(next);
  // What the next edit starts from.
  Object.assign(stack().config, structuredClone(next));
  await writeConfigAtomically(stack(), next);
  await vi.waitFor(async () => expect(await reloads(stack(), 'success')).toBe(before + 1), { timeout: 15_000 });
}

describe('versions added and removed without restarting Envoy', () => {
  it('adds a canary, falls back from it, retires it, with zero failed requests and one Envoy process', async () => {
    const envoyPid = stack().envoy.proc.pid;
    candidate = await startDemo('sentiment@v2', 0, stack().workDir, false);
    const v2Endpoint = candidate.url.replace('http://', '');
    expect(await envoyClusters()).not.toContain('sentiment@v2');

    let done = false;
    const seen: Seen[] = [];
    const traffic = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!done) seen.push(await call(infer(), v2Input()));
      }),
    );

    // 1. A new version at 50 %: Envoy learns its cluster before the ext-proc routes to it.
    await edit((c) => {
      const m = c.models.sentiment!;
      m.versions = { ...m.versions, v2: { endpoints: [v2Endpoint] } };
      m.traffic = { weights: { v1: 50, v2: 50 } };
    });
    expect(await envoyClusters()).toContain('sentiment@v2');
    await vi.waitFor(() => expect(seen.some((s) => servedBy(s) === 'v2')).toBe(true));

    // 2. A fallback pair appears the same way, and works.
    await edit((c) => void (c.models.sentiment!.traffic = { weights: { v1: 0, v2: 100 }, fallback: 'v1' }));
    expect(await envoyClusters()).toContain('sentiment@v2~v1');
    await demoControl(candidate.url, 'fault', { mode: 'error', status: 503 });
    const fellBack = await call(infer(), v2Input());
    await demoControl(candidate.url, 'fault', { mode: 'ok' });
    expect([fellBack.status, fellBack.version, servedBy(fellBack), fellBack.fallbackFrom]).toEqual([200, 'v1', 'v1', 'v2']);

    // 3. Roll back, then retire the version: its cluster leaves Envoy.
    await edit((c) => void (c.models.sentiment!.traffic = { weights: { v1: 100, v2: 0 } }));
    await edit((c) => {
      const m = c.models.sentiment!;
      m.versions = { v1: m.versions.v1! };
      m.traffic = undefined;
    });
    await vi.waitFor(async () => expect(await envoyClusters()).not.toContain('sentiment@v2'));
    const after = await call(infer(), v2Input());
    expect([after.status, servedBy(after)]).toEqual([200, 'v1']);
    const gone = await call(`${stack().url}/v2/models/sentiment/versions/v2/infer`, v2Input());
    expect(gone.status).toBe(404);

    done = true;
    await traffic;
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    expect(stack().envoy.proc.pid).toBe(envoyPid);
    expect(stack().envoy.proc.exitCode).toBeNull();
  });
});
