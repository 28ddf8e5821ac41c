import { describe, expect, it } from 'vitest';
import { ChurnTable } from './churn-table.js';

describe('ChurnTable', () => {
  it('counts, finds and forgets entries by id, and lists them in id order', () => {
    const t = new ChurnTable<string>();
    t.set(1, 'a');
    t.set(3, 'c');
    t.set(5, 'e');
    t.set(3, 'C'); // replaced, not counted twice
    expect(t.size).toBe(3);
    expect(t.get(3)).toBe('C');
    expect(t.delete(1)).toBe(true);
    expect(t.delete(1)).toBe(false);
    expect(t.get(1)).toBeUndefined();
    expect(t.size).toBe(2);
    expect(t.values()).toEqual(['C', 'e']);
    expect(t.ids()).toEqual([3, 5]);
  });

  it('stays consistent over many streams coming and going', () => {
    const t = new ChurnTable<number>();
    const open: number[] = [];
    for (let id = 1; id < 20_000; id += 2) {
      t.set(id, id);
      open.push(id);
      if (open.length > 16) t.delete(open.shift() as number);
    }
    expect(t.size).toBe(16);
    expect(t.ids()).toEqual(open);
  });
});
