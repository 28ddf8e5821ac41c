import { describe, expect, it } from 'vitest';
import { HeaderSet } from './headers.js';

describe('HeaderSet', () => {
  it('refuses a value with CR, LF or NUL anywhere, and sets any other', () => {
    for (const bad of ['a\rb', 'a\nb', 'a\0b', '\r', 'ok\n', '\0ok']) {
      const headers = new HeaderSet();
      expect(() => headers.set('X-Test', bad)).toThrow('header x-test: value contains a control character');
      expect(headers.has('x-test')).toBe(false);
      expect(headers.changes.size).toBe(0);
    }
    const headers = new HeaderSet();
    for (const good of ['', 'plain', 'tab\there', '\u2028', '\u0085', 'é', 'a'.repeat(10_000)]) {
      headers.set('X-Test', good);
      expect(headers.get('x-test')).toBe(good);
    }
  });
});
