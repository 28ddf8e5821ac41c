import { BinaryReader } from '@bufbuild/protobuf/wire';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMetadata } from './envoy-metadata.js';
import { Metadata } from './gen/envoy/config/core/v3/base.js';

/** decodeMetadata over the whole of `bytes`, or 'error' when it throws. */
function fast(bytes: Uint8Array): Metadata | 'error' {
  try {
    return decodeMetadata(new BinaryReader(bytes), bytes.length);
  } catch {
    return 'error';
  }
}

function generated(bytes: Uint8Array): Metadata | 'error' {
  try {
    return Metadata.decode(bytes);
  } catch {
    return 'error';
  }
}

const name = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('io.inference-gateway.body', 'model', '', '__proto__', 'constructor', '0', '\ufeffx', 'é'));
// Every kind of Struct value, strings (the fast path's) most often.
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { weight: 6, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.double({ noNaN: true }) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 3 }) },
    { weight: 1, arbitrary: fc.dictionary(name, tie('value'), { maxKeys: 3 }) },
  ),
})).value;
const metadata = fc.record({
  filterMetadata: fc.dictionary(name, fc.dictionary(name, json, { maxKeys: 4 }), { maxKeys: 3 }),
  typedFilterMetadata: fc.oneof(
    { weight: 4, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: fc.dictionary(name, fc.record({ typeUrl: fc.string({ maxLength: 10 }), value: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)) }), { maxKeys: 2 }) },
  ),
});

describe('decodeMetadata', () => {
  it('decodes every Metadata exactly as the generated decoder does', () => {
    fc.assert(
      fc.property(metadata, (m) => {
        const bytes = Metadata.encode(Metadata.fromPartial(m)).finish();
        expect(fast(bytes)).toEqual(generated(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads repeated namespaces and fields as the generated decoder does (the last one wins)', () => {
    // Two messages back to back are one message with every field repeated.
    fc.assert(
      fc.property(metadata, metadata, (a, b) => {
        const bytes = Buffer.concat([Metadata.encode(Metadata.fromPartial(a)).finish(), Metadata.encode(Metadata.fromPartial(b)).finish()]);
        expect(fast(bytes)).toEqual(generated(bytes));
      }),
      { numRuns: 1000 },
    );
    const twice = Buffer.concat([0, 1].map((i) => Metadata.encode({ filterMetadata: { ns: { model: `m${i}` } }, typedFilterMetadata: {} }).finish()));
    expect(fast(twice)).toEqual({ filterMetadata: { ns: { model: 'm1' } }, typedFilterMetadata: {} });
  });

  it('reads what Envoy forwards, the body model, in place', () => {
    const m = { filterMetadata: { 'io.inference-gateway.body': { model: 'chat-small' } }, typedFilterMetadata: {} };
    const bytes = Metadata.encode(m).finish();
    expect(fast(bytes)).toEqual(m);
  });

  it('agrees with the generated decoder on damaged bytes: the same result, or an error for both', () => {
    const wellFormed = metadata.map((m) => Metadata.encode(Metadata.fromPartial(m)).finish());
    const damaged = fc.oneof(
      // Cut short, or a byte changed, somewhere.
      fc.tuple(wellFormed, fc.nat()).map(([b, at]) => b.subarray(0, b.length === 0 ? 0 : at % b.length)),
      fc.tuple(wellFormed, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
        const copy = Uint8Array.from(b);
        if (copy.length > 0) copy[at % copy.length] = v;
        return copy;
      }),
      fc.uint8Array({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(damaged, (bytes) => {
        expect(fast(bytes)).toEqual(generated(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it('leaves the reader at the end of the field, as the generated decoder does', () => {
    const m = Metadata.encode({ filterMetadata: { ns: { model: 'm' } }, typedFilterMetadata: {} }).finish();
    const bytes = Buffer.concat([m, Buffer.from([0x08, 0x01])]);
    const reader = new BinaryReader(bytes);
    decodeMetadata(reader, m.length);
    expect(reader.pos).toBe(m.length);
  });
});
