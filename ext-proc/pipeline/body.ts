import type { z } from 'zod';
import { gatewayError, PluginError } from '../../plugins/sdk/errors.js';
import { formatPath } from '../config/load.js';

// ignoreBOM keeps a byte-order mark in the text, so JSON.parse refuses it as model servers do
// (RFC 8259 forbids it on the wire); stripping it here would pass on a body they reject.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Deepest JSON nesting accepted. JSON.parse copes with any depth, but recursive code after it
 * (zod, JSON.stringify when a plugin replaces the body, model servers) overflows its stack
 * on a 100k-deep `[[[[...`. No real inference payload nests this deep.
 */
export const MAX_JSON_DEPTH = 128;

/** True when the JSON text nests arrays/objects deeper than `limit`; strings are skipped. */
export function nestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  // Nesting never exceeds the number of opening brackets. Counting them is a native search
  // (indexOf); the exact walk below is a JS loop over every byte, run only when there are many.
  if (count(bytes, 0x5b, limit) + count(bytes, 0x7b, limit) <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** How often `byte` occurs in `bytes`, counted up to just past `limit`. */
function count(bytes: Uint8Array, byte: number, limit: number): number {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let n = 0;
  for (let i = buf.indexOf(byte); i !== -1 && n <= limit; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}

/**
 * One buffered body shared by the plugins of a phase: parsed once, replaced at most as
 * often as plugins ask, and re-serialised only when someone replaced the JSON.
 */
export class BodyBuffer {
  private bytes: Buffer;
  private parsed: { value: unknown } | undefined;
  private dirtyJson = false;
  replaced = false;

  /** `direction` decides who is at fault for a bad body: the client (400) or the model server (502). */
  constructor(
    body: Buffer,
    private readonly direction: 'request' | 'response',
  ) {
    this.bytes = body;
  }

  get body(): Buffer {
    if (this.dirtyJson) {
      this.bytes = Buffer.from(JSON.stringify(this.parsed?.value));
      this.dirtyJson = false;
    }
    return this.bytes;
  }

  json(schema?: z.ZodType): unknown {
    if (!this.parsed) this.parsed = { value: this.parse() };
    if (!schema) return this.parsed.value;
    const result = schema.safeParse(this.parsed.value);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const param = issue ? formatPath(issue.path) : undefined;
    const message = issue ? `${param === '(root)' ? 'body' : param}: ${issue.message}` : 'invalid body';
    throw this.fault('invalid_request', message, param === '(root)' ? undefined : param);
  }

  replaceBody(body: Buffer | string): void {
    this.bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.parsed = undefined;
    this.dirtyJson = false;
    this.replaced = true;
  }

  replaceJson(value: unknown): void {
    this.parsed = { value };
    this.dirtyJson = true;
    this.replaced = true;
  }

  private parse(): unknown {
    let text: string;
    try {
      text = utf8.decode(this.bytes);
    } catch {
      throw this.fault('invalid_json', 'body is not valid UTF-8');
    }
    if (nestsDeeperThan(this.bytes, MAX_JSON_DEPTH)) {
      throw this.fault('invalid_json', `body nests deeper than ${MAX_JSON_DEPTH} levels`);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      // Only a body JSON.parse refused can be empty (blank text nests nothing): worded apart.
      if (text.trim() === '') throw this.fault('invalid_json', 'body is empty; a JSON object is required');
      throw this.fault('invalid_json', `body is not valid JSON: ${(err as Error).message}`);
    }
  }

  private fault(code: 'invalid_json' | 'invalid_request', message: string, param?: string): PluginError {
    if (this.direction === 'request') return gatewayError(code, message, param === undefined ? {} : { param });
    return gatewayError('bad_upstream_response', `model server response: ${message}`);
  }
}
