import { describe, expect, it } from 'vitest';
import type { Limit } from './options.js';
import { formatDuration } from './responses.js';
import { KeyStore, type Scope } from './store.js';

const perSecond = (amount: number, burst = amount): Limit => ({ rate: { perMs: amount / 1000, burst, amount, unit: 'second' } });
const scope = (key: string, limit: Limit): Scope => ({ key, limit });

describe('KeyStore token buckets', () => {
  it('starts full, refuses the request past the burst and names the wait for one token', () => {
    const store = new KeyStore(1000);
    const s = [scope('a', perSecond(2, 3))];
    for (let i = 0; i < 3; i++) expect(store.admit(s, 0).ok).toBe(true);
    const refused = store.admit(s, 0);
    expect(refused).toMatchObject({ ok: false, reason: 'rate', scope: 0, view: { limit: 3, remaining: 0, resetMs: 1500 } });
    expect(refused.ok === false && refused.retryAfterMs).toBe(500);
  });

  it('refills at the configured rate, never above the burst', () => {
    const store = new KeyStore(1000);
    const s = [scope('a', perSecond(2, 3))];
    for (let i = 0; i < 3; i++) store.admit(s, 0);
    expect(store.admit(s, 499).ok).toBe(false);
    expect(store.admit(s, 500).ok).toBe(true);
    expect(store.admit(s, 500).ok).toBe(false);
    // A long quiet spell fills the bucket to the burst, not beyond.
    const after = store.admit(s, 60_000);
    expect(after).toMatchObject({ ok: true, view: { limit: 3, remaining: 2 } });
    expect(store.admit(s, 60_000).ok).toBe(true);
    expect(store.admit(s, 60_000).ok).toBe(true);
    expect(store.admit(s, 60_000).ok).toBe(false);
  });

  it('keeps keys apart', () => {
    const store = new KeyStore(1000);
    expect(store.admit([scope('a', perSecond(1))], 0).ok).toBe(true);
    expect(store.admit([scope('a', perSecond(1))], 0).ok).toBe(false);
    expect(store.admit([scope('b', perSecond(1))], 0).ok).toBe(true);
  });

  it('counts in-flight requests until released, and a release twice counts once', () => {
    const store = new KeyStore(1000);
    const s = [scope('a', { maxConcurrent: 2 })];
    const first = store.admit(s, 0);
    const second = store.admit(s, 0);
    expect(store.admit(s, 0)).toMatchObject({ ok: false, reason: 'concurrency' });
    if (!first.ok || !second.ok) throw new Error('admitted');
    store.release(first.lease);
    store.release(first.lease);
    expect(store.inflight('a')).toBe(1);
    expect(store.admit(s, 0).ok).toBe(true);
    expect(store.admit(s, 0).ok).toBe(false);
  });

  it('takes nothing from any scope when one refuses', () => {
    const store = new KeyStore(1000);
    const own = scope('c', perSecond(10));
    const model = scope('c/m', { maxConcurrent: 1 });
    expect(store.admit([own, model], 0).ok).toBe(true);
    for (let i = 0; i < 5; i++) expect(store.admit([own, model], 0)).toMatchObject({ ok: false, reason: 'concurrency', scope: 1 });
    // The five refusals cost the consumer's own bucket nothing: 9 tokens are left.
    for (let i = 0; i < 9; i++) expect(store.admit([own], 0).ok).toBe(true);
    expect(store.admit([own], 0).ok).toBe(false);
    expect(store.inflight('c')).toBe(10);
  });

  it('forgets idle keys as traffic goes on, so many distinct keys do not pile up', () => {
    const store = new KeyStore(1_000_000);
    const limit = perSecond(10);
    for (let i = 0; i < 10_000; i++) {
      const r = store.admit([scope(`k${i}`, limit)], i);
      if (r.ok) store.release(r.lease);
    }
    // Each key's bucket is full 100 ms after its one request: only the last ~100 ms of keys remain.
    expect(store.size).toBeLessThan(200);
  });

  it('never keeps more than maxKeys (plus keys with requests in flight), not even for unfinished buckets', () => {
    const store = new KeyStore(100);
    const limit = perSecond(1 / 3600); // a bucket that takes an hour to refill: never idle here
    const held = store.admit([scope('held', { maxConcurrent: 1 })], 0);
    for (let i = 0; i < 5_000; i++) store.admit([scope(`k${i}`, limit)], i);
    expect(store.size).toBeLessThanOrEqual(101);
    // The key with a request in flight was kept: its limit still holds.
    expect(store.admit([scope('held', { maxConcurrent: 1 })], 5_000).ok).toBe(false);
    if (held.ok) store.release(held.lease);
    expect(store.admit([scope('held', { maxConcurrent: 1 })], 5_000).ok).toBe(true);
  });
});

describe('formatDuration', () => {
  it.each([
    [0.2, '1ms'],
    [120, '120ms'],
    [1500, '1.5s'],
    [60_000, '1m0s'],
    [90_250, '1m30.25s'],
    [3_600_000 + 61_000, '1h1m1s'],
  ])('%d ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
