import type { HeaderValues } from '../wire-headers.js';

// The bounds live with the config that sets them (`extProc.limits`); the guard applies them.
import type { StreamLimits } from '../config/stream-limits.js';
export { DEFAULT_STREAM_LIMITS, type StreamLimits } from '../config/stream-limits.js';

/** A stream grew past one of its bounds after its status went out: the only safe answer is to cut it. */
export class StreamLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamLimitError';
  }
}

/** A request the core refuses before any plugin sees it. */
export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** Header count and size of one headers message, against the limits; undefined when within them. */
export function headersOverLimit(headers: Pick<HeaderValues, 'count' | 'bytes'>, limits: StreamLimits): string | undefined {
  if (headers.count > limits.maxHeaders) return `${headers.count} headers (at most ${limits.maxHeaders})`;
  if (headers.bytes > limits.maxHeaderBytes) return `${headers.bytes} bytes of headers (at most ${limits.maxHeaderBytes})`;
  return undefined;
}

/** A `%` not followed by two hex digits, or escapes that decode to invalid UTF-8. */
export function malformedEscapes(pathname: string): boolean {
  if (!pathname.includes('%')) return false;
  try {
    decodeURIComponent(pathname);
    return false;
  } catch {
    return true;
  }
}

/** What the core refuses in request headers: too many or too large headers (431), a path that cannot be decoded (400). */
export function refuseRequestHeaders(headers: HeaderValues, pathname: string, limits: StreamLimits): Refusal | undefined {
  const over = headersOverLimit(headers, limits);
  if (over !== undefined) return { status: 431, code: 'headers_too_large', message: `The request headers are too large: ${over}` };
  if (malformedEscapes(pathname)) return { status: 400, code: 'invalid_path', message: 'The request path has a malformed percent-escape' };
  return undefined;
}

/**
 * The client's (or Envoy's) request id when it is a plain token (1–200 visible ASCII
 * characters); anything else (huge, spaces, control or non-ASCII bytes) would end up in every
 * log line and in the error body, so a fresh one replaces it. A loop, not a regular
 * expression: every request runs it, and cold a regular expression's matcher is code of its own.
 */
export function usableRequestId(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0 || value.length > 200) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  return value;
}
