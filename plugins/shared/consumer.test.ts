import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAuthorization } from './consumer.js';

/** parseAuthorization as it was: the regex alone. The fast path must answer exactly as it does. */
function byRegex(value: string | undefined): { scheme: string; token: string } | undefined {
  if (value === undefined) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +(\S+) *$/.exec(value);
  return m ? { scheme: (m[1] as string).toLowerCase(), token: m[2] as string } : undefined;
}

describe('parseAuthorization', () => {
  it('reads the scheme and token of any header value as the RFC 7235 regex does', () => {
    const prefix = fc.constantFrom('Bearer ', 'Bearer  ', 'bearer ', 'BEARER ', 'Bearer', 'Basic ', ' Bearer ', 'Bearer\t', '');
    const rest = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
      fc.constantFrom('demo-key', 'a.b.c', 'key ', 'key  ', ' key', 'k\u00a0', 'k\u2028', 'k\u00e9', 'k\x7f', 'k\ufeff', 'k\tx', 'k x'),
    );
    fc.assert(
      fc.property(prefix, rest, (p, r) => {
        expect(parseAuthorization(p + r)).toStrictEqual(byRegex(p + r));
      }),
      { numRuns: 5000 },
    );
    expect(parseAuthorization(undefined)).toBeUndefined();
    expect(parseAuthorization('Bearer demo-key')).toStrictEqual({ scheme: 'bearer', token: 'demo-key' });
  });
});
