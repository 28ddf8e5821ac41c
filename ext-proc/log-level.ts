import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { LogLevel } from './config/schema.js';
import type { HttpRoute } from './http-status.js';

/**
 * The log level, changeable while the process runs. Child loggers (per stream, per plugin)
 * inherit the root's level through pino's prototype chain, so one assignment reaches them all.
 */
export class LogLevelControl {
  private base: string;

  /** @param onChange told every change (with workers: the primary passes it on to them) */
  constructor(
    private readonly log: Logger,
    private readonly onChange?: (level: string, source: string) => void,
  ) {
    this.base = log.level;
  }

  get level(): string {
    return this.log.level;
  }

  set(level: string, source: string): { level: string; previous: string } {
    const parsed = LogLevel.parse(level);
    const previous = this.log.level;
    this.log.level = parsed;
    // Logged at warn so the change is visible whatever the new level is.
    if (previous !== parsed) this.log.warn({ level: parsed, previous, source }, 'log level changed');
    this.onChange?.(parsed, source);
    return { level: parsed, previous };
  }

  /** SIGUSR2: flip between the configured level and debug. */
  toggleDebug(): void {
    this.set(this.log.level === 'debug' ? (this.base === 'debug' ? 'info' : this.base) : 'debug', 'SIGUSR2');
  }

  /** A reloaded config's level applies only when the config changed it (a runtime override survives otherwise). */
  configChanged(next: string): void {
    if (next === this.base) return;
    this.base = next;
    this.set(next, 'config reload');
  }

  routes(): Record<string, HttpRoute> {
    const reply = (res: Parameters<HttpRoute>[1], status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    return {
      'GET /loglevel': (_req, res) => reply(res, 200, { level: this.level }),
      'PUT /loglevel': async (req, res) => {
        const requested = await requestedLevel(req);
        const parsed = LogLevel.safeParse(requested);
        if (parsed.success) reply(res, 200, this.set(parsed.data, 'PUT /loglevel'));
        else reply(res, 400, { error: `level must be one of ${LogLevel.options.join(', ')}; got ${JSON.stringify(requested ?? null)}` });
      },
    };
  }
}

/** `?level=debug`, a JSON body `{"level":"debug"}` or a plain-text body `debug`. */
async function requestedLevel(req: IncomingMessage): Promise<string | undefined> {
  const query = new URL(req.url ?? '/', 'http://x').searchParams.get('level');
  if (query) return query;
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 1024) break;
  }
  text = text.trim();
  if (text.startsWith('{')) {
    try {
      const v = (JSON.parse(text) as { level?: unknown }).level;
      return typeof v === 'string' ? v : undefined;
    } catch {
      return undefined;
    }
  }
  return text || undefined;
}
