// The Redis store against a real redis-server (scripts/install-redis.sh): two stores stand for
// two gateway replicas sharing one Redis.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from '../../scripts/stack/redis.js';
import { eventually } from '../../test/harness/faults.js';
import type { Admission, Scope } from './limit-store.js';
import type { Limit } from './options.js';
import { RedisStore } from './redis-store.js';
import { StoreHealth } from './store-health.js';
import { RedisOptions, type RedisStoreOptions } from './store-options.js';

let redis: RedisHandle;
const stores: RedisStore[] = [];
beforeAll(async () => {
  redis = await startRedis(await mkdtemp(join(tmpdir(), 'limits-redis-')));
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

let prefixes = 0;
/** A store of its own key space unless `prefix` is shared: `replicas(2, ...)` makes two replicas of one gateway. */
function replicas(n: number, options: Partial<RedisStoreOptions> = {}, prefix = `t${prefixes++}:`) {
  const failures: string[] = [];
  const counter = { inc: (l: { operation: string; policy: string }) => failures.push(`${l.operation}/${l.policy}`) };
  const made = Array.from({ length: n }, () => {
    const opts = RedisOptions.parse({ url: redis.url, keyPrefix: prefix, timeoutMs: 200, ...options });
    const store = new RedisStore(redis.url, opts, new StoreHealth(pino({ level: 'silent' }), counter, 'limits', opts.onFailure, 'test'));
    stores.push(store);
    return store;
  });
  return { stores: made, failures, prefix };
}

const scope = (key: string, limit: Limit): Scope => ({ key: `c\0${key}`, limit });
const perMinute = (amount: number, burst = amount): Limit => ({ rate: { perMs: amount / 60_000, burst, amount, unit: 'minute' } });
const wall = Date.UTC(2026, 10, 30, 12, 0, 0);
const admit = (store: RedisStore, scopes: Scope[], tokens = false, at = wall) => store.admit(scopes, 0, tokens, at);
const admitted = (results: Admission[]) => results.filter((r) => r.ok).length;

async function connected(...list: RedisStore[]): Promise<void> {
  // The connection opens in the background; a store admits through Redis once it is ready.
  await eventually('the stores connected', async () => list.every((s) => (s as unknown as { redis: { status: string } }).redis.status === 'ready'), 5_000, 10);
}

describe('RedisStore: limits shared by replicas', () => {
  it('admits exactly the burst across two replicas sending at once', async () => {
    const { stores: [a, b] } = replicas(2);
    await connected(a as RedisStore, b as RedisStore);
    const s = [scope('burst', perMinute(0.001, 25))];
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => admit(i % 2 ? (a as RedisStore) : (b as RedisStore), s)));
    expect(admitted(results)).toBe(25);
    const refused = results.find((r) => !r.ok);
    expect(refused).toMatchObject({ ok: false, reason: 'rate', scope: 0, views: { requests: { limit: 25, remaining: 0 } } });
  });

  it('holds a concurrency limit across replicas; a release twice frees one slot; a dead replica’s slots expire', async () => {
    const { stores: [a, b], prefix } = replicas(2, { leaseTtlMs: 1_000 });
    await connected(a as RedisStore, b as RedisStore);
    const s = [scope('conc', { maxConcurrent: 3 })];
    const first = await Promise.all(Array.from({ length: 8 }, (_, i) => admit(i % 2 ? (a as RedisStore) : (b as RedisStore), s)));
    expect(admitted(first)).toBe(3);
    expect(first.find((r) => !r.ok)).toMatchObject({ reason: 'concurrency', retryAfterMs: undefined });
    const held = first.filter((r): r is Admission & { ok: true } => r.ok);
    const onA = held[0] as Admission & { ok: true };
    // Released on whichever replica: twice counts once.
    (a as RedisStore).release(onA.lease);
    (b as RedisStore).release(onA.lease);
    await eventually('one slot free', async () => (await admit(b as RedisStore, s)).ok, 2_000, 10);
    expect((await admit(a as RedisStore, s)).ok).toBe(false);
    // A replica that dies renews nothing: its slots expire after leaseTtlMs.
    await (a as RedisStore).close();
    await (b as RedisStore).close();
    const fresh = replicas(1, { leaseTtlMs: 1_000 }, prefix).stores[0] as RedisStore;
    await connected(fresh);
    expect((await admit(fresh, s)).ok).toBe(false);
    await eventually('the dead replicas’ slots expired', async () => (await admit(fresh, s)).ok, 5_000, 100);
  });

  it('renews the slots of running requests, so a long stream keeps its slot past leaseTtlMs', async () => {
    const { stores: [a] } = replicas(1, { leaseTtlMs: 1_000 });
    await connected(a as RedisStore);
    const s = [scope('long', { maxConcurrent: 1 })];
    expect((await admit(a as RedisStore, s)).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1_600)); // past one lifetime: only renewal keeps it
    expect((await admit(a as RedisStore, s)).ok).toBe(false);
  });

  it('charges token budgets and token quotas from any replica; a spent budget refuses everywhere', async () => {
    const { stores: [a, b] } = replicas(2);
    await connected(a as RedisStore, b as RedisStore);
    const limit: Limit = { tokens: { perMs: 1_000 / 86_400_000, amount: 1_000, unit: 'day' }, quotas: [{ what: 'tokens', period: 'month', amount: 5_000 }] };
    const s = [scope('budget', limit)];
    const first = await admit(a as RedisStore, s, true);
    expect(first).toMatchObject({ ok: true, views: { tokens: { limit: 1_000, remaining: 1_000 }, quotas: [{ what: 'tokens', period: 'month', limit: 5_000, remaining: 5_000 }] } });
    (a as RedisStore).charge(s, 600, 0, wall);
    (b as RedisStore).charge(s, 500, 0, wall);
    await eventually('both charges landed', async () => {
      const r = await admit(b as RedisStore, s, true);
      return !r.ok && r.reason === 'tokens';
    }, 2_000, 10);
    const refused = await admit(a as RedisStore, s, true);
    expect(refused).toMatchObject({ ok: false, reason: 'tokens', views: { tokens: { remaining: 0 }, quotas: [{ remaining: 3_900 }] } });
    // Requests that spend no tokens are not held to the budget.
    expect((await admit(a as RedisStore, s, false)).ok).toBe(true);
  });

  it('counts a calendar quota per UTC day: refused until midnight, fresh the next day', async () => {
    const { stores: [a, b] } = replicas(2);
    await connected(a as RedisStore, b as RedisStore);
    const s = [scope('daily', { quotas: [{ what: 'requests', period: 'day', amount: 4 }] })];
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => admit(i % 2 ? (a as RedisStore) : (b as RedisStore), s)));
    expect(admitted(results)).toBe(4);
    const refused = results.find((r) => !r.ok);
    expect(refused).toMatchObject({ ok: false, reason: 'quota', quota: { what: 'requests', period: 'day', amount: 4 }, retryAfterMs: 12 * 3_600_000 });
    expect(refused?.views.quotas).toEqual([{ what: 'requests', period: 'day', limit: 4, remaining: 0, resetMs: 12 * 3_600_000 }]);
    const tomorrow = wall + 24 * 3_600_000;
    expect(await admit(a as RedisStore, s, false, tomorrow)).toMatchObject({ ok: true, views: { quotas: [{ remaining: 3 }] } });
  });
});

describe('RedisStore: Redis down or slow', () => {
  it('fails open (admits, counted) or closed (refuses), without waiting for a reconnect, and recovers by itself', async () => {
    const open = replicas(1, { onFailure: 'open' });
    const closed = replicas(1, { onFailure: 'closed' });
    const [o, c] = [open.stores[0] as RedisStore, closed.stores[0] as RedisStore];
    await connected(o, c);
    const s = [scope('outage', { ...perMinute(0.001, 1_000), maxConcurrent: 100 })];
    expect((await admit(o, s)).ok).toBe(true);

    await redis.stop();
    const during = await admit(o, s);
    expect(during).toMatchObject({ ok: true, views: { requests: undefined, quotas: [] } });
    if (during.ok) o.release(during.lease);
    expect(await admit(c, s)).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(open.failures).toContain('admit/open');
    expect(closed.failures).toContain('admit/closed');

    await redis.start();
    await eventually('both stores decide through Redis again', async () => {
      const [x, y] = await Promise.all([admit(o, s), admit(c, s)]);
      return x.ok && x.views.requests !== undefined && y.ok;
    }, 10_000, 50);
  });

  it('bounds the wait for a Redis that does not answer (paused), then applies the policy', async () => {
    const closed = replicas(1, { onFailure: 'closed', timeoutMs: 50 });
    const c = closed.stores[0] as RedisStore;
    await connected(c);
    const s = [scope('paused', { maxConcurrent: 5 })];
    redis.child.proc.kill('SIGSTOP');
    try {
      expect(await admit(c, s)).toMatchObject({ ok: false, reason: 'unavailable' });
    } finally {
      redis.child.proc.kill('SIGCONT');
    }
    // The refused request's slot, if the script ran late, was given back: all 5 are free.
    await eventually('five slots free again', async () => {
      const r = await Promise.all(Array.from({ length: 5 }, () => admit(c, s)));
      const ok = admitted(r);
      for (const x of r) if (x.ok) c.release(x.lease);
      return ok === 5;
    }, 5_000, 50);
  });
});
