import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import type { ReloadResult, ReloadSource } from '../config/reload.js';
import type { HttpRoute } from '../http-status.js';
import type { RequestObserver } from '../pipeline/observer.js';
import { ConfigActions } from './actions.js';
import { ConfigStatus } from './config-status.js';
import { consumersView, type ConsumerLimitsLookup } from './consumers.js';
import { EnvoyClusters } from './envoy-clusters.js';
import { RecentErrors } from './recent-errors.js';
import { consoleRoutes } from './routes.js';
import type { ConsoleConfig } from '../config/console.js';
import { SnapshotRing, type MetricsSource } from './snapshots.js';
import { modelsView, totals, SPLIT_WINDOW_MS } from './view.js';

export interface ConsoleOptions {
  /** The registry the console reads (`registry.getMetricsAsJSON`); an aggregate when there are workers. */
  metrics: MetricsSource;
  log: Logger;
  /** The address the HTTP port is bound to: beyond loopback the console needs an admin key. */
  boundHost: string;
  envoyAdminUrl: string;
  configPath: string;
  /** The config in force now. */
  config(): GatewayConfig;
  initial: { hash: string; text: string };
  /** The gateway's normal reload (SIGHUP's), resolving when it is done. */
  reload(): Promise<void>;
  /** Each consumer's configured limits, for the consumers table (main.ts passes consumer-limits'). */
  consumerLimits?: ConsumerLimitsLookup;
}

export interface Console {
  routes: Record<string, HttpRoute>;
  /** Feeds the recent-errors list; add it to the request observers. */
  observer: RequestObserver;
  /** A reload swapped in this config. */
  configLoaded(loaded: { hash: string; text?: string }, source: ReloadSource): void;
  /** A reload was refused (`failure`, with why) or found the file back to the config in force (`unchanged`). */
  reloadResult(result: ReloadResult, source: ReloadSource, error?: string): void;
  close(): void;
}


/**
 * The operator's console on the ext-proc's HTTP port: models, versions, splits, health,
 * traffic, consumers and config, from the metrics registry, Envoy's admin API and the config
 * in force. See docs/observability.md#console.
 */
export function createConsole(opts: ConsoleOptions): Console {
  const settings = (): ConsoleConfig => opts.config().console;
  const { sampleIntervalMs } = settings();
  // Enough samples for the observed split's window, plus one.
  const ring = new SnapshotRing(opts.metrics, sampleIntervalMs, Math.ceil(SPLIT_WINDOW_MS / sampleIntervalMs) + 1).start((err) =>
    opts.log.warn({ err: (err as Error).message }, 'console: metrics snapshot failed'),
  );
  const status = new ConfigStatus(opts.initial);
  const errors = new RecentErrors();
  const envoy = new EnvoyClusters(opts.envoyAdminUrl);
  const actions = new ConfigActions({ configPath: opts.configPath, status, reload: opts.reload, log: opts.log });

  const state = async () => {
    const [head, envoyView] = await Promise.all([ring.take(), envoy.read()]);
    const history = ring.history(head);
    const config = opts.config();
    return {
      now: head.at,
      sampleIntervalMs,
      envoy: { adminUrl: opts.envoyAdminUrl, ...(envoyView.error !== undefined && { error: envoyView.error }) },
      config: {
        path: opts.configPath,
        hash: status.hash,
        loadedAt: status.loadedAt,
        lastReload: status.lastReload,
        canRollback: status.previousText !== undefined,
        actions: settings().actions,
      },
      totals: totals(history),
      models: modelsView(config, history, envoyView.clusters),
      consumers: consumersView(config, history, opts.consumerLimits),
      errors: errors.list(),
    };
  };

  return {
    routes: consoleRoutes({ boundHost: opts.boundHost, settings, state, actions }),
    observer: errors.observer,
    configLoaded(loaded, source) {
      status.loaded({ hash: loaded.hash, text: loaded.text ?? '' }, source);
    },
    reloadResult(result, source, error) {
      if (result === 'failure') status.refused(source, error ?? 'refused');
      else if (result === 'unchanged') status.unchanged();
    },
    close: () => ring.stop(),
  };
}
