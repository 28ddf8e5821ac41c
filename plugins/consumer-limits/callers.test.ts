import { describe, expect, it } from 'vitest';
import type { BaseContext } from '../sdk/index.js';
import { Callers, scopesOf } from './callers.js';
import { Options, Policies } from './options.js';
import { KeyStore } from './store.js';

const policies = new Policies(Options.parse({ default: { requestsPerSecond: 1, burst: 1 }, consumers: { vip: { models: { tinylm: { requestsPerMinute: 1 } } } } }));
const as = (id: string): BaseContext => ({ vars: { consumer: { id } } }) as unknown as BaseContext;

describe('callers', () => {
  it('a consumer keeps its bucket when the cache of callers starts over', () => {
    const callers = new Callers(policies, 'shared');
    const store = new KeyStore(100_000);
    const first = scopesOf(callers.of(as('alice')), undefined).scopes;
    expect(store.admit(first, 0).ok).toBe(true);
    // More consumers than the cache holds: alice's caller is made anew.
    for (let i = 0; i < 10_001; i++) callers.of(as(`c${i}`));
    const again = scopesOf(callers.of(as('alice')), undefined).scopes;
    expect(again).not.toBe(first);
    expect(store.admit(again, 0)).toMatchObject({ ok: false, reason: 'rate' });
  });

  it('adds the scope of a model with a limit of its own to the caller\'s own scopes (vip has none); other models count in the own scopes only', () => {
    const callers = new Callers(policies, 'shared');
    const vip = callers.of(as('vip'));
    expect(scopesOf(vip, 'tinylm').scopes.map((s) => s.key)).toEqual(['c\0vip\0tinylm']);
    expect(scopesOf(vip, 'sentiment').scopes).toEqual([]);
    const alice = callers.of(as('alice'));
    expect(scopesOf(alice, 'tinylm').scopes.map((s) => s.key)).toEqual(['c\0alice']);
  });
});
