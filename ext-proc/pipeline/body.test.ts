import { describe, expect, it } from 'vitest';
import { PluginError } from '../../plugins/sdk/errors.js';
import { BodyBuffer, MAX_JSON_DEPTH, nestsDeeperThan } from './body.js';

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('JSON nesting limit', () => {
  it('measures depth across arrays and objects, ignoring brackets inside strings', () => {
    expect(nestsDeeperThan(Buffer.from(deep(3)), 3)).toBe(false);
    expect(nestsDeeperThan(Buffer.from(deep(4)), 3)).toBe(true);
    expect(nestsDeeperThan(Buffer.from('{"a":{"b":[1]}}'), 3)).toBe(false);
    expect(nestsDeeperThan(Buffer.from('{"a":{"b":[{}]}}'), 3)).toBe(true);
    expect(nestsDeeperThan(Buffer.from(`["${'['.repeat(500)}"]`), 1)).toBe(false);
    expect(nestsDeeperThan(Buffer.from(`["\\"${'['.repeat(500)}"]`), 1)).toBe(false);
  });

  it('refuses a 100k-deep request body with a 400 before anything recurses into it', () => {
    const body = new BodyBuffer(Buffer.from(deep(100_000)), 'request');
    let err: unknown;
    try {
      body.json();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_json', message: `body nests deeper than ${MAX_JSON_DEPTH} levels` });
  });

  it('accepts nesting up to the limit', () => {
    expect(new BodyBuffer(Buffer.from(deep(MAX_JSON_DEPTH)), 'request').json()).toBeDefined();
  });
});

describe('body parsing', () => {
  it('refuses a byte-order mark before the JSON, as model servers do', () => {
    const body = new BodyBuffer(Buffer.from(`\ufeff{"a":1}`), 'request');
    expect(() => body.json()).toThrow(/not valid JSON/);
  });
});
