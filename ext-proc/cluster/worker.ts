import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { DataPlane } from '../data-plane.js';
import type { LogLevelControl } from '../log-level.js';
import { isToWorker, type FromWorker } from './messages.js';

export interface WorkerContext {
  plane: DataPlane;
  metrics: Registry;
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
        void ctx.metrics
          .getMetricsAsJSON()
          .then((metrics) => send({ type: 'gateway:done', id: msg.id, metrics }))
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
