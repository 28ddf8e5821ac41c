import { describe, expect, it } from 'vitest';
import { SweepOrder } from './sweep-order.js';

/** The store's sweep as it was, on a Map in insertion order: delete, and set again to keep. */
function mapSweep(map: Map<string, number>, budget: number, keep: (key: string) => boolean, seen: string[]): void {
  for (const [key, value] of map) {
    if (budget-- === 0) break;
    seen.push(key);
    map.delete(key);
    if (keep(key)) map.set(key, value);
  }
}

function orderSweep(order: SweepOrder<number>, budget: number, keep: (key: string) => boolean, seen: string[]): void {
  for (; budget > 0; budget--) {
    const front = order.front();
    if (!front) break;
    seen.push(front.key);
    order.visitFront(keep(front.key));
  }
}

/** A small deterministic generator, so a failure repeats. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('SweepOrder', () => {
  it('visits and keeps keys in exactly the order of the Map sweep it replaced', () => {
    for (const seed of [1, 2, 3, 42]) {
      const next = random(seed);
      const map = new Map<string, number>();
      const order = new SweepOrder<number>();
      let added = 0;
      for (let step = 0; step < 2_000; step++) {
        if (next() < 0.4) {
          const key = `k${added++}`;
          map.set(key, added);
          order.add(key, added);
        }
        // The same keep decision for a key within one sweep, whichever structure asks.
        const decisions = new Map<string, boolean>();
        const keep = (key: string) => {
          if (!decisions.has(key)) decisions.set(key, next() < 0.6);
          return decisions.get(key) as boolean;
        };
        const budget = 1 + Math.floor(next() * 5);
        const a: string[] = [];
        const b: string[] = [];
        mapSweep(map, budget, keep, a);
        orderSweep(order, budget, keep, b);
        expect(b).toEqual(a);
        expect(order.size).toBe(map.size);
      }
      expect([...order.values()].sort()).toEqual([...map.values()].sort());
      const rest: string[] = [];
      orderSweep(order, order.size, () => false, rest);
      expect(rest).toEqual([...map.keys()]);
    }
  });

  it('finds values by key and refuses a key twice', () => {
    const order = new SweepOrder<string>();
    order.add('a', 'A');
    expect(order.get('a')).toBe('A');
    expect(order.get('b')).toBeUndefined();
    expect(() => order.add('a', 'again')).toThrow(/already/);
    order.visitFront(false);
    expect(order.get('a')).toBeUndefined();
    expect(order.front()).toBeUndefined();
  });
});
