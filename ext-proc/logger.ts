import { pino, type Logger, type LevelWithSilent } from 'pino';
import { LineBatch, type LineSink } from './log-batch.js';
import { isoTime } from './log-line.js';

/**
 * stdout (or `dest`), written in batches of ~4 KB (at least every 100 ms) instead of one write
 * per line: with an access line per request, per-line writes were ~7% of the CPU. LineBatch
 * collects the lines and hands each batch to pino's SonicBoom, which writes it at once and
 * synchronously (EAGAIN and EPIPE handled): one write per ~4 KB. Not asynchronously: SonicBoom's
 * flushSync (a warning, the process exit) skips a write still in flight, so a batch being
 * written when the process exited was lost (a flaky log-batch test showed a first batch
 * missing). Warnings and errors flush the batch at once (see createLogger), and so does the
 * process exit.
 */
export function stdoutDestination(dest: number | string = 1): pino.DestinationStream {
  const sonicBoom = pino.destination({ dest, sync: true, minLength: 0 });
  return new LineBatch(sonicBoom as unknown as LineSink, 4096);
}

/** Header names whose values are secrets: never logged, at any level. */
export const SECRET_HEADERS = ['authorization', 'x-api-key', 'proxy-authorization', 'cookie', 'set-cookie'] as const;

export function createLogger(level: LevelWithSilent = 'info', destination?: pino.DestinationStream): Logger {
  const flushable = destination as { flushSync?: () => void } | undefined;
  return pino(
    {
      level,
      // With a batching destination, a warning or an error is written out immediately (rare;
      // and it is the line someone is waiting for), together with what was batched before it.
      hooks: {
        logMethod(args, method, lineLevel) {
          method.apply(this, args);
          if (lineLevel >= 40 && flushable?.flushSync) {
            try {
              flushable.flushSync();
            } catch {
              /* not open yet or busy: the batch goes out with the next write */
            }
          }
        },
      },
      base: { svc: 'ext-proc' },
      redact: {
        paths: SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `req.headers["${h}"]`, `request.headers["${h}"]`]),
        censor: '[redacted]',
      },
      // pino's isoTime, formatted once a second (log-line.ts).
      timestamp: isoTime,
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
