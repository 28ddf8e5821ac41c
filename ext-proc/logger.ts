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

/** A plain object of headers safe to log: secrets replaced. */
export function loggableHeaders(entries: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) out[k] = (SECRET_HEADERS as readonly string[]).includes(k) ? '[redacted]' : v;
  return out;
}
