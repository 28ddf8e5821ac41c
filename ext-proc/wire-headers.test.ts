import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProcessingRequest } from './envoy-decode.js';
import { ProcessingRequest, type HttpHeaders } from './gen/envoy/service/ext_proc/v3/external_processor.js';
import { readHeaders, WireHeaderMap } from './wire-headers.js';

// Names repeat often (folding), values come as raw_value, value or both (raw wins when not empty).
const header = fc.record({
  key: fc.constantFrom(':path', 'x-a', 'x-b', 'content-type', 'ü-name', ''),
  value: fc.string({ maxLength: 12 }),
  rawValue: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
});
const headersMessage = fc.record({ headers: fc.array(header, { maxLength: 10 }), endOfStream: fc.boolean() });

function encoded(value: { headers: { key: string; value: string; rawValue: Buffer }[]; endOfStream: boolean }): Buffer {
  const m = ProcessingRequest.fromPartial({ request: { $case: 'requestHeaders', value: { headers: { headers: value.headers }, endOfStream: value.endOfStream } } });
  return Buffer.from(ProcessingRequest.encode(m).finish());
}
const headersOf = (m: ProcessingRequest) => (m.request?.$case === 'requestHeaders' ? m.request.value : undefined) as HttpHeaders;

describe('headers read straight off the wire', () => {
  it('give the same map, count and size as the generated HeaderValue list', () => {
    fc.assert(
      fc.property(headersMessage, (value) => {
        const bytes = encoded(value);
        const fast = headersOf(decodeProcessingRequest(bytes));
        expect(fast.headers).toBeInstanceOf(WireHeaderMap);
        expect(readHeaders(fast)).toEqual(readHeaders(headersOf(ProcessingRequest.decode(bytes))));
      }),
      { numRuns: 1000 },
    );
  });

  it('hand the map over once: a second read is not the map the first reader edited', () => {
    const msg = headersOf(decodeProcessingRequest(encoded({ headers: [{ key: 'x-a', value: '', rawValue: Buffer.from('1') }], endOfStream: true })));
    const first = readHeaders(msg);
    first.values.set('x-a', 'edited');
    expect(readHeaders(msg).values.get('x-a')).toBe('1');
  });

  it('keep the HeaderValue list readable and replaceable, and the map follows the list once it was read', () => {
    const msg = headersOf(decodeProcessingRequest(encoded({ headers: [{ key: 'x-a', value: '', rawValue: Buffer.from('1') }], endOfStream: true })));
    const map = msg.headers as WireHeaderMap;
    expect(map.headers).toEqual([{ key: 'x-a', value: '', rawValue: Buffer.from('1') }]);
    expect(map.headers).toBe(map.headers);
    map.headers.push({ key: 'x-b', value: '2', rawValue: Buffer.alloc(0) });
    expect(Object.fromEntries(readHeaders(msg).values)).toEqual({ 'x-a': '1', 'x-b': '2' });
    map.headers = [];
    expect(readHeaders(msg).count).toBe(0);
  });
});
