import { BinaryReader } from '@bufbuild/protobuf/wire';
import type { HeaderMap, HeaderValue } from './gen/envoy/config/core/v3/base.js';
import type { HttpHeaders } from './gen/envoy/service/ext_proc/v3/external_processor.js';

/** A headers message as the processor reads it: name → value, and what the stream limits count. */
export interface HeaderValues {
  readonly values: Map<string, string>;
  /** Header entries (a repeated name counts each time). */
  readonly count: number;
  /** Names plus values, as the header-size limit counts them. */
  readonly bytes: number;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * A HeaderMap read straight off the wire into the name → value map the processor works with.
 * The generated shape — a HeaderValue object per header with its value as a Buffer — was the
 * largest allocation of a headers-only request (two objects and a Buffer view per header, then
 * a string each again for the map); it is still there for whoever reads `headers` (tests, the
 * generated encoder), decoded from the same bytes on first read. The bytes were checked when
 * the message was decoded, so neither read can fail later.
 */
export class WireHeaderMap implements HeaderMap {
  declare headers: HeaderValue[];
  readonly #buf: Buffer;
  readonly #start: number;
  readonly #end: number;
  #list: HeaderValue[] | undefined;
  #read: HeaderValues | undefined;

  constructor(buf: Buffer, start: number, end: number, read: HeaderValues) {
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
    this.#read = read;
    // An own enumerable property, as on a generated HeaderMap (equality checks and spreads see it).
    Object.defineProperty(this, 'headers', HEADERS_PROPERTY);
  }

  list(): HeaderValue[] {
    if (this.#list) return this.#list;
    const reader = new BinaryReader(this.#buf);
    reader.pos = this.#start;
    this.#list = decodeHeaderList(reader, this.#buf, this.#end - this.#start);
    return this.#list;
  }

  replaceList(list: HeaderValue[]): void {
    this.#list = list;
  }

  /** The map, handed over once (the processor edits it); after that, or once the list was read, made from the list. */
  take(): HeaderValues {
    const read = this.#read;
    this.#read = undefined;
    if (read && !this.#list) return read;
    return valuesOf(this.list());
  }
}

const HEADERS_PROPERTY: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: WireHeaderMap) {
    return this.list();
  },
  set(this: WireHeaderMap, list: HeaderValue[]) {
    this.replaceList(list);
  },
};

/** The headers of a message: from the wire when the fast decoder read it, else from its HeaderValue list. */
export function readHeaders(msg: HttpHeaders): HeaderValues {
  const map = msg.headers;
  if (map instanceof WireHeaderMap) return map.take();
  return valuesOf(map?.headers ?? []);
}

/** Envoy puts values in `raw_value` on current versions and in `value` on old ones. */
function valuesOf(list: readonly HeaderValue[]): HeaderValues {
  const values = new Map<string, string>();
  let bytes = 0;
  for (const h of list) {
    const raw = h.rawValue && h.rawValue.length > 0;
    add(values, h.key, raw ? h.rawValue.toString('latin1') : h.value);
    bytes += h.key.length + (raw ? h.rawValue.length : h.value.length);
  }
  return { values, count: list.length, bytes };
}

/** Repeated headers fold with ", " as HTTP allows for all but set-cookie, which we never read. */
function add(values: Map<string, string>, key: string, value: string): void {
  const existing = values.get(key);
  values.set(key, existing === undefined ? value : `${existing}, ${value}`);
}

/**
 * Reads a HeaderMap of `length` bytes at the reader into a WireHeaderMap: the walk, checks and
 * errors of decodeHeaderList below, but each header goes straight into the map.
 */
export function decodeWireHeaderMap(reader: BinaryReader, buf: Buffer, length: number): WireHeaderMap {
  const start = reader.pos;
  const end = start + length;
  const values = new Map<string, string>();
  let count = 0;
  let bytes = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) {
      const e = readEntry(reader, buf, reader.uint32());
      const raw = e.rawEnd > e.rawStart;
      add(values, e.key, raw ? buf.toString('latin1', e.rawStart, e.rawEnd) : e.value);
      bytes += e.key.length + (raw ? e.rawEnd - e.rawStart : e.value.length);
      count++;
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return new WireHeaderMap(buf, start, end, { values, count, bytes });
}

/** The generated shape of a HeaderMap's entries: each value a view on the message (no copy). */
function decodeHeaderList(reader: BinaryReader, buf: Buffer, length: number): HeaderValue[] {
  const end = reader.pos + length;
  const headers: HeaderValue[] = [];
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) {
      const e = readEntry(reader, buf, reader.uint32());
      headers.push({ key: e.key, value: e.value, rawValue: e.rawEnd > e.rawStart ? buf.subarray(e.rawStart, e.rawEnd) : EMPTY });
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return headers;
}

/**
 * One HeaderValue's fields, read in place: its key, its value, and where its raw_value lies in
 * the message. One object reused by every read (both callers copy what they keep at once), so
 * the map's path allocates nothing per header here.
 */
const entry = { key: '', value: '', rawStart: 0, rawEnd: 0 };

function readEntry(reader: BinaryReader, buf: Buffer, length: number): Readonly<typeof entry> {
  const end = reader.pos + length;
  entry.key = '';
  entry.value = '';
  entry.rawStart = 0;
  entry.rawEnd = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10 || tag === 18 || tag === 26) {
      const n = reader.uint32();
      const start = reader.pos;
      if (start + n > end || start + n > reader.len) throw new RangeError('premature end of a HeaderValue');
      reader.pos = start + n;
      if (tag === 10) entry.key = buf.toString('utf8', start, reader.pos);
      else if (tag === 18) entry.value = buf.toString('utf8', start, reader.pos);
      else {
        entry.rawStart = start;
        entry.rawEnd = reader.pos;
      }
    } else {
      if ((tag & 7) === 4 || tag === 0) break;
      reader.skip(tag & 7);
    }
  }
  return entry;
}
