import { describe, expect, it } from 'vitest';
import type { Limit } from './options.js';
import { formatDuration } from './responses.js';
import { KeyStore, type Scope } from './store.js';

const perSecond = (amount: number, burst = amount): Limit => ({ rate: { perMs: amount / 1000, burst, amount, unit: 'second' } });
const scope = (key: string, limit: Limit): Scope => ({ key, limit });
const tokensPerMinute = (amount: number): Limit => ({ tokens: { perMs: amount / 60_000, amount, unit: 'minute' } });

describe('KeyStore token buckets', () => {
  it('starts full, refuses the request past the burst and names the wait for one token', () => {
    const store = new KeyStore(1000);
    const s = [scope('a', perSecond(2, 3))];
    for (let i = 0; i < 3; i++) expect(store.admit(s, 0).ok).toBe(true);
    const refused = store.admit(s, 0);
    expect(refused).toMatchObject({ ok: false, reason: 'rate', scope: 0, views: { requests: { limit: 3, remaining: 0, resetMs: 1500 }, tokens: undefined } });
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
    expect(after).toMatchObject({ ok: true, views: { requests: { limit: 3, remaining: 2 } } });
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

describe('KeyStore token budgets', () => {
  it('admits while the budget holds a token, charges after the answer below zero, and refuses until it refilled', () => {
    const store = new KeyStore(1000);
    const s = [scope('a', tokensPerMinute(600))]; // 10 tokens a second
    const first = store.admit(s, 0, true);
    expect(first).toMatchObject({ ok: true, views: { requests: undefined, tokens: { limit: 600, remaining: 600, resetMs: 0 } } });
    // Admission takes nothing: usage is known only after the answer.
    expect(store.admit(s, 0, true)).toMatchObject({ ok: true, views: { tokens: { remaining: 600 } } });
    store.charge(s, 500, 0);
    expect(store.admit(s, 0, true)).toMatchObject({ ok: true, views: { tokens: { remaining: 100, resetMs: 50_000 } } });
    store.charge(s, 300, 0); // two answers at once drove it to -200
    const refused = store.admit(s, 0, true);
    expect(refused).toMatchObject({ ok: false, reason: 'tokens', scope: 0, key: 'a', views: { tokens: { limit: 600, remaining: 0, resetMs: 80_000 } } });
    // The wait until one whole token is back: 201 tokens at 10 a second.
    expect(refused.ok === false && refused.retryAfterMs).toBeCloseTo(20_100);
    expect(store.admit(s, 20_099, true).ok).toBe(false);
    expect(store.admit(s, 20_100, true)).toMatchObject({ ok: true, views: { tokens: { remaining: 1 } } });
  });

  it('checks a budget only for requests that can spend tokens', () => {
    const store = new KeyStore(1000);
    const s = [scope('a', { ...tokensPerMinute(60), maxConcurrent: 5 })];
    store.charge(s, 1_000, 0);
    expect(store.admit(s, 0, true)).toMatchObject({ ok: false, reason: 'tokens' });
    expect(store.admit(s, 0, false)).toMatchObject({ ok: true, views: { tokens: undefined } });
  });

  it('charges every scope with a budget, and the headers describe the first one', () => {
    const store = new KeyStore(1000);
    const own = scope('c', tokensPerMinute(1_000));
    const model = scope('c/m', tokensPerMinute(100));
    const plain = scope('c/x', { maxConcurrent: 9 });
    store.charge([own, model, plain], 150, 0);
    const refused = store.admit([own, model], 0, true);
    expect(refused).toMatchObject({ ok: false, reason: 'tokens', scope: 1, views: { tokens: { limit: 1_000, remaining: 850 } } });
    // The consumer's own budget alone still admits (another model).
    expect(store.admit([own], 0, true).ok).toBe(true);
  });

  it('starts a budget full when a reload adds one to a key that had none, and keeps a spent one until it refilled', () => {
    const store = new KeyStore(1000);
    const held = store.admit([scope('a', { maxConcurrent: 2 })], 0);
    expect(store.admit([scope('a', { maxConcurrent: 2, ...tokensPerMinute(60) })], 10, true)).toMatchObject({ ok: true, views: { tokens: { remaining: 60 } } });
    // Likewise a request rate added to a key that had only a concurrency limit: a full bucket.
    expect(store.admit([scope('a', { ...perSecond(1, 3), maxConcurrent: 3 })], 20)).toMatchObject({ ok: true, views: { requests: { remaining: 2 } } });
    if (held.ok) store.release(held.lease);

    // A spent budget is not idle: as keys come and go it is not forgotten (which would refill it).
    const spent = [scope('spent', tokensPerMinute(60))];
    store.charge(spent, 120, 0);
    for (let i = 0; i < 100; i++) store.admit([scope(`k${i}`, perSecond(1000))], 1_000 + i);
    expect(store.admit(spent, 2_000, true).ok).toBe(false);
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
