import type { HeaderMutator } from './types.js';

/**
 * Headers of one message plus the changes plugins made to them. Reads see the changes, so a
 * later plugin observes what an earlier one set.
 */
export class HeaderSet implements HeaderMutator {
  private readonly values: Map<string, string>;
  /** name → new value, or null for removal. */
  readonly changes = new Map<string, string | null>();

  constructor(values: Map<string, string> = new Map()) {
    this.values = values;
  }

  get(name: string): string | undefined {
    return this.values.get(name.toLowerCase());
  }

  has(name: string): boolean {
    return this.values.has(name.toLowerCase());
  }

  entries(): IterableIterator<[string, string]> {
    return this.values.entries();
  }

  set(name: string, value: string): void {
    const key = name.toLowerCase();
    if (hasLineBreakOrNul(value)) throw new Error(`header ${key}: value contains a control character`);
    this.values.set(key, value);
    this.changes.set(key, value);
  }

  remove(name: string): void {
    const key = name.toLowerCase();
    this.values.delete(key);
    this.changes.set(key, null);
  }
}

/**
 * CR, LF or NUL anywhere in a header value (they would split or cut it on the wire). A loop,
 * not a regular expression: it runs for every header a plugin sets, and cold (after the idle
 * gap between requests at a low rate) a regular expression's matcher is code of its own.
 */
function hasLineBreakOrNul(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 13 || c === 10 || c === 0) return true;
  }
  return false;
}
