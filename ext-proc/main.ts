import cluster from 'node:cluster';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinPlugins } from '../plugins/index.js';
import { describeConsumerLimits } from '../plugins/consumer-limits/describe.js';
import { ConfigError, loadConfigFile, type LoadedConfig } from './config/load.js';
import { RecentTraffic } from './config/recent-traffic.js';
import { ConfigReloader } from './config/reload.js';
import { createConsole } from './console/index.js';
import { warnAboutRestartOnlyChanges } from './config/restart-only.js';
import { parseHostMap, withHostMap } from './config/host-map.js';
import { WorkerPool } from './cluster/pool.js';
import { followPrimary, forwardingObserver } from './cluster/worker.js';
import { DataPlane } from './data-plane.js';
import { XdsPublisher } from './envoy-xds.js';
import { startStatusServer } from './http-status.js';
import { createLogger, stdoutDestination } from './logger.js';
import { LogLevelControl } from './log-level.js';
import { CONFIG_METRICS, createMetrics, type Metrics } from './metrics.js';
import { pluginRegistry } from './plugin-metrics.js';
import type { RequestObserver } from './pipeline/observer.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { accessLogger, combineObservers, metricsObserver } from './observe.js';
import type { ExtProcServerOptions } from './server.js';
import { extProcWorkers, listenAddress, selectTransport } from './transport/select.js';
import { removeStaleSocket } from './transport/listen.js';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', short: 'c', default: process.env.GATEWAY_CONFIG ?? 'examples/gateway.yaml' },
    port: { type: 'string' },
    'http-port': { type: 'string' },
    // Bind addresses override the config's (0.0.0.0 inside a container, see docker-compose.yml).
    host: { type: 'string' },
    'http-host': { type: 'string' },
    // Keep Envoy's model clusters and routes in files Envoy watches (its bootstrap rendered
    // with `npm run render:envoy -- --xds-dir DIR`): versions change without restarting Envoy.
    'envoy-xds-dir': { type: 'string', default: process.env.GATEWAY_ENVOY_XDS_DIR },
    'envoy-admin': { type: 'string', default: process.env.GATEWAY_ENVOY_ADMIN },
    // How this deployment reaches the model servers when that differs from the config's
    // host:port, as `from=to` pairs (docker compose: `127.0.0.1=demo-models`, the demo
    // servers' service name). Envoy's clusters and the plugins' own calls both use it.
    'host-map': { type: 'string', multiple: true, default: [] },
  },
});

/** The streams side of the gateway: this process (one worker), or the workers behind it. */
interface Plane {
  readonly port: number;
  prepare(next: LoadedConfig): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  shutdown(graceMs: number, delayMs: number): Promise<void>;
  /** The streams' metrics (with the plugins'), as text and as JSON (the console's). */
  metrics(): Promise<string>;
  metricsJson(): Promise<MetricObjectWithValues<MetricValue<string>>[]>;
  setLogLevel(level: string, source: string): void;
}

const configPath = resolve(args.config as string);
const hostMap = parseHostMap(args['host-map'] ?? []);
const loadConfig = async () => withHostMap(await loadConfigFile(configPath), hostMap);

function serverOptions(loaded: LoadedConfig, metrics: Metrics, log: ReturnType<typeof createLogger>, observers: RequestObserver[] = []): Omit<ExtProcServerOptions, 'runtime' | 'log'> {
  const { config } = loaded;
  const streams = metrics.streams.labels(String(process.pid));
  return {
    listen: listenAddress({
      ...config.extProc,
      host: args.host ?? config.extProc.host,
      port: args.port !== undefined ? Number(args.port) : config.extProc.port,
    }),
    tls: config.extProc.tls,
    transport: selectTransport(config.extProc.transport),
    maxMessageBytes: config.envoy.maxRequestBytes,
    limits: config.extProc.limits,
    observer: combineObservers(metricsObserver(metrics), ...observers, config.logging.accessLog ? { finished: accessLogger(log) } : {}),
    onStream: () => streams.inc(),
  };
}

async function localPlane(loaded: LoadedConfig, metrics: Metrics, log: ReturnType<typeof createLogger>, observers: RequestObserver[]): Promise<Plane> {
  const plane = await DataPlane.start(loaded, builtinPlugins, log, serverOptions(loaded, metrics, log, observers));
  return {
    port: plane.server.port,
    prepare: async (next) => void (await plane.prepare(next)),
    commit: async () => void plane.commit(loaded.config.extProc.shutdownGraceMs),
    abort: () => plane.abort(),
    shutdown: (graceMs, delayMs) => plane.shutdown(graceMs, delayMs),
    metrics: async () => (await metrics.registry.metrics()) + (await pluginRegistry.metrics()),
    metricsJson: () => metrics.registry.getMetricsAsJSON(),
    setLogLevel: () => {},
  };
}

async function workerPlane(size: number, loaded: LoadedConfig, metrics: Metrics, log: ReturnType<typeof createLogger>, observers: RequestObserver[]): Promise<Plane> {
  removeStaleSocket(serverOptions(loaded, metrics, log).listen);
  const pool = await WorkerPool.start(size, log);
  const observer = combineObservers(...observers);
  pool.onFinished = (summary) => observer.finished?.(summary);
  let preparedHash = '';
  return {
    get port() {
      return pool.port;
    },
    prepare: async (next) => {
      preparedHash = next.hash;
      await pool.prepare(preparedHash);
    },
    commit: () => pool.commit(),
    abort: () => pool.abort(),
    shutdown: (graceMs, delayMs) => pool.shutdown(graceMs, delayMs),
    // The primary's own metrics are the config's; streams and process metrics are the workers', summed.
    metrics: async () => {
      const own = await Promise.all(CONFIG_METRICS.map((name) => metrics.registry.getSingleMetricAsString(name)));
      return `${own.join('\n')}\n${await (await pool.metrics()).metrics()}`;
    },
    metricsJson: async () => [...(await metrics.registry.getMetricsAsJSON()).filter((m) => (CONFIG_METRICS as readonly string[]).includes(m.name)), ...(await (await pool.metrics()).getMetricsAsJSON())],
    setLogLevel: (level, source) => pool.setLogLevel(level, source),
  };
}

/** A consumer-limits instance without its Redis store (its state is per process). */
function inMemoryLimits(config: LoadedConfig['config']): boolean {
  const instances = [...config.plugins, ...Object.values(config.models).flatMap((m) => m.plugins)];
  return instances.some((p) => p.type === 'consumer-limits' && (p.options as { redis?: unknown } | undefined)?.redis === undefined);
}

/** A worker process: serves streams and follows the primary (cluster/worker.ts). */
async function runWorker(loaded: LoadedConfig): Promise<void> {
  process.setSourceMapsEnabled(false);
  const log = createLogger(loaded.config.logging.level, stdoutDestination());
  const metrics = createMetrics();
  const plane = await DataPlane.start(loaded, builtinPlugins, log, serverOptions(loaded, metrics, log, [forwardingObserver()]));
  followPrimary({ plane, metrics: [metrics.registry, pluginRegistry], log, logLevel: new LogLevelControl(log), load: loadConfig, graceMs: loaded.config.extProc.shutdownGraceMs });
}

async function main(): Promise<void> {
  const loaded = await loadConfig();
  // tsx turns source maps on. Node builds an Error for every ext_proc stream Envoy resets and
  // reads its stack, so mapping stacks cost ~5% of the CPU in the bench profile.
  // GATEWAY_SOURCE_MAPS=1 keeps TypeScript line numbers in stack traces, for debugging.
  if (process.env.GATEWAY_SOURCE_MAPS !== '1') process.setSourceMapsEnabled(false);
  if (cluster.isWorker) return runWorker(loaded);
  const { config } = loaded;
  const log = createLogger(config.logging.level, stdoutDestination());
  let current = loaded;
  let draining = false;
  const metrics = createMetrics();
  const workers = extProcWorkers(config);
  let plane: Plane | undefined;
  const logLevel = new LogLevelControl(log, (level, source) => plane?.setLogLevel(level, source));
  const xds = args['envoy-xds-dir']
    ? new XdsPublisher({
        dir: resolve(args['envoy-xds-dir']),
        adminUrl: args['envoy-admin'] ?? `http://${config.envoy.admin.host}:${config.envoy.admin.port}`,
        log,
      })
    : undefined;
  await xds?.init(config);
  metrics.configInfo.set({ hash: loaded.hash }, 1);
  metrics.configLastReloadSuccessful.set(1);
  metrics.configLastReloadSuccessTimestamp.setToCurrentTime();

  const httpHost = args['http-host'] ?? config.extProc.http.host;
  const adminUrl = args['envoy-admin'] ?? `http://${config.envoy.admin.host}:${config.envoy.admin.port}`;
  const gatewayConsole = createConsole({
    metrics: () => plane?.metricsJson() ?? metrics.registry.getMetricsAsJSON(),
    log,
    boundHost: httpHost,
    envoyAdminUrl: adminUrl,
    configPath,
    config: () => current.config,
    initial: { hash: loaded.hash, text: loaded.text ?? '' },
    reload: () => reloader.trigger('signal'),
    consumerLimits: describeConsumerLimits,
  });
  const recentTraffic = new RecentTraffic();
  // With workers, these two learn of requests through the workers' forwarding observer.
  const observers = [gatewayConsole.observer, recentTraffic.observer()];

  if (workers > 1 && inMemoryLimits(config)) {
    log.warn({ workers }, 'consumer-limits keeps its counters in memory, per process: each of the workers grants the full limits; use its Redis store (docs/limits.md)');
  }
  const streams: Plane = workers > 1 ? await workerPlane(workers, loaded, metrics, log, observers) : await localPlane(loaded, metrics, log, observers);
  plane = streams;
  const status = await startStatusServer({
    host: httpHost,
    port: args['http-port'] !== undefined ? Number(args['http-port']) : config.extProc.http.port,
    log,
    ready: () => !draining,
    routes: {
      'GET /metrics': async (_req, res) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await streams.metrics());
      },
      ...logLevel.routes(),
      ...gatewayConsole.routes,
    },
  });
  log.info({ grpcPort: streams.port, httpPort: status.port, workers, config: configPath, configHash: loaded.hash }, 'ext-proc ready');

  const shutdown = async (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal }, 'signal received');
    reloader.close();
    gatewayConsole.close();
    await streams.shutdown(config.extProc.shutdownGraceMs, config.extProc.shutdownDelayMs);
    await status.close();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGUSR2', () => logLevel.toggleDebug());
  const reloader = new ConfigReloader({
    path: configPath,
    log,
    currentHash: () => current.hash,
    apply: async (raw, source) => {
      const next = withHostMap(raw, hostMap);
      await streams.prepare(next);
      try {
        // Envoy first learns the clusters and routes the new config may route to.
        await xds?.prepare(current.config, next.config);
      } catch (err) {
        await streams.abort();
        throw err;
      }
      const previous = current;
      await streams.commit();
      current = next;
      await xds?.commit(next.config);
      warnAboutRestartOnlyChanges(previous.config, next.config, log, { envoyDynamic: xds !== undefined });
      recentTraffic.warnAboutRemovals(previous.config, next.config, log);
      logLevel.configChanged(next.config.logging.level);
      metrics.configInfo.reset();
      metrics.configInfo.set({ hash: next.hash }, 1);
      gatewayConsole.configLoaded(raw, source);
    },
    onResult: (result, source, error) => {
      gatewayConsole.reloadResult(result, source, error);
      // The file is back to the config in force (e.g. a bad edit undone): nothing is pending.
      metrics.configLastReloadSuccessful.set(result === 'failure' ? 0 : 1);
      if (result === 'unchanged') return;
      metrics.configReloads.inc({ result });
      if (result === 'success') metrics.configLastReloadSuccessTimestamp.setToCurrentTime();
    },
  }).watch();
  process.on('SIGHUP', () => void reloader.trigger('signal'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`ext-proc: ${err.message}\n`);
  } else {
    process.stderr.write(`ext-proc: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
});
