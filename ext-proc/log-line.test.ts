import { Writable } from 'node:stream';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.js';
import { isoTime, lineWriter, pinoQuote, type FieldValue } from './log-line.js';

// The access line is written without pino's generic serializer, for speed only: the bytes
// must be those `log.info(fields, msg)` writes, for any values, with the gateway's logger.

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { sink, lines };
}

const KEYS = ['reqId', 'path', 'status', 'cancelled', 'durationMs', 'model', 'odd key "quoted"'] as const;
type Fields = Record<(typeof KEYS)[number], FieldValue>;
/** Strings as clients and plugins could bring them: quotes, backslashes, control characters, long ones, lone surrogates. */
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('a"b', 'c\\d', 'e\nf', '\u2028', '\ud800', 'x'.repeat(101), `${'"'.repeat(60)}\\${'y'.repeat(50)}`, ''),
);
const value: fc.Arbitrary<FieldValue> = fc.oneof(
  text,
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, true, false),
  fc.constant(undefined),
);
const fields = fc.record(Object.fromEntries(KEYS.map((k) => [k, value])) as Record<(typeof KEYS)[number], fc.Arbitrary<FieldValue>>) as fc.Arbitrary<Fields>;

afterEach(() => vi.restoreAllMocks());

describe('lineWriter writes the line pino writes', () => {
  it('for any values, with the gateway logger', () => {
    const { sink, lines } = capture();
    const log = createLogger('info', sink).child({ log: 'access' });
    const write = lineWriter(log, 'request', KEYS);
    vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 10, 30, 6, 7, 8, 9));
    // The writer's own path, not pino's: it never calls the logger for plain values.
    const info = vi.spyOn(log, 'info');
    write({ reqId: 'r', path: '/p', status: 200, cancelled: true, durationMs: 1.5, model: undefined, 'odd key "quoted"': 'v' });
    expect(info).not.toHaveBeenCalled();
    info.mockRestore();
    fc.assert(
      fc.property(fields, (f) => {
        lines.length = 0;
        write(f);
        log.info(f, 'request');
        expect(lines).toHaveLength(2);
        expect(lines[0]).toBe(lines[1]);
      }),
      { numRuns: 2000 },
    );
  });

  it('hands values it does not render and loggers it cannot imitate to pino', () => {
    const { sink, lines } = capture();
    const withMixin = pino({ mixin: () => ({ extra: 1 }) }, sink);
    lineWriter(withMixin, 'request', ['a'])({ a: 'x' });
    const plain = createLogger('info', sink);
    lineWriter(plain, 'request', ['a'] as const)({ a: { nested: true } as unknown as string });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { a: 'x', extra: 1, msg: 'request' },
      { a: { nested: true }, msg: 'request' },
    ]);
  });
});

describe('pinoQuote and isoTime are pino`s', () => {
  it('isoTime prints what stdTimeFunctions.isoTime prints, at any millisecond', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }), fc.integer({ min: 0, max: 2000 }), (t, step) => {
        const now = vi.spyOn(Date, 'now');
        for (const at of [t, t + step, t + step + 1, t]) {
          now.mockReturnValue(at);
          expect(isoTime()).toBe(pino.stdTimeFunctions.isoTime());
        }
      }),
    );
  });

  it('pinoQuote parses back to the string for strings without lone surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 120 }), (s) => {
        expect(JSON.parse(pinoQuote(s))).toBe(s);
      }),
    );
  });
});
