// Reads one top-level member of a JSON object without building the rest of the document.
//
// Why: openai-usage needs only `usage` from a buffered answer, and at a low request rate (the
// process idle between requests, its caches cold) decoding the whole body to a string and
// JSON.parse building every object of it cost ~25 µs per answer; one pass over the bytes that
// builds nothing, then JSON.parse of the `usage` text alone, costs a fraction of that.
//
// Exactness: the result is given only when it is certain to equal what the gateway's own body
// parse (ext-proc/pipeline/body.ts: fatal UTF-8 decode, at most MAX_JSON_DEPTH levels, then
// JSON.parse) followed by reading `.usage` would give. The pass validates the whole text against
// the JSON grammar (RFC 8259, as JSON.parse accepts it); whenever it is not certain (invalid or
// too-deep JSON, a top-level name written with escapes, a root that is not an object), it says
// so and the caller parses the body the ordinary way. Property-tested against JSON.parse.
import { isUtf8 } from 'node:buffer';
import { MAX_JSON_DEPTH } from '../../ext-proc/pipeline/body.js';

/** The member's value as JSON text (`absent`: a valid object without it), or `unsure`. */
export type MemberText = { found: true; text: string } | { found: false; reason: 'absent' | 'unsure' };

const ABSENT: MemberText = { found: false, reason: 'absent' };
const UNSURE: MemberText = { found: false, reason: 'unsure' };

// Parser states: what may come next.
const VALUE = 0;
const VALUE_OR_CLOSE = 1; // after `[`
const NAME_OR_CLOSE = 2; // after `{`
const NAME = 3; // after `,` in an object
const COLON = 4;
const COMMA_OR_CLOSE = 5;
const END = 6;

const OBJECT = 1;
const ARRAY = 2;
/** The open containers, innermost last; one per process (the pass is synchronous). */
const open = new Uint8Array(MAX_JSON_DEPTH + 1);

/**
 * The text of the last top-level member called `name` (JSON.parse keeps the last of duplicate
 * names) in `bytes`, which must hold a JSON object. `name` is plain ASCII without `"` or `\`.
 */
export function topLevelMember(bytes: Uint8Array, name: string): MemberText {
  const n = bytes.length;
  let i = 0;
  let depth = 0;
  let state = VALUE;
  sawHigh = false;
  let wanted = false; // the last top-level name read is `name`
  let valueStart = -1;
  let start = -1;
  let end = -1;
  for (;;) {
    let c = bytes[i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = bytes[++i];
    if (i >= n) break;
    let closed = false; // a value ended at i (exclusive)
    if (state === VALUE || state === VALUE_OR_CLOSE) {
      if (c === 0x5d && state === VALUE_OR_CLOSE) {
        depth--;
        i++;
        closed = true;
      } else {
        if (depth === 1 && wanted) valueStart = i;
        if (c === 0x7b || c === 0x5b) {
          if (depth === MAX_JSON_DEPTH) return UNSURE;
          if (depth === 0 && c !== 0x7b) return UNSURE;
          open[depth++] = c === 0x7b ? OBJECT : ARRAY;
          state = c === 0x7b ? NAME_OR_CLOSE : VALUE_OR_CLOSE;
          i++;
        } else if (c === 0x22) {
          i = skipString(bytes, i);
          closed = true;
        } else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
          i = skipNumber(bytes, i);
          closed = true;
        } else if (c === 0x74) {
          i = literal(bytes, i, TRUE);
          closed = true;
        } else if (c === 0x66) {
          i = literal(bytes, i, FALSE);
          closed = true;
        } else if (c === 0x6e) {
          i = literal(bytes, i, NULL);
          closed = true;
        } else {
          return UNSURE;
        }
        if (i < 0) return UNSURE;
        if (depth === 0) return UNSURE; // a scalar root: not an object
      }
    } else if (state === NAME_OR_CLOSE || state === NAME) {
      if (c === 0x7d && state === NAME_OR_CLOSE) {
        depth--;
        i++;
        closed = true;
      } else {
        if (c !== 0x22) return UNSURE;
        const from = i;
        i = skipString(bytes, i);
        if (i < 0) return UNSURE;
        if (depth === 1) {
          if (escaped) return UNSURE; // the name could spell `name` with escapes
          wanted = i - from === name.length + 2 && sameAscii(bytes, from + 1, name);
        }
        state = COLON;
      }
    } else if (state === COLON) {
      if (c !== 0x3a) return UNSURE;
      i++;
      state = VALUE;
    } else if (state === COMMA_OR_CLOSE) {
      const container = open[depth - 1];
      if (c === 0x2c) {
        i++;
        state = container === OBJECT ? NAME : VALUE;
      } else if (c === (container === OBJECT ? 0x7d : 0x5d)) {
        depth--;
        i++;
        closed = true;
      } else {
        return UNSURE;
      }
    } else {
      return UNSURE; // text after the root value
    }
    if (closed) {
      if (depth === 1 && wanted && valueStart >= 0) {
        start = valueStart;
        end = i;
        valueStart = -1;
        wanted = false;
      }
      state = depth === 0 ? END : COMMA_OR_CLOSE;
    }
  }
  if (state !== END) return UNSURE;
  // Bytes ≥ 0x80 only occur inside strings here; the body parse refuses the whole body when
  // they are not UTF-8.
  if (sawHigh && !isUtf8(bytes)) return UNSURE;
  if (start < 0) return ABSENT;
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return { found: true, text: b.toString('utf8', start, end) };
}

/** Set by skipString: the last string had an escape; some string had a byte ≥ 0x80. */
let escaped = false;
let sawHigh = false;

/** The index after the string starting at `i` (its opening quote), or -1 when it is not valid JSON. */
function skipString(bytes: Uint8Array, i: number): number {
  escaped = false;
  for (let j = i + 1; ; j++) {
    const c = bytes[j];
    if (c === undefined) return -1;
    if (c === 0x22) return j + 1;
    if (c < 0x20) return -1;
    if (c >= 0x80) sawHigh = true;
    else if (c === 0x5c) {
      escaped = true;
      const e = bytes[++j];
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) if (!isHex(bytes[++j])) return -1;
      } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        return -1;
      }
    }
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` from `i`: the index after it, or -1. */
function skipNumber(bytes: Uint8Array, i: number): number {
  if (bytes[i] === 0x2d) i++;
  if (bytes[i] === 0x30) i++;
  else if (isDigit(bytes[i])) while (isDigit(bytes[++i]));
  else return -1;
  if (bytes[i] === 0x2e) {
    if (!isDigit(bytes[++i])) return -1;
    while (isDigit(bytes[++i]));
  }
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i++;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
    if (!isDigit(bytes[i])) return -1;
    while (isDigit(bytes[++i]));
  }
  return i;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function literal(bytes: Uint8Array, i: number, word: readonly number[]): number {
  for (let k = 0; k < word.length; k++) if (bytes[i + k] !== word[k]) return -1;
  return i + word.length;
}

function sameAscii(bytes: Uint8Array, from: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (bytes[from + k] !== text.charCodeAt(k)) return false;
  return true;
}
