import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Limit } from './options.js';
import { KeyStore, type Admission, type Lease, type Scope } from './store.js';

// The store forgets idle keys (bucket and budget full, nothing in flight, no counts in a
// running window) in a sweep that runs on one admission in eight: at a low request rate each
// sweep was cold-cache time on the request's path. That is only safe if forgetting a key
// changes nothing: a key found idle must answer exactly as a new one. Here three stores see
// the same operations, one sweeping before every admission, one as shipped, one whose idle
// sweep never comes, and must give the same answers to the last digit.

const DAY = 86_400_000;
const KEYS = ['c\0a', 'c\0b', 'c\0a\0m'];

const limitArb: fc.Arbitrary<Limit> = fc.record(
  {
    rate: fc.record({ amount: fc.integer({ min: 1, max: 20 }), burst: fc.integer({ min: 1, max: 30 }) }).map(({ amount, burst }) => ({ perMs: amount / 1000, burst, amount, unit: 'second' as const })),
    maxConcurrent: fc.integer({ min: 1, max: 3 }),
    tokens: fc.integer({ min: 1, max: 2000 }).map((amount) => ({ perMs: amount / 60_000, amount, unit: 'minute' as const })),
    quotas: fc.subarray(
      [
        { what: 'requests' as const, period: 'day' as const, amount: 5 },
        { what: 'tokens' as const, period: 'month' as const, amount: 3000 },
      ],
      { minLength: 1 },
    ),
  },
  { requiredKeys: [] },
);

type Op =
  | { op: 'admit'; keys: number[]; tokens: boolean }
  | { op: 'release'; which: number }
  | { op: 'charge'; keys: number[]; amount: number }
  | { op: 'wait'; ms: number }
  | { op: 'untilFull' };

const keysArb = fc.uniqueArray(fc.integer({ min: 0, max: KEYS.length - 1 }), { minLength: 1, maxLength: 2 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('admit' as const), keys: keysArb, tokens: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), which: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('charge' as const), keys: keysArb, amount: fc.integer({ min: 1, max: 900 }) }) },
  // Idle gaps of every size: none, a few ms, the odd fractions at which a bucket is full again, a day.
  // Until the last admission's buckets are full again, to the last bit: the moment a key turns idle.
  { weight: 2, arbitrary: fc.constant({ op: 'untilFull' as const }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 }), fc.double({ min: 0, max: 200, noNaN: true }), fc.constant(DAY)) }) },
);

/** What a client could see of an admission. */
function seen(a: Admission): unknown {
  return a.ok ? { ok: true, views: a.views } : { ok: false, reason: a.reason, scope: a.scope, key: a.key, retryAfterMs: a.retryAfterMs, quota: a.quota, views: a.views };
}

describe('KeyStore: when idle keys are forgotten does not show', () => {
  it('admits a key whose bucket is full again to the last bit, swept or not (a refill rounds 1 down to 0.9999…)', () => {
    const limit: Limit = { rate: { perMs: 0.012, burst: 1, amount: 12, unit: 'second' } };
    for (const store of [new KeyStore(1000, 1), new KeyStore(1000, Number.MAX_SAFE_INTEGER)]) {
      const first = store.admit([{ key: 'k', limit }], 1_000, false, 0);
      if (!first.ok) throw new Error('refused');
      store.release(first.lease);
      const full = 1_000 + (first.views.requests?.resetMs as number);
      expect(store.admit([{ key: 'k', limit }], full, false, 0)).toMatchObject({ ok: true, views: { requests: { remaining: 0 } } });
    }
  });

  it('answers alike whether the idle sweep runs before every admission, on one in eight, or never', () => {
    fc.assert(
      fc.property(fc.array(limitArb, { minLength: KEYS.length, maxLength: KEYS.length }), fc.array(opArb, { maxLength: 120 }), (limits, ops) => {
        const stores = [new KeyStore(1_000_000, 1), new KeyStore(1_000_000), new KeyStore(1_000_000, Number.MAX_SAFE_INTEGER)];
        const leases: Lease[][] = stores.map(() => []);
        const scopes = (keys: number[]): Scope[] => keys.map((k) => ({ key: KEYS[k] as string, limit: limits[k] as Limit }));
        let now = 1_000;
        let wall = Date.UTC(2026, 0, 31, 23, 59, 59, 0);
        let untilFull = 0;
        for (const o of ops) {
          if (o.op === 'wait' || o.op === 'untilFull') {
            const ms = o.op === 'wait' ? o.ms : untilFull;
            now += ms;
            wall += Math.ceil(ms);
            continue;
          }
          const answers = stores.map((store, i) => {
            const held = leases[i] as Lease[];
            if (o.op === 'admit') {
              const a = store.admit(scopes(o.keys), now, o.tokens, wall);
              if (a.ok) held.push(a.lease);
              return seen(a);
            }
            if (o.op === 'release') {
              if (held.length > 0) store.release(held.splice(o.which % held.length, 1)[0] as Lease);
              return undefined;
            }
            store.charge(scopes(o.keys), o.amount, now, wall);
            return undefined;
          });
          const views = (answers[0] as { views?: Admission['views'] } | undefined)?.views;
          if (views !== undefined) untilFull = Math.max(views.requests?.resetMs ?? 0, views.tokens?.resetMs ?? 0);
          expect(answers[1]).toEqual(answers[0]);
          expect(answers[2]).toEqual(answers[0]);
        }
        for (const [i, store] of stores.entries()) for (const lease of leases[i] as Lease[]) store.release(lease);
        for (const store of stores) expect(store.totalInflight()).toBe(0);
      }),
      { numRuns: 5_000 },
    );
  });
});
