import { describe, expect, it } from 'vitest';
import type { ModelInfo, TrafficPolicy } from '../../plugins/sdk/types.js';
import { assignVersion, bucketOf, versionAt } from './traffic.js';

function model(traffic: TrafficPolicy, versions = ['v1', 'v2']): ModelInfo {
  return { name: 'm', protocol: 'kserve-v2', versions, aliases: {}, defaultVersion: versions[0] as string, traffic };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);

describe('bucketOf', () => {
  it('puts a key at the same point every time, inside [0, 1)', () => {
    for (const key of keys(200)) {
      const p = bucketOf('salt', key);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(1);
      expect(bucketOf('salt', key)).toBe(p);
    }
  });

  it('spreads keys evenly and depends on the salt', () => {
    const points = keys(10_000).map((k) => bucketOf('a', k));
    const low = points.filter((p) => p < 0.1).length / points.length;
    expect(low).toBeGreaterThan(0.09);
    expect(low).toBeLessThan(0.11);
    const moved = keys(1000).filter((k) => bucketOf('a', k) !== bucketOf('b', k)).length;
    expect(moved).toBe(1000);
  });
});

describe('versionAt', () => {
  it('lays shares out in version order', () => {
    const w = { v1: 90, v2: 10 };
    expect(versionAt(['v1', 'v2'], w, 0)).toBe('v1');
    expect(versionAt(['v1', 'v2'], w, 0.8999)).toBe('v1');
    expect(versionAt(['v1', 'v2'], w, 0.9)).toBe('v2');
    expect(versionAt(['v1', 'v2'], w, 0.9999)).toBe('v2');
  });

  it('gives a version with weight 0 nothing, and nothing at all when every weight is 0', () => {
    expect(versionAt(['v1', 'v2'], { v1: 0, v2: 5 }, 0)).toBe('v2');
    expect(versionAt(['v1', 'v2'], { v1: 3, v2: 0 }, 0.99)).toBe('v1');
    expect(versionAt(['v1', 'v2'], { v1: 0, v2: 0 }, 0.5)).toBeUndefined();
    expect(versionAt(['v1', 'v2'], { v2: 1 }, 0.2)).toBe('v2');
  });

  it('moves only the keys in the slice that changed hands when a canary grows from 10 to 20', () => {
    const before = new Map(keys(20_000).map((k) => [k, versionAt(['v1', 'v2'], { v1: 90, v2: 10 }, bucketOf('m', k))]));
    const after = new Map(keys(20_000).map((k) => [k, versionAt(['v1', 'v2'], { v1: 80, v2: 20 }, bucketOf('m', k))]));
    let moved = 0;
    for (const [k, v] of before) {
      if (after.get(k) === v) continue;
      moved++;
      // Nobody leaves the canary when it grows.
      expect([v, after.get(k)]).toEqual(['v1', 'v2']);
    }
    expect(moved / before.size).toBeGreaterThan(0.09);
    expect(moved / before.size).toBeLessThan(0.11);
  });
});

describe('assignVersion', () => {
  it('keeps a sticky key on one version and reports the variant and experiment', () => {
    const m = model({ weights: { v1: 50, v2: 50 }, stickyKey: { header: 'x-user-id' }, experiment: 'exp', variants: { v2: 'treatment' } });
    for (const key of keys(50)) {
      const first = assignVersion(m, key);
      expect(first.reason).toBe('sticky');
      expect(first.experiment).toBe('exp');
      expect(first.variant).toBe(first.version === 'v2' ? 'treatment' : 'v1');
      for (let i = 0; i < 5; i++) expect(assignVersion(m, key).version).toBe(first.version);
    }
  });

  it('splits by a random point without a key, and uses the default version without weights', () => {
    const m = model({ weights: { v1: 90, v2: 10 } });
    expect(assignVersion(m, undefined, () => 0.95)).toMatchObject({ version: 'v2', reason: 'split', variant: 'v2' });
    expect(assignVersion(m, undefined, () => 0.5)).toMatchObject({ version: 'v1', reason: 'split' });
    expect(assignVersion(model({}), undefined, () => 0.95)).toEqual({ version: 'v1', reason: 'default' });
    expect(assignVersion(model({ weights: { v1: 0, v2: 0 } }), undefined)).toMatchObject({ version: 'v1', reason: 'default' });
  });

  it('mirrors the configured share to the shadow version, never to the version already serving', () => {
    const m = model({ weights: { v1: 100, v2: 0 }, shadow: { version: 'v2', percent: 25 } }, ['v1', 'v2']);
    let roll = 0;
    const seq = [0.1, 0.2, 0.1, 0.3]; // first roll picks the version, second the shadow
    const random = () => seq[roll++ % seq.length] as number;
    expect(assignVersion(m, undefined, random).shadow).toBe('v2'); // 0.2 * 100 < 25
    expect(assignVersion(m, undefined, random).shadow).toBeUndefined(); // 0.3 * 100 >= 25
    const all = model({ weights: { v2: 1 }, shadow: { version: 'v2', percent: 100 } });
    expect(assignVersion(all, undefined, () => 0.999).shadow).toBeUndefined();
    const full = model({ weights: { v1: 1 }, shadow: { version: 'v2', percent: 100 } });
    expect(assignVersion(full, undefined, () => 0.9999).shadow).toBe('v2');
    const none = model({ weights: { v1: 1 }, shadow: { version: 'v2', percent: 0 } });
    expect(assignVersion(none, undefined, () => 0).shadow).toBeUndefined();
  });

  it('names the fallback unless the fallback is the version chosen', () => {
    const m = model({ weights: { v1: 50, v2: 50 }, fallback: 'v1' });
    expect(assignVersion(m, undefined, () => 0.9).fallback).toBe('v1');
    expect(assignVersion(m, undefined, () => 0.1).fallback).toBeUndefined();
  });
});
