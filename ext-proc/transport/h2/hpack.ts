import { decodeHuffman, HuffmanError } from './huffman.js';

/** A header block that cannot be decoded: the connection's HPACK state is lost (COMPRESSION_ERROR). */
export class HpackError extends Error {}

// RFC 7541, Appendix A. Index 1 is the first entry.
// prettier-ignore
const STATIC: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** Per-entry overhead of the dynamic table's size accounting (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/**
 * The decoding side of HPACK for one connection (RFC 7541): the static and dynamic tables,
 * integers, literals and Huffman strings. Header blocks must be decoded in the order they
 * arrived, refused streams' blocks included, or the dynamic table drifts from the peer's.
 */
export class HpackDecoder {
  /** Newest entry first, as HPACK indexes them. */
  private readonly dynamic: Array<readonly [string, string]> = [];
  private size = 0;
  private limit: number;
  private pos = 0;
  private src: Uint8Array = new Uint8Array(0);

  /**
   * @param maxTableSize our SETTINGS_HEADER_TABLE_SIZE: the most the peer may make the table
   * @param maxListBytes the most one block may decode to (RFC 7541 sizes); more is a hostile block
   */
  constructor(
    private readonly maxTableSize: number,
    private readonly maxListBytes: number,
  ) {
    this.limit = maxTableSize;
  }

  /** Decodes one complete header block into name/value pairs (lowercase names as sent). */
  decode(block: Uint8Array): Array<[string, string]> {
    this.src = block;
    this.pos = 0;
    const out: Array<[string, string]> = [];
    let listBytes = 0;
    try {
      while (this.pos < block.length) {
        const first = block[this.pos] as number;
        let field: readonly [string, string] | undefined;
        if (first & 0x80) {
          field = this.entry(this.integer(7));
        } else if ((first & 0xc0) === 0x40) {
          field = this.literal(6);
          this.insert(field);
        } else if ((first & 0xe0) === 0x20) {
          const size = this.integer(5);
          if (size > this.maxTableSize) throw new HpackError(`table size update to ${size} over ${this.maxTableSize}`);
          this.limit = size;
          this.evict(0);
          continue;
        } else {
          // Literal without indexing (0000) or never indexed (0001): the same for a decoder.
          field = this.literal(4);
        }
        listBytes += field[0].length + field[1].length + ENTRY_OVERHEAD;
        if (listBytes > this.maxListBytes) throw new HpackError(`header block decodes to more than ${this.maxListBytes} bytes`);
        out.push([field[0], field[1]]);
      }
    } catch (err) {
      if (err instanceof HuffmanError) throw new HpackError(err.message);
      throw err;
    } finally {
      this.src = new Uint8Array(0);
    }
    return out;
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError('index 0');
    if (index <= STATIC.length) return STATIC[index - 1] as readonly [string, string];
    const field = this.dynamic[index - STATIC.length - 1];
    if (!field) throw new HpackError(`index ${index} is not in the table`);
    return field;
  }

  private literal(prefixBits: number): readonly [string, string] {
    const index = this.integer(prefixBits);
    const name = index === 0 ? this.string() : this.entry(index)[0];
    return [name, this.string()];
  }

  private insert(field: readonly [string, string]): void {
    const size = field[0].length + field[1].length + ENTRY_OVERHEAD;
    this.evict(size);
    // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
    if (size > this.limit) return;
    this.dynamic.unshift(field);
    this.size += size;
  }

  /** Evicts the oldest entries until `incoming` more bytes fit under the limit. */
  private evict(incoming: number): void {
    while (this.dynamic.length > 0 && this.size + incoming > this.limit) {
      const [name, value] = this.dynamic.pop() as readonly [string, string];
      this.size -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }

  /** An integer with an N-bit prefix (RFC 7541 §5.1). */
  private integer(prefixBits: number): number {
    const src = this.src;
    const mask = (1 << prefixBits) - 1;
    if (this.pos >= src.length) throw new HpackError('truncated integer');
    let value = (src[this.pos++] as number) & mask;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      if (shift > 21) throw new HpackError('integer too large');
      if (this.pos >= src.length) throw new HpackError('truncated integer');
      const b = src[this.pos++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
  }

  /** A string literal (RFC 7541 §5.2), plain or Huffman-coded, as latin1. */
  private string(): string {
    if (this.pos >= this.src.length) throw new HpackError('truncated string');
    const huffman = ((this.src[this.pos] as number) & 0x80) !== 0;
    const length = this.integer(7);
    const start = this.pos;
    const end = start + length;
    if (end > this.src.length) throw new HpackError('string longer than its block');
    this.pos = end;
    if (huffman) return decodeHuffman(this.src, start, end);
    return Buffer.from(this.src.buffer, this.src.byteOffset + start, length).toString('latin1');
  }
}

/**
 * Encodes header fields as literals without indexing and without Huffman coding: our blocks
 * are few and small (response headers and trailers), and leaving the peer's decoder table
 * untouched means there is no encoder state to keep in step.
 */
export function encodeHeaders(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0]), encodeInteger(n.length, 7), n, encodeInteger(v.length, 7), v);
  }
  return Buffer.concat(parts);
}

/** An integer with a 7-bit prefix and the prefix's high bit clear (a plain string length). */
function encodeInteger(value: number, prefixBits: number): Buffer {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) return Buffer.from([value]);
  const bytes = [mask];
  let rest = value - mask;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
