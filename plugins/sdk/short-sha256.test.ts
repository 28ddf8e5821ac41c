import { hash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestWords, SHORT_SHA256_MAX, shortSha256 } from './short-sha256.js';

const viaNode = (text: string) => digestWords(hash('sha256', text, 'buffer'));

describe('shortSha256', () => {
  it('gives the FIPS 180-4 digests', () => {
    const out = new Int32Array(8);
    expect(shortSha256('abc', out)).toBe(true);
    expect(Buffer.from(new Uint8Array(out.buffer)).swap32().toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(shortSha256('', out)).toBe(true);
    expect(Buffer.from(new Uint8Array(out.buffer)).swap32().toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agrees with node:crypto on every short ASCII string, and declines the rest', () => {
    const out = new Int32Array(8);
    const text = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 70 }),
      fc.string({ maxLength: 70 }),
      fc.string({ unit: 'binary', maxLength: 70 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        out.fill(7);
        const ascii = /^[\x00-\x7f]*$/.test(t);
        const done = shortSha256(t, out);
        expect(done).toBe(ascii && t.length <= SHORT_SHA256_MAX);
        if (done) expect(out).toStrictEqual(viaNode(t));
        else expect(out).toStrictEqual(new Int32Array(8).fill(7));
      }),
      { numRuns: 5000 },
    );
    // Every length up to one block, and the first that does not fit.
    for (let n = 0; n <= SHORT_SHA256_MAX + 1; n++) {
      const t = 'k'.repeat(n);
      expect(shortSha256(t, out)).toBe(n <= SHORT_SHA256_MAX);
      if (n <= SHORT_SHA256_MAX) expect(out).toStrictEqual(viaNode(t));
    }
  });

  it('leaves nothing of the key behind: a declined key does not change the next digest', () => {
    const out = new Int32Array(8);
    expect(shortSha256('x'.repeat(20) + 'é', out)).toBe(false);
    expect(shortSha256('ab', out)).toBe(true);
    expect(out).toStrictEqual(viaNode('ab'));
  });
});
