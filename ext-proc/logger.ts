import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Header names whose values are secrets: never logged, at any level. */
export const SECRET_HEADERS = ['authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'set-cookie'] as const;

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'ext-proc' },
      redact: {
        paths: SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `req.headers["${h}"]`, `request.headers["${h}"]`]),
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** Header names that look like they carry credentials (custom API-key headers, tokens). */
const SECRET_LIKE = /auth|key|token|secret|passw|cookie|signature|credential/i;

/**
 * A plain object of headers safe to log: secret headers replaced, and the query string of
 * `:path` too (clients put keys there: `?api_key=...`).
 */
export function loggableHeaders(entries: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if ((SECRET_HEADERS as readonly string[]).includes(k) || SECRET_LIKE.test(k)) out[k] = '[redacted]';
    else if (k === ':path' && v.includes('?')) out[k] = `${v.slice(0, v.indexOf('?'))}?[redacted]`;
    else out[k] = v;
  }
  return out;
}
