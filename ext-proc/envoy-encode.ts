import type { HeaderValue, HeaderValueOption } from './gen/envoy/config/core/v3/base.js';
import type { ProcessingMode } from './gen/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js';
import { ProcessingResponse, type BodyMutation, type CommonResponse, type HeaderMutation } from './gen/envoy/service/ext_proc/v3/external_processor.js';

/**
 * ProcessingResponse.encode(...).finish() with a fast path for the answers every request gets:
 * headers and body answers (status, header mutations, a replaced body, clear_route_cache) and a
 * mode override. Sizes first, then one buffer written once, where the generated encoder forks a
 * writer per nested message and joins chunk lists. The same bytes as the generated encoder
 * (a property test compares them); anything else — immediate responses, trailers, dynamic
 * metadata, timeouts — goes through the generated encoder.
 */
export function encodeProcessingResponse(message: ProcessingResponse): Uint8Array {
  if (!fast(message)) return ProcessingResponse.encode(message).finish();
  const r = message.response as Answer;
  const inner = r.value.response === undefined ? 0 : field(commonSize(r.value.response));
  const mode = message.modeOverride;
  const size = field(inner) + (mode === undefined ? 0 : field(modeSize(mode)));
  const w = new Writer(size);
  w.tag(TAG[r.$case], inner);
  if (r.value.response !== undefined) {
    w.tag(10, commonSize(r.value.response));
    writeCommon(w, r.value.response);
  }
  if (mode !== undefined) {
    w.tag(74, modeSize(mode));
    writeMode(w, mode);
  }
  return w.buf;
}

type Answer = Extract<NonNullable<ProcessingResponse['response']>, { $case: 'requestHeaders' | 'responseHeaders' | 'requestBody' | 'responseBody' }>;
const TAG: Record<Answer['$case'], number> = { requestHeaders: 10, responseHeaders: 18, requestBody: 26, responseBody: 34 };

function fast(m: ProcessingResponse): boolean {
  const r = m.response;
  if (r === undefined || !(r.$case in TAG) || m.dynamicMetadata !== undefined || m.overrideMessageTimeout !== undefined) return false;
  const common = (r as Answer).value.response;
  if (common === undefined) return true;
  if (common.trailers !== undefined || common.status < 0) return false;
  if (common.headerMutation?.setHeaders.some((o) => o.append !== undefined || o.appendAction < 0)) return false;
  const mutation = common.bodyMutation?.mutation;
  if (mutation !== undefined && mutation.$case !== 'body' && mutation.$case !== 'clearBody') return false;
  const mode = m.modeOverride;
  // Negative enums take ten bytes as varints: the generated encoder writes those.
  return mode === undefined || Math.min(mode.requestHeaderMode, mode.responseHeaderMode, mode.requestBodyMode, mode.responseBodyMode, mode.requestTrailerMode, mode.responseTrailerMode) >= 0;
}

const varint = (v: number) => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);
/** A length-delimited field with a one-byte tag (every field here is numbered below 16). */
const field = (payload: number) => 1 + varint(payload) + payload;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const enumSize = (v: number) => (v === 0 ? 0 : 1 + varint(v));

function headerValueSize(h: HeaderValue): number {
  return (h.key === '' ? 0 : field(bytes(h.key))) + (h.value === '' ? 0 : field(bytes(h.value))) + (h.rawValue.length === 0 ? 0 : field(h.rawValue.length));
}
function optionSize(o: HeaderValueOption): number {
  return (o.header === undefined ? 0 : field(headerValueSize(o.header))) + enumSize(o.appendAction) + (o.keepEmptyValue ? 2 : 0);
}
function mutationSize(m: HeaderMutation): number {
  let n = 0;
  for (const o of m.setHeaders) n += field(optionSize(o));
  for (const r of m.removeHeaders) n += field(bytes(r));
  return n;
}
function bodyMutationSize(b: BodyMutation): number {
  const m = b.mutation;
  if (m === undefined) return 0;
  return m.$case === 'body' ? field(m.value.length) : 2;
}
function commonSize(c: CommonResponse): number {
  return (
    enumSize(c.status) +
    (c.headerMutation === undefined ? 0 : field(mutationSize(c.headerMutation))) +
    (c.bodyMutation === undefined ? 0 : field(bodyMutationSize(c.bodyMutation))) +
    (c.clearRouteCache ? 2 : 0)
  );
}
function modeSize(m: ProcessingMode): number {
  return enumSize(m.requestHeaderMode) + enumSize(m.responseHeaderMode) + enumSize(m.requestBodyMode) + enumSize(m.responseBodyMode) + enumSize(m.requestTrailerMode) + enumSize(m.responseTrailerMode);
}

function writeCommon(w: Writer, c: CommonResponse): void {
  w.enumField(8, c.status);
  if (c.headerMutation !== undefined) {
    const m = c.headerMutation;
    w.tag(18, mutationSize(m));
    for (const o of m.setHeaders) {
      w.tag(10, optionSize(o));
      if (o.header !== undefined) {
        const h = o.header;
        w.tag(10, headerValueSize(h));
        if (h.key !== '') w.string(10, h.key);
        if (h.value !== '') w.string(18, h.value);
        if (h.rawValue.length !== 0) w.bytes(26, h.rawValue);
      }
      w.enumField(24, o.appendAction);
      if (o.keepEmptyValue) w.bool(32);
    }
    for (const r of m.removeHeaders) w.string(18, r);
  }
  if (c.bodyMutation !== undefined) {
    const b = c.bodyMutation;
    w.tag(26, bodyMutationSize(b));
    const m = b.mutation;
    if (m?.$case === 'body') w.bytes(10, m.value);
    else if (m?.$case === 'clearBody') w.boolValue(16, m.value);
  }
  if (c.clearRouteCache) w.bool(40);
}

function writeMode(w: Writer, m: ProcessingMode): void {
  w.enumField(8, m.requestHeaderMode);
  w.enumField(16, m.responseHeaderMode);
  w.enumField(24, m.requestBodyMode);
  w.enumField(32, m.responseBodyMode);
  w.enumField(40, m.requestTrailerMode);
  w.enumField(48, m.responseTrailerMode);
}

class Writer {
  readonly buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  private varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** A length-delimited field's tag and length; its payload follows. */
  tag(tag: number, length: number): void {
    this.buf[this.pos++] = tag;
    this.varint(length);
  }

  string(tag: number, s: string): void {
    const n = bytes(s);
    this.tag(tag, n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  bytes(tag: number, b: Uint8Array): void {
    this.tag(tag, b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  enumField(tag: number, v: number): void {
    if (v === 0) return;
    this.buf[this.pos++] = tag;
    this.varint(v);
  }

  bool(tag: number): void {
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = 1;
  }

  boolValue(tag: number, v: boolean): void {
    this.buf[this.pos++] = tag;
    this.buf[this.pos++] = v ? 1 : 0;
  }
}
