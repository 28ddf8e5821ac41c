import { describe, expect, it, vi } from 'vitest';
import { useStack } from '../harness/e2e.js';
import { call, currentConfig, reloads, runConcurrently, sentimentWith, servedBy, v2Input, type Seen } from '../harness/traffic.js';

const config = sentimentWith({
  weights: { v1: 90, v2: 10 },
  stickyKey: { header: 'x-user-id' },
  experiment: 'nb-canary',
  variants: { v1: 'lexicon', v2: 'naive-bayes' },
});

const stack = useStack(config);
const infer = () => `${stack().url}/v2/models/sentiment/infer`;

/** Rewrites the config (file + SIGHUP) and waits until the ext-proc took it. */
async function reconfigure(edit: (c: ReturnType<typeof currentConfig>) => void): Promise<void> {
  const before = await reloads(stack(), 'success');
  const next = currentConfig(stack());
  edit(next);
  await stack().writeConfig(next);
  await vi.waitFor(async () => expect(await reloads(stack(), 'success')).toBeGreaterThan(before), { timeout: 5000 });
}

/** Sends `perUser` requests for each user (users interleaved) and returns the versions each saw. */
async function stickyRun(users: string[], perUser: number): Promise<Map<string, Set<string>>> {
  const results = await runConcurrently(users.length * perUser, 8, (i) => {
    const user = users[i % users.length] as string;
    return call(infer(), v2Input(), { 'x-user-id': user }).then((s) => [user, s] as const);
  });
  const seen = new Map<string, Set<string>>();
  for (const [user, s] of results) {
    expect(s.status).toBe(200);
    expect(s.reason).toBe('sticky');
    expect(servedBy(s)).toBe(s.version);
    seen.set(user, (seen.get(user) ?? new Set()).add(s.version as string));
  }
  return seen;
}

const only = (seen: Map<string, Set<string>>) =>
  new Map([...seen].map(([user, versions]) => {
    expect([...versions], `user ${user} saw several versions`).toHaveLength(1);
    return [user, [...versions][0] as string];
  }));

describe('an honest split, through Envoy', () => {
  it('serves 2,000 requests at 90/10 within ±3 points, and the headers name what served each', async () => {
    const results: Seen[] = await runConcurrently(2000, 8, () => call(infer(), v2Input()));
    expect(results.filter((s) => s.status !== 200)).toEqual([]);
    for (const s of results) {
      // The demo server that really answered, not only our header, is the version we name.
      expect(servedBy(s)).toBe(s.version);
      expect(s.reason).toBe('split');
      expect(s.experiment).toBe('nb-canary');
      expect(s.variant).toBe(s.version === 'v1' ? 'lexicon' : 'naive-bayes');
    }
    const share = results.filter((s) => s.version === 'v2').length / results.length;
    console.log(`observed canary share over ${results.length} requests: ${(share * 100).toFixed(1)} %`);
    expect(share).toBeGreaterThanOrEqual(0.07);
    expect(share).toBeLessThanOrEqual(0.13);
  });

  it('keeps every request of one sticky key on one version, and across reloads that leave its bucket alone', async () => {
    const users = Array.from({ length: 120 }, (_, i) => `user-${i}`);
    const first = only(await stickyRun(users, 4));
    const onCanary = [...first].filter(([, v]) => v === 'v2').map(([u]) => u);
    expect(onCanary.length).toBeGreaterThan(0);
    expect(onCanary.length).toBeLessThan(users.length / 4);

    // A reload that touches no weight (aliases, experiment variants' labels) moves nobody.
    await reconfigure((c) => {
      c.models.sentiment!.aliases = { stable: 'v1', canary: 'v2', latest: 'v2' };
      c.models.sentiment!.traffic!.variants = { v1: 'control', v2: 'treatment' };
    });
    const second = only(await stickyRun(users, 2));
    expect(second).toEqual(first);

    // The canary grows to 20 %: its users stay, and only users in the slice that changed hands move.
    await reconfigure((c) => {
      c.models.sentiment!.traffic!.weights = { v1: 80, v2: 20 };
    });
    const third = only(await stickyRun(users, 2));
    for (const user of onCanary) expect(third.get(user), user).toBe('v2');
    const moved = users.filter((u) => third.get(u) !== first.get(u));
    for (const user of moved) expect([first.get(user), third.get(user)]).toEqual(['v1', 'v2']);
    // Expected ~1/9 of v1's users; far from everyone reshuffling (which would move ~26 %).
    expect(moved.length).toBeLessThan(users.length * 0.2);
  });

  it('lets an explicit version win over the split and the sticky key', async () => {
    for (const [path, headers, expected] of [
      ['/v2/models/sentiment/versions/v2/infer', { 'x-user-id': 'user-0' }, 'v2'],
      ['/v2/models/sentiment/versions/stable/infer', {}, 'v1'],
      ['/v2/models/sentiment/infer', { 'x-model-version': 'canary' }, 'v2'],
      ['/v2/models/sentiment/infer', { 'x-model-version': 'v1' }, 'v1'],
    ] as const) {
      for (let i = 0; i < 5; i++) {
        const s = await call(`${stack().url}${path}`, v2Input(), headers);
        expect(s.status).toBe(200);
        expect(s.version).toBe(expected);
        expect(servedBy(s)).toBe(expected);
        // Not part of the experiment: it chose its version itself.
        expect(s.experiment).toBeNull();
      }
    }
  });

  it('answers 404 in the client protocol for an unknown version or alias, and no model server sees it', async () => {
    const before = await Promise.all(['v1', 'v2'].map((v) => fetch(`${stack().demos.get(`sentiment@${v}`)?.[0]?.url}/__demo/stats`).then((r) => r.json() as Promise<{ requests: number }>)));
    for (const [path, headers] of [
      ['/v2/models/sentiment/versions/v3/infer', {}],
      ['/v2/models/sentiment/versions/beta/infer', {}],
      ['/v2/models/sentiment/infer', { 'x-model-version': 'v3' }],
    ] as const) {
      const res = await fetch(`${stack().url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(v2Input()) });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: expect.stringMatching(/v3|beta/), code: 'version_not_found' });
    }
    const after = await Promise.all(['v1', 'v2'].map((v) => fetch(`${stack().demos.get(`sentiment@${v}`)?.[0]?.url}/__demo/stats`).then((r) => r.json() as Promise<{ requests: number }>)));
    expect(after.map((s) => s.requests)).toEqual(before.map((s) => s.requests));
  });
});
