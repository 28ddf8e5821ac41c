import type { Registry } from 'prom-client';
import { consumerOf } from '../observe.js';
import type { RequestObserver, RequestSummary } from '../pipeline/observer.js';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { DataPlane } from '../data-plane.js';
import type { LogLevelControl } from '../log-level.js';
import { isToWorker, type FromWorker } from './messages.js';

export interface WorkerContext {
  plane: DataPlane;
  /** Registries whose metrics the primary sums. */
  metrics: Registry[];
  log: Logger;
  logLevel: LogLevelControl;
  /** Reads the config file again (with the host map applied). */
  load(): Promise<LoadedConfig>;
  graceMs: number;
}

const send = (msg: FromWorker) => process.send?.(msg);

/**
 * A worker serves streams and follows the primary: it builds the next runtime when asked,
 * swaps it in when all workers have, and drains on shutdown. Signals go to the primary (a
 * terminal's Ctrl-C reaches the whole process group): the worker waits for its word.
 */
export function followPrimary(ctx: WorkerContext): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) process.on(signal, () => {});
  process.on('message', (msg: unknown) => {
    if (!isToWorker(msg)) return;
    switch (msg.type) {
      case 'gateway:prepare':
        void ctx
          .load()
          .then(async (loaded) => {
            // The file may have changed again since the primary read it: the next event reloads that.
            if (loaded.hash !== msg.hash) throw new Error('the config file changed during the reload');
            await ctx.plane.prepare(loaded);
            send({ type: 'gateway:done', id: msg.id });
          })
          .catch((err: unknown) => send({ type: 'gateway:done', id: msg.id, error: (err as Error).message }));
        break;
      case 'gateway:commit': {
        const { next } = ctx.plane.commit(ctx.graceMs);
        ctx.logLevel.configChanged(next.config.logging.level);
        send({ type: 'gateway:done', id: msg.id });
        break;
      }
      case 'gateway:abort':
        void ctx.plane.abort().finally(() => send({ type: 'gateway:done', id: msg.id }));
        break;
      case 'gateway:metrics':
        void Promise.all(ctx.metrics.map((r) => r.getMetricsAsJSON()))
          .then((metrics) => send({ type: 'gateway:done', id: msg.id, metrics: metrics.flat() }))
          .catch((err: unknown) => send({ type: 'gateway:done', id: msg.id, error: (err as Error).message }));
        break;
      case 'gateway:rebalance':
        ctx.plane.server.rebalance();
        break;
      case 'gateway:log-level':
        ctx.logLevel.set(msg.level, msg.source);
        break;
      case 'gateway:shutdown':
        void ctx.plane.shutdown(msg.graceMs, msg.delayMs).finally(() => process.exit(0));
        break;
    }
  });
  send({ type: 'gateway:ready', port: ctx.plane.server.port });
}

/** A (model, version) pair is reported at most this often: the primary only needs to know it is in use. */
const SEEN_EVERY_MS = 1000;

/**
 * What the primary's console (recent errors) and reload checks (versions in use) learn from
 * requests, without an IPC message per request: every error or cancel, and each served
 * (model, version) once a second. Only cloneable fields travel.
 */
export function forwardingObserver(): RequestObserver {
  const lastSent = new Map<string, number>();
  return {
    finished(r) {
      const status = r.outcome.status;
      const failed = r.outcome.cancelled || (status !== undefined && status >= 400);
      if (!failed) {
        if (r.route.model === undefined || r.route.version === undefined) return;
        const key = `${r.route.model}@${r.route.version}`;
        const now = Date.now();
        if (now - (lastSent.get(key) ?? 0) < SEEN_EVERY_MS) return;
        lastSent.set(key, now);
      }
      const consumer = consumerOf(r.vars);
      const summary: RequestSummary = {
        request: r.request ? ({ id: r.request.id } as RequestSummary['request']) : undefined,
        route: { ...r.route },
        vars: consumer ? ({ consumer: { id: consumer } } as RequestSummary['vars']) : {},
        response: undefined,
        outcome: { ...r.outcome },
        elapsedMs: r.elapsedMs,
        responseHeadersMs: r.responseHeadersMs,
        firstChunkMs: r.firstChunkMs,
        processingMs: r.processingMs,
      };
      send({ type: 'gateway:finished', summary });
    },
  };
}
