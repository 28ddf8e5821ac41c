import { isDeepStrictEqual, parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { builtinPlugins } from '../plugins/index.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { ConfigReloader } from './config/reload.js';
import { warnAboutRestartOnlyChanges } from './config/restart-only.js';
import { startStatusServer } from './http-status.js';
import { createLogger, stdoutDestination } from './logger.js';
import { LogLevelControl } from './log-level.js';
import { createMetrics } from './metrics.js';
import { accessLogger, combineObservers, metricsObserver } from './observe.js';
import { XdsPublisher } from './envoy-xds.js';
import { parseHostMap, withHostMap } from './config/host-map.js';
import { createRegistry } from './registry.js';
import { buildRuntime, type Runtime } from './runtime.js';
import { startExtProcServer } from './server.js';
import { listenAddress, selectTransport } from './transport/select.js';

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

async function main(): Promise<void> {
  const configPath = resolve(args.config as string);
  const hostMap = parseHostMap(args['host-map'] ?? []);
  const loaded = withHostMap(await loadConfigFile(configPath), hostMap);
  const { config } = loaded;
  // tsx turns source maps on. Node builds an Error for every ext_proc stream Envoy resets (all
  // of them) and reads its stack, so mapping stacks cost ~5% of the CPU in the bench profile.
  // GATEWAY_SOURCE_MAPS=1 keeps TypeScript line numbers in stack traces, for debugging.
  if (process.env.GATEWAY_SOURCE_MAPS !== '1') process.setSourceMapsEnabled(false);
  const log = createLogger(config.logging.level, stdoutDestination());
  let registry = await createRegistry(builtinPlugins, config.pluginSources, resolve(configPath, '..'));
  let runtime: Runtime = await buildRuntime(loaded, registry, log);
  let draining = false;
  const metrics = createMetrics();
  const logLevel = new LogLevelControl(log);
  const xds = args['envoy-xds-dir']
    ? new XdsPublisher({
        dir: resolve(args['envoy-xds-dir']),
        adminUrl: args['envoy-admin'] ?? `http://${config.envoy.admin.host}:${config.envoy.admin.port}`,
        log,
      })
    : undefined;
  await xds?.init(config);
  metrics.configInfo.set({ hash: runtime.hash }, 1);
  metrics.configLastReloadSuccessful.set(1);
  metrics.configLastReloadSuccessTimestamp.setToCurrentTime();

  const grpcServer = await startExtProcServer({
    listen: listenAddress({
      ...config.extProc,
      host: args.host ?? config.extProc.host,
      port: args.port !== undefined ? Number(args.port) : config.extProc.port,
    }),
    tls: config.extProc.tls,
    transport: selectTransport(config.extProc.transport),
    maxMessageBytes: config.envoy.maxRequestBytes,
    log,
    runtime: () => runtime,
    observer: combineObservers(metricsObserver(metrics), config.logging.accessLog ? { finished: accessLogger(log) } : {}),
  });
  const status = await startStatusServer({
    host: args['http-host'] ?? config.extProc.http.host,
    port: args['http-port'] !== undefined ? Number(args['http-port']) : config.extProc.http.port,
    log,
    ready: () => !draining,
    routes: {
      'GET /metrics': async (_req, res) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
      },
      ...logLevel.routes(),
    },
  });
  log.info({ grpcPort: grpcServer.port, httpPort: status.port, config: configPath, configHash: runtime.hash }, 'ext-proc ready');

  const shutdown = async (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal }, 'signal received');
    reloader.close();
    await grpcServer.shutdown(config.extProc.shutdownGraceMs, config.extProc.shutdownDelayMs);
    await runtime.close();
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
    currentHash: () => runtime.hash,
    apply: async (next) => {
      // New plugin sources load now; a module already loaded keeps its code (ESM modules are
      // cached for the life of the process), so editing a plugin's code still needs a restart.
      const nextRegistry = isDeepStrictEqual(next.config.pluginSources, runtime.config.pluginSources)
        ? registry
        : await createRegistry(builtinPlugins, next.config.pluginSources, resolve(configPath, '..'));
      const nextRuntime = await buildRuntime(withHostMap(next, hostMap), nextRegistry, log);
      try {
        // Envoy first learns the clusters and routes the new config may route to.
        await xds?.prepare(runtime.config, nextRuntime.config);
      } catch (err) {
        await nextRuntime.close();
        throw err;
      }
      const previous = runtime;
      runtime = nextRuntime;
      registry = nextRegistry;
      await xds?.commit(nextRuntime.config);
      warnAboutRestartOnlyChanges(previous.config, nextRuntime.config, log, { envoyDynamic: xds !== undefined });
      logLevel.configChanged(nextRuntime.config.logging.level);
      metrics.configInfo.reset();
      metrics.configInfo.set({ hash: nextRuntime.hash }, 1);
      // Streams that started on the old runtime keep their plugins until they end.
      setTimeout(() => void previous.close(), config.extProc.shutdownGraceMs).unref();
    },
    onResult: (result) => {
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
