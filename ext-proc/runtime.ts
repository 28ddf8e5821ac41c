import type { Logger } from 'pino';
import type { ConfiguredChains, ConfiguredPlugin, ModelCatalog, ModelInfo, PluginHost, Protocol } from '../plugins/sdk/types.js';
import { ConfigError, formatIssues, type LoadedConfig } from './config/load.js';
import { clusterName, fallbackClusterName, type GatewayConfig, type PluginInstanceConfig } from './config/schema.js';
import { appliesTo, type Chains, type PluginInstance } from './pipeline/chain.js';
import { withRoutingStep } from './routing/place.js';
import { pluginMetrics } from './plugin-metrics.js';
import type { PluginRegistry } from './registry.js';
import { dirname } from 'node:path';

/** Every protocol a request can have (undefined: a path of none), each with its chains filtered once per config. */
const PROTOCOLS = [undefined, 'openai', 'kserve-v2', 'tfserving'] as const;
const NO_PLUGINS: readonly PluginInstance[] = Object.freeze([]);

/**
 * Everything derived from one config generation. Streams capture the runtime current when
 * they start, so a reload never changes a request half-way through.
 */
export interface Runtime extends Chains {
  readonly config: GatewayConfig;
  readonly hash: string;
  readonly catalog: ModelCatalog;
  /** The global chain as configured (tracing first when on). */
  readonly globalChain: readonly PluginInstance[];
  /** Envoy's cluster for a version, or for the version-then-fallback pair; undefined when unknown. */
  cluster(model: string, version: string, fallback?: string): string | undefined;
  close(): Promise<void>;
}

function buildCatalog(config: GatewayConfig): ModelCatalog {
  const models = new Map<string, ModelInfo>();
  for (const [name, m] of Object.entries(config.models)) {
    models.set(
      name,
      Object.freeze({
        name,
        protocol: m.protocol,
        versions: Object.freeze(Object.keys(m.versions)),
        aliases: Object.freeze({ ...m.aliases }),
        defaultVersion: m.defaultVersion ?? (Object.keys(m.versions)[0] as string),
        traffic: Object.freeze({ ...m.traffic }),
        endpoints: Object.freeze(Object.fromEntries(Object.entries(m.versions).map(([v, c]) => [v, Object.freeze([...c.endpoints])]))),
      }),
    );
  }
  const names = Object.freeze([...models.keys()]);
  return { get: (name) => models.get(name), names: () => names };
}

function configuredChains(config: GatewayConfig): ConfiguredChains {
  const list = (instances: readonly PluginInstanceConfig[]): readonly ConfiguredPlugin[] =>
    Object.freeze(instances.map((i) => Object.freeze({ type: i.type, name: i.name ?? i.type, options: i.options })));
  return Object.freeze({
    global: list(config.plugins),
    models: Object.freeze(Object.fromEntries(Object.entries(config.models).map(([name, m]) => [name, list(m.plugins)]))),
  });
}

async function buildChain(
  instances: readonly PluginInstanceConfig[],
  where: string,
  registry: PluginRegistry,
  host: Omit<PluginHost, 'name' | 'log' | 'modelChain'>,
  modelChain: string | undefined,
  log: Logger,
  /** Every instance set up so far, so a later failure can close them all. */
  built: PluginInstance[],
): Promise<PluginInstance[]> {
  const chain: PluginInstance[] = [];
  const seen = new Set<string>();
  for (const [i, inst] of instances.entries()) {
    const name = inst.name ?? inst.type;
    const label = `${where}[${i}] (${name})`;
    if (seen.has(name)) throw new ConfigError(`${label}: duplicate plugin instance name "${name}"; give each a distinct name`);
    seen.add(name);
    const def = registry.get(inst.type);
    if (!def) {
      throw new ConfigError(`${label}.type: unknown plugin type "${inst.type}" (known: ${registry.types().join(', ')})`);
    }
    const parsed = def.options.safeParse(inst.options ?? {});
    if (!parsed.success) throw new ConfigError(`invalid plugin options:\n${formatIssues(parsed.error.issues, `${label}.options`)}`);
    let hooks;
    try {
      hooks = await def.setup(parsed.data, { ...host, name, log: log.child({ plugin: name }), modelChain });
    } catch (err) {
      throw new ConfigError(`${label}: setup failed: ${(err as Error).message}`);
    }
    const instance: PluginInstance = {
      name,
      type: inst.type,
      hooks,
      timeoutMs: inst.timeoutMs,
      failOpen: inst.failOpen,
      protocols: def.protocols ? new Set(def.protocols) : undefined,
    };
    built.push(instance);
    chain.push(instance);
  }
  return chain;
}

export async function buildRuntime(loaded: LoadedConfig, registry: PluginRegistry, log: Logger): Promise<Runtime> {
  const { config } = loaded;
  const catalog = buildCatalog(config);
  const host = { models: catalog, configDir: dirname(loaded.path), chains: configuredChains(config), metrics: pluginMetrics };
  const built: PluginInstance[] = [];
  const closeAll = async () => {
    await Promise.allSettled(built.map(async (p) => p.hooks.close?.()));
  };
  try {
    const globalChain = await buildChain(config.plugins, 'plugins', registry, host, undefined, log, built);
    // Tracing runs first so its span covers the whole chain and upstreams see its traceparent.
    // The OpenTelemetry SDK is loaded only when tracing is on (it is ~10 MB of heap otherwise wasted).
    const tracing = config.tracing.otlp ? (await import('./tracing.js')).tracingInstance(config.tracing, log) : undefined;
    if (tracing) {
      globalChain.unshift(tracing);
      built.push(tracing);
    }
    const modelChains = new Map<string, PluginInstance[]>();
    for (const [model, m] of Object.entries(config.models)) {
      modelChains.set(model, await buildChain(m.plugins, `models.${model}.plugins`, registry, host, model, log, built));
    }
    // Filtered once per config, not per request.
    const routed = withRoutingStep(globalChain, config.plugins);
    const byProtocol = new Map<Protocol | undefined, readonly PluginInstance[]>();
    const modelsByProtocol = new Map<Protocol | undefined, ReadonlyMap<string, readonly PluginInstance[]>>();
    for (const protocol of PROTOCOLS) {
      byProtocol.set(protocol, Object.freeze(routed.filter((p) => appliesTo(p, protocol))));
      modelsByProtocol.set(protocol, new Map([...modelChains].map(([model, chain]) => [model, Object.freeze(chain.filter((p) => appliesTo(p, protocol)))])));
    }
    const clusters = clusterNames(config);
    return {
      config,
      hash: loaded.hash,
      catalog,
      globalChain,
      requestChain: (protocol) => byProtocol.get(protocol) as readonly PluginInstance[],
      modelChains,
      modelChain: (model, protocol) => modelsByProtocol.get(protocol)?.get(model) ?? NO_PLUGINS,
      cluster: (model, version, fallback) => {
        const names = clusters.get(model)?.get(version);
        if (names === undefined) return undefined;
        return fallback === undefined || fallback === version ? names.cluster : names.withFallback.get(fallback);
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** A version's Envoy cluster, and the cluster of it with each other version as its fallback. */
interface VersionClusters {
  readonly cluster: string;
  readonly withFallback: ReadonlyMap<string, string>;
}

/** Every cluster name a request can be sent to, made once per config (not a string per request). */
function clusterNames(config: GatewayConfig): ReadonlyMap<string, ReadonlyMap<string, VersionClusters>> {
  const models = new Map<string, ReadonlyMap<string, VersionClusters>>();
  for (const [model, { versions }] of Object.entries(config.models)) {
    const names = Object.keys(versions);
    const byVersion = new Map<string, VersionClusters>();
    for (const version of names) {
      const withFallback = new Map(names.filter((f) => f !== version).map((f) => [f, fallbackClusterName(model, version, f)]));
      byVersion.set(version, { cluster: clusterName(model, version), withFallback });
    }
    models.set(model, byVersion);
  }
  return models;
}
