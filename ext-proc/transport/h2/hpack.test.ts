import { describe, expect, it } from 'vitest';
import { encodeHeaders, HpackDecoder, HpackError } from './hpack.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('HPACK decoder', () => {
  it('decodes RFC 7541 C.4 (requests with Huffman coding), keeping the dynamic table across blocks', () => {
    const d = new HpackDecoder(4096, 64 * 1024);
    expect(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'],
    ]);
    expect(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf'))).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache'],
    ]);
    expect(d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'))).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value'],
    ]);
  });

  it('decodes RFC 7541 C.5 (responses, a 256-byte table that evicts)', () => {
    const d = new HpackDecoder(256, 64 * 1024);
    d.decode(hex('4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'));
    expect(d.decode(hex('4803 3330 37c1 c0bf'))).toEqual([
      [':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com'],
    ]);
  });

  it('reads back what encodeHeaders writes, long values included', () => {
    const fields: Array<[string, string]> = [['grpc-status', '13'], ['grpc-message', 'x'.repeat(300)], ['content-type', 'application/grpc']];
    expect(new HpackDecoder(4096, 64 * 1024).decode(encodeHeaders(fields))).toEqual(fields);
  });

  it.each([
    ['index 0', '80'],
    ['an index past the tables', 'ff00'],
    ['a truncated integer', 'ff'],
    ['a string longer than the block', '0003 6162'],
    ['an integer that never ends', 'ffffffffffffff'],
    ['a table size over the setting', '3fe21f'],
    ['a Huffman string with bad padding', '0081 00 00'],
  ])('refuses %s', (_what, block) => {
    expect(() => new HpackDecoder(4096, 64 * 1024).decode(hex(block))).toThrow(HpackError);
  });

  it('refuses a block that decodes to more than the list bound (a small block can name a large entry many times)', () => {
    const d = new HpackDecoder(4096, 8 * 1024);
    d.decode(encodeHeadersIndexed('x', 'y'.repeat(1000)));
    expect(() => d.decode(Buffer.alloc(20, 0xbe))).toThrow(/more than 8192 bytes/);
  });
});

/** A literal with incremental indexing, new name (what a peer does to fill our table). */
function encodeHeadersIndexed(name: string, value: string): Buffer {
  const plain = encodeHeaders([[name, value]]);
  plain[0] = 0x40;
  return plain;
}
